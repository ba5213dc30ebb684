//! ML_MODEL_METADATA_NODE: runs [`sustainml_ml_model_metadata::metadata`] for every
//! task. Run it inside `scripts/isolated`.
use std::process::ExitCode;

use sustainml_ml_model_metadata::{configure, metadata};
use sustainml_node::{logging, ml_model_metadata, TaskError};

fn main() -> ExitCode {
    logging::init(Some("ML_MODEL_METADATA_NODE"));
    let node = ml_model_metadata()
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
