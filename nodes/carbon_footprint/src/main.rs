//! CARBON_FOOTPRINT_NODE: runs [`sustainml_carbon_footprint::estimate`] for every task.
//! Run it inside `scripts/isolated`.
use std::process::ExitCode;

use sustainml_carbon_footprint::{configure, estimate};
use sustainml_node::{carbon_footprint, logging, TaskError};

fn main() -> ExitCode {
    logging::init(Some("CARBON_FOOTPRINT_NODE"));
    let node =
        carbon_footprint()
            .on_configuration(configure)
            .callback(|(model, user, hw), ctx, out| {
                *out = estimate(&model, &user, &hw).map_err(|e| TaskError::new(e.to_string()))?;
                ctx.set_message(format!(
                    "{:.3e} kgCO2e at {} gCO2e/kWh",
                    out.carbon_footprint, out.carbon_intensity
                ));
                Ok(())
            });
    match node.run_blocking() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("CARBON_FOOTPRINT_NODE: {e}");
            ExitCode::FAILURE
        }
    }
}
