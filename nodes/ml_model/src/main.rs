//! ML_MODEL_NODE: proposes a model for every task (see the crate docs).
//! Run it inside `scripts/isolated`.
use std::process::ExitCode;

use clap::Parser;

use sustainml_ml_model::{configure, files, fill, propose, request, Graphs};
use sustainml_node::{logging, ml_model, NodeArgs, TaskError};

/// The SustainML ML_MODEL_NODE: proposes a model for each task from the shipped
/// catalogue.
///
/// Stop it with Ctrl-C or SIGTERM. Each flag can also be set by the environment
/// variable shown beside it; the flag wins.
#[derive(Debug, Parser)]
#[command(name = "sustainml-ml-model", version)]
struct Cli {
    #[command(flatten)]
    node: NodeArgs,
}

fn main() -> ExitCode {
    let options = Cli::parse().node.options_or_exit::<Cli>();
    logging::init(Some("ML_MODEL_NODE"));
    let catalogue = match files::shipped_catalogue() {
        Ok(c) => std::sync::Arc::new(c),
        Err(e) => {
            eprintln!("ML_MODEL_NODE: {e}");
            return ExitCode::FAILURE;
        }
    };
    let graphs = match Graphs::open_default() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("ML_MODEL_NODE: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(graphs = graphs.names().len(), "runnable model graphs");
    let for_config = catalogue.clone();
    let node = ml_model()
        .options(options)
        .on_configuration(move |query| configure(&for_config, query))
        .callback(
            move |(meta, app, hw, base_model, _base_hw, base_co2), ctx, out| {
                let req =
                    request(&meta, &app, &hw, &base_model, &base_co2).map_err(TaskError::new)?;
                let outcome = propose(&catalogue, &req).map_err(TaskError::new)?;
                fill(&outcome, &app, &graphs, out).map_err(|e| TaskError::new(e.to_string()))?;
                ctx.set_message(format!("proposed {}", out.model));
                Ok(())
            },
        );
    match node.run_blocking() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ML_MODEL_NODE: {e}");
            ExitCode::FAILURE
        }
    }
}
