//! HW_CONSTRAINTS_NODE: runs [`sustainml_hw_constraints::constraints`] for every task.
//! Run it inside `scripts/isolated`.
use std::process::ExitCode;

use clap::Parser;

use sustainml_hw_constraints::{configure, constraints};
use sustainml_node::{hw_constraints, logging, NodeArgs, TaskError};

/// The SustainML HW_CONSTRAINTS_NODE: derives each task's hardware constraints (memory,
/// devices) from the user input.
///
/// Stop it with Ctrl-C or SIGTERM. Each flag can also be set by the environment
/// variable shown beside it; the flag wins.
#[derive(Debug, Parser)]
#[command(name = "sustainml-hw-constraints", version)]
struct Cli {
    #[command(flatten)]
    node: NodeArgs,
}

fn main() -> ExitCode {
    let options = Cli::parse().node.options_or_exit::<Cli>();
    logging::init(Some("HW_CONSTRAINTS_NODE"));
    let node = hw_constraints()
        .options(options)
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
