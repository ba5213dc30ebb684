//! Your own node: APP_REQUIREMENTS under its own name. See README "Write a node".
use sustainml_node::{app_requirements, logging, NodeError};

fn main() -> Result<(), NodeError> {
    logging::init(Some("MY_REQUIREMENTS_NODE"));
    app_requirements()
        .name("MY_REQUIREMENTS_NODE")?
        .callback(|(input,), ctx, out| {
            if input.problem_definition.contains("on-device") {
                out.app_requirements.push("on-device".into());
            }
            ctx.set_message(format!("{} requirements", out.app_requirements.len()));
            Ok(())
        })
        .run_blocking()
}
