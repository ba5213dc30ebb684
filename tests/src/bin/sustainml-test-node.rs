//! `sustainml-test-node`: a node of any reference kind with trivial, deterministic
//! callbacks and switches to misbehave, for the node runtime's cross-process tests
//! and benchmarks. Run it inside `scripts/isolated`.
//!
//! Outputs carry the task id in their strings, so a test can tell them apart; the
//! carbon node computes `carbon_footprint = power × latency` from its inputs.

use std::sync::OnceLock;
use std::time::Duration;

use clap::Parser;
use sustainml_node::types::*;
use sustainml_node::{logging, ConfigError, NodeKind, NodeOptions, TaskContext, TaskError};

#[derive(Parser, Clone)]
#[command(
    about = "A SustainML node with trivial callbacks, for tests (run inside scripts/isolated)"
)]
struct Args {
    /// app_requirements, hw_constraints, ml_model_metadata, ml_model, hw_resources,
    /// carbon_footprint, or `generic`: a CUSTOM_CARBON_NODE built with
    /// `sustainml_node::generic` from (UserInput, HWResource) to the carbon output topic.
    #[arg(long)]
    kind: String,
    /// Sleep a pseudo-random 0..=N ms in each callback.
    #[arg(long, default_value_t = 0)]
    delay_max_ms: u64,
    /// Sleep exactly N ms in each callback (added to the random delay).
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Fail the tasks of this problem id with an error.
    #[arg(long)]
    fail_problem: Option<u32>,
    /// Panic in the tasks of this problem id.
    #[arg(long)]
    panic_problem: Option<u32>,
    /// Never return (ignoring cancellation) for this problem id.
    #[arg(long)]
    hang_problem: Option<u32>,
    /// As ml_model: answer NO_MODEL (with a reason in extra_data, as the real node
    /// does) from this iteration on.
    #[arg(long)]
    no_model_from_iteration: Option<u32>,
    /// Use the async callback API instead of the sync one.
    #[arg(long)]
    use_async: bool,
    #[arg(long)]
    concurrency: Option<usize>,
    #[arg(long, default_value_t = 300_000)]
    input_timeout_ms: u64,
    #[arg(long, default_value_t = 600_000)]
    task_timeout_ms: u64,
    #[arg(long, default_value_t = 10_000)]
    max_pending: usize,
}

fn delay(args: &Args, task: TaskIdImpl) -> Duration {
    let fixed = Duration::from_millis(args.delay_ms);
    if args.delay_max_ms == 0 {
        return fixed;
    }
    let x = u64::from(task.problem_id).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    fixed + Duration::from_millis(x % (args.delay_max_ms + 1))
}

