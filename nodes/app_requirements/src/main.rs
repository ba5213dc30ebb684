//! APP_REQUIREMENTS_NODE: runs [`sustainml_app_requirements::requirements`] for every
//! task. Run it inside `scripts/isolated`.
use std::process::ExitCode;

use clap::Parser;

use sustainml_app_requirements::{configure, requirements};
use sustainml_node::{app_requirements, logging, NodeArgs, TaskError};

/// The SustainML APP_REQUIREMENTS_NODE: turns each task's user input into application
/// requirements.
///
/// Stop it with Ctrl-C or SIGTERM. Each flag can also be set by the environment
/// variable shown beside it; the flag wins.
#[derive(Debug, Parser)]
#[command(name = "sustainml-app-requirements", version)]
struct Cli {
    #[command(flatten)]
    node: NodeArgs,
}

fn main() -> ExitCode {
    let options = Cli::parse().node.options_or_exit::<Cli>();
    logging::init(Some("APP_REQUIREMENTS_NODE"));
    let node = app_requirements()
        .options(options)
        .on_configuration(configure)
        .callback(|(user,), ctx, out| {
            *out = requirements(&user).map_err(|e| TaskError::new(e.to_string()))?;
            ctx.set_message(format!(
                "{} requirements: {}",
                out.app_requirements.len(),
                out.app_requirements.join(", ")
            ));
            Ok(())
        });
    match node.run_blocking() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("APP_REQUIREMENTS_NODE: {e}");
            ExitCode::FAILURE
        }
    }
}
