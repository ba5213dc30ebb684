//! `sustainml config get|set`: the SustainML configuration service, spoken directly
//! over DDS (`sustainml/request` and `sustainml/response`, see
//! [`sustainml_dds::Requester`]), so it works without an orchestrator.
//!
//! A node is named liberally: `ml_model`, `ML_MODEL_NODE`, `ml-model`, `Ml-Model-Node`
//! or its `NodeID` number (`5`). `get` sends a query (`hardwares` to HW_RESOURCES,
//! `modality` to ML_MODEL_METADATA…) and prints the node's answer, pretty if it is
//! JSON; `set` checks that its argument is JSON before sending it.
//!
//! Exit codes: 0 the node answered with success; 1 the node refused
//! (`success = false` or an error code), or nobody answered within `--timeout`; 2 an
//! unknown node or JSON that does not parse.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{json, Value};
use sustainml_dds::{Requester, RpcError};
use sustainml_types::{ErrorCode, NodeId, ResponseTypeImpl};

use crate::{participant, runtime, seconds, UsageError};

/// The configuration commands.
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Ask a node a configuration query and print its answer.
    ///
    /// NODE is a node name (app_requirements, ML_MODEL_NODE, ml-model…) or its
    /// NodeID number (0 app_requirements, 1 carbon_footprint, 2 hw_constraints,
    /// 3 hw_resources, 4 ml_model_metadata, 5 ml_model). Exit 1 when the node refuses
    /// (success = false or an error code) or does not answer within --timeout; 2 for
    /// an unknown node.
    Get {
        /// The node: a name (case and `_NODE` do not matter) or a NodeID number.
        node: String,
        /// The query, e.g. `hardwares` (hw_resources) or `modality`
        /// (ml_model_metadata).
        query: String,
        #[command(flatten)]
        options: ConfigArgs,
    },
    /// Send a node a JSON configuration and print its answer.
    ///
    /// Exit 2 when JSON does not parse (naming the line and column) or the node is
    /// unknown; 1 when the node refuses or does not answer within --timeout.
    Set {
        /// The node: a name (case and `_NODE` do not matter) or a NodeID number.
        node: String,
        /// The configuration, a JSON document (`-` reads it from stdin).
        #[arg(value_name = "JSON")]
        configuration: String,
        #[command(flatten)]
        options: ConfigArgs,
    },
}

/// Options of both configuration commands.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Seconds to wait for the node's answer (finding the node included).
    #[arg(long, value_name = "S", default_value_t = 5.0)]
    timeout: f64,
    /// Print the whole response as JSON {node, node_id, transaction_id, success,
    /// err_code, configuration}.
    #[arg(long)]
    json: bool,
}

/// Runs a configuration command.
pub fn run(command: ConfigCommand) -> Result<ExitCode> {
    let (node, text, options) = match command {
        ConfigCommand::Get {
            node,
            query,
            options,
        } => (parse_node(&node)?, query, options),
        ConfigCommand::Set {
            node,
            configuration,
            options,
        } => {
            let node = parse_node(&node)?;
            (node, checked_json(configuration)?, options)
        }
    };
    let timeout = seconds("timeout", options.timeout)?;
    let participant = participant()?;
    let domain = participant.domain();
    let response = runtime()?.block_on(async {
        let requester = Requester::new(&participant).context("opening the request writer")?;
        requester
            .request(node.value(), text, timeout)
            .await
            .map_err(|e| no_answer(e, node, domain))
    })?;
    print(node, &response, options.json);
    if response.success && response.err_code == ErrorCode::NoError {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "sustainml: {} refused the request (success = {}, {})",
            node.node_name(),
            response.success,
            response.err_code
        );
        Ok(ExitCode::FAILURE)
    }
}