/// The misbehaviours, then the delay; shared by the sync and async paths.
fn misbehave(args: &Args, ctx: &TaskContext) -> Result<(), TaskError> {
    let p = ctx.task_id().problem_id;
    if args.fail_problem == Some(p) {
        return Err(TaskError::new(format!("refusing problem {p} on purpose")));
    }
    if args.panic_problem == Some(p) {
        panic!("panicking on problem {p} on purpose");
    }
    if args.hang_problem == Some(p) {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    Ok(())
}

fn tag(ctx: &TaskContext) -> String {
    format!("{}@{}", ctx.node_name(), ctx.task_id())
}

fn config(name: &'static str) -> impl Fn(&str) -> Result<String, ConfigError> + Send + Sync {
    move |request: &str| match request {
        "slow" => {
            std::thread::sleep(Duration::from_secs(3));
            Ok(r#"{"slow":true}"#.to_owned())
        }
        "invalid" => Ok("this is not JSON".to_owned()),
        "fail" => Err(ConfigError::new("asked to fail")),
        other => Ok(serde_json::json!({ "node": name, "request": other }).to_string()),
    }
}

/// Runs `builder` with `fill` as its sync or async callback.
macro_rules! node {
    ($args:expr, $options:expr, $builder:expr, $name:expr, $fill:path) => {{
        let args = $args.clone();
        let b = $builder.options($options).on_configuration(config($name));
        if $args.use_async {
            b.async_callback(move |inputs, mut ctx: TaskContext| {
                let args = args.clone();
                async move {
                    misbehave(&args, &ctx)?;
                    // A well-behaved async callback: its wait ends when the task is
                    // cancelled (a STOP_TASK or PREEMPT_TASK command).
                    tokio::select! {
                        _ = tokio::time::sleep(delay(&args, ctx.task_id())) => {}
                        _ = ctx.cancelled() => return Err(TaskError::new("cancelled")),
                    }
                    let mut out = Default::default();
                    $fill(inputs, &ctx, &mut out);
                    ctx.set_message("async");
                    Ok(out)
                }
            })
            .run_blocking()
        } else {
            b.callback(move |inputs, ctx, out| {
                misbehave(&args, ctx)?;
                std::thread::sleep(delay(&args, ctx.task_id()));
                $fill(inputs, ctx, out);
                Ok(())
            })
            .run_blocking()
        }
    }};
}

fn app((input,): (UserInputImpl,), ctx: &TaskContext, out: &mut AppRequirementsImpl) {
    out.app_requirements = vec![tag(ctx), input.modality];
}

fn constraints(_: (UserInputImpl,), ctx: &TaskContext, out: &mut HWConstraintsImpl) {
    out.max_memory_footprint = ctx.task_id().problem_id;
    out.hardware_required = vec![tag(ctx)];
}

fn metadata((input,): (UserInputImpl,), ctx: &TaskContext, out: &mut MLModelMetadataImpl) {
    out.keywords = vec![input.modality];
    out.ml_model_metadata = vec![tag(ctx)];
}

/// `--no-model-from-iteration`, for the `model` callback.
static NO_MODEL_FROM: OnceLock<u32> = OnceLock::new();

/// Proposes `ML_MODEL_NODE@task`, naming the baseline it got; or NO_MODEL.
fn model(inputs: sustainml_node::MlModelInputs, ctx: &TaskContext, out: &mut MLModelImpl) {
    let (metadata, _app, hw, baseline, _hw, _co2) = inputs;
    if NO_MODEL_FROM
        .get()
        .is_some_and(|from| ctx.task_id().iteration_id >= *from)
    {
        out.model = "NO_MODEL".into();
        out.extra_data = serde_json::json!({
            "error_code": "NO_MODEL",
            "error": format!("nothing smaller than {}", baseline.model),
        })
        .to_string()
        .into_bytes();
        return;
    }
    out.model = tag(ctx);
    out.model_properties = format!(
        "{:?} {:?} baseline={}",
        metadata.ml_model_metadata, hw.hardware_required, baseline.model
    );
}

fn resources(
    (model, _app, _hw): (MLModelImpl, AppRequirementsImpl, HWConstraintsImpl),
    ctx: &TaskContext,
    out: &mut HWResourceImpl,
) {
    out.hw_description = format!("{} for {}", tag(ctx), model.model);
    out.power_consumption = 10.0;
    out.latency = f64::from(ctx.task_id().problem_id);
}

fn carbon(
    (_model, _input, hw): (MLModelImpl, UserInputImpl, HWResourceImpl),
    ctx: &TaskContext,
    out: &mut CO2FootprintImpl,
) {
    out.carbon_footprint = hw.power_consumption * hw.latency;
    out.extra_data = tag(ctx).into_bytes();
}

fn custom_carbon(
    (input, hw): (UserInputImpl, HWResourceImpl),
    ctx: &TaskContext,
    out: &mut CO2FootprintImpl,
) {
    out.carbon_footprint = hw.power_consumption * hw.latency;
    out.extra_data = format!("{} in {}", tag(ctx), input.geo_location_region).into_bytes();
}

fn main() {
    let args = Args::parse();
    let mut options = NodeOptions::default()
        .input_timeout(Duration::from_millis(args.input_timeout_ms))
        .task_timeout(Duration::from_millis(args.task_timeout_ms))
        .max_pending(args.max_pending);
    if let Some(c) = args.concurrency {
        options = options.concurrency(c);
    }
    if let Some(from) = args.no_model_from_iteration {
        let _ = NO_MODEL_FROM.set(from);
    }
    if args.kind == "generic" {
        logging::init(Some("CUSTOM_CARBON_NODE"));
        let result = sustainml_node::generic::<(UserInputImpl, HWResourceImpl), CO2FootprintImpl>(
            "CUSTOM_CARBON_NODE",
            &[
                sustainml_node::types::topics::USER_INPUT,
                sustainml_node::types::topics::HW_RESOURCES_OUTPUT,
            ],
            sustainml_node::types::topics::CARBON_FOOTPRINT_OUTPUT,
        )
        .map(|b| node!(args, options, b, "CUSTOM_CARBON_NODE", custom_carbon));
        if let Err(e) | Ok(Err(e)) = result {
            eprintln!("sustainml-test-node: {e}");
            std::process::exit(1);
        }
        return;
    }
    let Some(kind) = NodeKind::parse(&args.kind) else {
        eprintln!("sustainml-test-node: unknown --kind {:?}", args.kind);
        std::process::exit(2);
    };
    logging::init(Some(kind.node_name()));
    let name = kind.node_name();
    let result = match kind {
        NodeKind::AppRequirements => {
            node!(args, options, sustainml_node::app_requirements(), name, app)
        }
        NodeKind::HwConstraints => node!(
            args,
            options,
            sustainml_node::hw_constraints(),
            name,
            constraints
        ),
        NodeKind::MlModelMetadata => node!(
            args,
            options,
            sustainml_node::ml_model_metadata(),
            name,
            metadata
        ),
        NodeKind::MlModel => node!(args, options, sustainml_node::ml_model(), name, model),
        NodeKind::HwResources => node!(
            args,
            options,
            sustainml_node::hw_resources(),
            name,
            resources
        ),
        NodeKind::CarbonFootprint => node!(
            args,
            options,
            sustainml_node::carbon_footprint(),
            name,
            carbon
        ),
        _ => unreachable!("NodeKind::parse returns the six kinds"),
    };
    if let Err(e) = result {
        eprintln!("sustainml-test-node: {e}");
        std::process::exit(1);
    }
}
