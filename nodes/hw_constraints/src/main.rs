//! HW_CONSTRAINTS_NODE: runs [`sustainml_hw_constraints::constraints`] for every task.
//! Run it inside `scripts/isolated`.
use std::process::ExitCode;

use sustainml_hw_constraints::{configure, constraints};
use sustainml_node::{hw_constraints, logging, TaskError};

fn main() -> ExitCode {
    logging::init(Some("HW_CONSTRAINTS_NODE"));
    let node = hw_constraints()
        .on_configuration(configure)
        .callback(|(user,), ctx, out| {
            *out = constraints(&user).map_err(|e| TaskError::new(e.to_string()))?;
            ctx.set_message(format!(
                "{} MB on {}",
                out.max_memory_footprint,
                out.hardware_required.join(", ")
            ));
            Ok(())
        });
    match node.run_blocking() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("HW_CONSTRAINTS_NODE: {e}");
            ExitCode::FAILURE
        }
    }
}
