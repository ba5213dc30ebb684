//! ML_MODEL_METADATA_NODE: runs [`sustainml_ml_model_metadata::metadata`] for every
//! task. Run it inside `scripts/isolated`.
use std::process::ExitCode;

use clap::Parser;

use sustainml_ml_model_metadata::{configure, metadata};
use sustainml_node::{logging, ml_model_metadata, NodeArgs, TaskError};

/// The SustainML ML_MODEL_METADATA_NODE: derives each task's ML goal and keywords from
/// the problem description.
///
/// Stop it with Ctrl-C or SIGTERM. Each flag can also be set by the environment
/// variable shown beside it; the flag wins.
#[derive(Debug, Parser)]
#[command(name = "sustainml-ml-model-metadata", version)]
struct Cli {
    #[command(flatten)]
    node: NodeArgs,
}

fn main() -> ExitCode {
    let options = Cli::parse().node.options_or_exit::<Cli>();
    logging::init(Some("ML_MODEL_METADATA_NODE"));
    let node = ml_model_metadata()
        .options(options)
        .on_configuration(configure)
        .callback(|(user,), ctx, out| {
            *out = metadata(&user).map_err(|e| TaskError::new(e.to_string()))?;
            ctx.set_message(match out.ml_model_metadata.first() {
                Some(goal) => format!("goal {goal} (keywords: {})", out.keywords.join(", ")),
                None => "model selected by the user: no goal".to_owned(),
            });
            Ok(())
        });
    match node.run_blocking() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ML_MODEL_METADATA_NODE: {e}");
            ExitCode::FAILURE
        }
    }
}
