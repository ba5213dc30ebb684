//! A complete custom node: APP_REQUIREMENTS from the user's extra_data JSON.
//! Run it inside scripts/isolated: `cargo run -p sustainml-node --example custom_node`
use sustainml_node::{app_requirements, logging, TaskError};

fn main() -> Result<(), sustainml_node::NodeError> {
    logging::init(Some("APP_REQUIREMENTS_NODE"));
    app_requirements()
        .on_configuration(|request| Ok(format!(r#"{{"received":{request:?}}}"#)))
        .callback(|(input,), ctx, out| {
            let extra: serde_json::Value = match input.extra_data.as_slice() {
                [] => serde_json::Value::Null,
                bytes => serde_json::from_slice(bytes)
                    .map_err(|e| TaskError::new(format!("extra_data is not JSON: {e}")))?,
            };
            if let Some(ms) = extra.get("max_latency_ms").and_then(|v| v.as_f64()) {
                out.app_requirements.push(format!("latency <= {ms} ms"));
            }
            if input.problem_definition.contains("on-device") {
                out.app_requirements.push("on-device".into());
            }
            ctx.set_message(format!("{} requirements", out.app_requirements.len()));
            Ok(())
        })
        .run_blocking()
}
