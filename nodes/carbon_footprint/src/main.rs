//! CARBON_FOOTPRINT_NODE: runs [`sustainml_carbon_footprint::estimate`] for every task.
//! Run it inside `scripts/isolated`.
use std::process::ExitCode;

use clap::Parser;

use sustainml_carbon_footprint::{configure, estimate};
use sustainml_node::{carbon_footprint, logging, NodeArgs, TaskError};

/// The SustainML CARBON_FOOTPRINT_NODE: estimates each task's carbon footprint from the
/// proposed model, the user input and the measured hardware resources.
///
/// Stop it with Ctrl-C or SIGTERM. Each flag can also be set by the environment
/// variable shown beside it; the flag wins.
#[derive(Debug, Parser)]
#[command(name = "sustainml-carbon-footprint", version)]
struct Cli {
    #[command(flatten)]
    node: NodeArgs,
}

fn main() -> ExitCode {
    let options = Cli::parse().node.options_or_exit::<Cli>();
    logging::init(Some("CARBON_FOOTPRINT_NODE"));
    let node = carbon_footprint()
        .options(options)
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
