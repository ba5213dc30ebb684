//! APP_REQUIREMENTS_NODE: runs [`sustainml_app_requirements::requirements`] for every
//! task. Run it inside `scripts/isolated`.
use std::process::ExitCode;

use sustainml_app_requirements::{configure, requirements};
use sustainml_node::{app_requirements, logging, TaskError};

fn main() -> ExitCode {
    logging::init(Some("APP_REQUIREMENTS_NODE"));
    let node = app_requirements()
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
