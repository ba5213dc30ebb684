//! HW_RESOURCES_NODE: runs [`sustainml_hw_resources::evaluate`] for every task.
//! Run it inside `scripts/isolated`.
use std::process::ExitCode;

use sustainml_hw_resources::{configure, evaluate, RUNS};
use sustainml_node::{hw_resources, logging, TaskError};

fn main() -> ExitCode {
    logging::init(Some("HW_RESOURCES_NODE"));
    let node = hw_resources()
        .on_configuration(configure)
        .callback(|(model, app, hw), ctx, out| {
            *out = evaluate(&model, &app, &hw, RUNS).map_err(TaskError::new)?;
            ctx.set_message(format!(
                "{}: {:.3} ms, {:.3} W",
                out.hw_description, out.latency, out.power_consumption
            ));
            Ok(())
        });
    match node.run_blocking() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("HW_RESOURCES_NODE: {e}");
            ExitCode::FAILURE
        }
    }
}
