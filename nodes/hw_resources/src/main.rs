//! HW_RESOURCES_NODE: runs [`sustainml_hw_resources::evaluate`] for every task.
//! Run it inside `scripts/isolated`.
use std::process::ExitCode;

use clap::Parser;

use sustainml_hw_resources::{configure, evaluate, RUNS};
use sustainml_node::{hw_resources, logging, NodeArgs, TaskError};

/// The SustainML HW_RESOURCES_NODE: runs or estimates each task's proposed model on the
/// required device.
///
/// Stop it with Ctrl-C or SIGTERM. Each flag can also be set by the environment
/// variable shown beside it; the flag wins.
#[derive(Debug, Parser)]
#[command(name = "sustainml-hw-resources", version)]
struct Cli {
    #[command(flatten)]
    node: NodeArgs,
}

fn main() -> ExitCode {
    let options = Cli::parse().node.options_or_exit::<Cli>();
    logging::init(Some("HW_RESOURCES_NODE"));
    let node = hw_resources()
        .options(options)
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