/// The node a user named, or a usage error listing the known ones.
pub fn parse_node(name: &str) -> Result<NodeId, UsageError> {
    let known = || {
        NodeId::MODULES
            .iter()
            .map(|n| format!("{} ({})", n.rest_key().to_lowercase(), n.value()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let trimmed = name.trim();
    let node = match trimmed.parse::<i32>() {
        Ok(n) => NodeId::from_value(n),
        Err(_) => {
            let upper = trimmed.to_ascii_uppercase().replace(['-', ' '], "_");
            let key = upper.strip_suffix("_NODE").unwrap_or(&upper);
            NodeId::ALL.into_iter().find(|n| n.rest_key() == key)
        }
    };
    match node {
        Some(NodeId::Orchestrator) => Err(UsageError(format!(
            "`{name}` is the orchestrator, which has no configuration service; the nodes are: {}",
            known()
        ))),
        Some(n) => Ok(n),
        None => Err(UsageError(format!(
            "unknown node `{name}`; the nodes are: {}",
            known()
        ))),
    }
}

/// The configuration for `set`, from the argument or stdin, once it parses as JSON.
fn checked_json(configuration: String) -> Result<String> {
    let text = if configuration == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| UsageError(format!("cannot read the configuration from stdin: {e}")))?;
        text
    } else {
        configuration
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(_) => Ok(text.trim().to_owned()),
        Err(e) => Err(UsageError(format!("the configuration is not valid JSON: {e}")).into()),
    }
}

fn no_answer(e: RpcError, node: NodeId, domain: u16) -> anyhow::Error {
    let name = node.node_name();
    let id = node.value();
    let secs = |t: Duration| t.as_secs_f64();
    match e {
        RpcError::NoService { timeout, .. } => anyhow::anyhow!(
            "no configuration service of {name} (node {id}) found on DDS domain {domain} within {} s; is the node running? (sustainml node list)",
            secs(timeout)
        ),
        RpcError::Timeout { timeout, .. } => anyhow::anyhow!(
            "{name} (node {id}) did not answer within {} s on DDS domain {domain}",
            secs(timeout)
        ),
        other => anyhow::Error::new(other)
            .context(format!("asking {name} (node {id}) on DDS domain {domain}")),
    }
}

/// Prints the answer: pretty JSON if it is JSON, else the text; or the whole
/// response as JSON.
fn print(node: NodeId, r: &ResponseTypeImpl, as_json: bool) {
    let parsed = serde_json::from_str::<Value>(&r.configuration).ok();
    if as_json {
        let configuration = parsed.unwrap_or_else(|| Value::String(r.configuration.clone()));
        let whole = json!({
            "node": node.node_name(),
            "node_id": r.node_id,
            "transaction_id": r.transaction_id,
            "success": r.success,
            "err_code": r.err_code.to_string(),
            "configuration": configuration,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&whole).unwrap_or_default()
        );
        return;
    }
    match parsed {
        Some(v) => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
        None => println!("{}", r.configuration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_named_liberally() {
        for name in [
            "ml_model",
            "ML_MODEL_NODE",
            "ml-model",
            "Ml-Model-Node",
            "5",
            " 5 ",
        ] {
            assert_eq!(parse_node(name).expect(name), NodeId::MlModel, "{name}");
        }
        assert_eq!(
            parse_node("hw-resources").expect("valid"),
            NodeId::HwResources
        );
        let e = parse_node("ml-modle").expect_err("unknown");
        assert!(
            e.0.contains("`ml-modle`") && e.0.contains("ml_model (5)"),
            "{e}"
        );
        assert!(parse_node("7")
            .expect_err("orchestrator")
            .0
            .contains("orchestrator"));
        assert!(parse_node("42").is_err());
    }

    #[test]
    fn set_needs_json_and_says_where_it_breaks() {
        assert_eq!(
            checked_json(" {\"a\": 1} ".into()).expect("valid"),
            "{\"a\": 1}"
        );
        let e = checked_json("{\"a\": }".into()).expect_err("bad");
        assert!(e.to_string().contains("line 1 column 7"), "{e}");
        assert!(e.downcast_ref::<UsageError>().is_some());
    }
}
