//! `sustainml task submit|list|show`: problems and their results, through the
//! orchestrator's REST API (see [`crate::rest`]).
//!
//! - `submit FILE` reads a problem (TOML or JSON, by extension; `-` is JSON on stdin)
//!   with the fields of `POST /user_input`, posts it and prints the task id
//!   (`1.1`). With `--wait` it follows the task (per-node progress on stderr) and
//!   prints the result: exit 0 when the task is done, 1 when it failed or `--timeout`
//!   passed.
//! - `list` prints every task (`GET /tasks`).
//! - `show P.I` prints one task; `show P` prints the iterations of problem P and then
//!   the latest one in full (with `--json`: the latest one's JSON).
//! - `cancel P.I` stops a running task on every node (`POST /tasks/P/I/cancel`).

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::{Map, Value};

use crate::progress::Progress;
use crate::rest::Api;
use crate::{seconds, UsageError};

/// The task commands.
#[derive(Debug, clap::Subcommand)]
pub enum TaskCommand {
    /// Submit a problem to the orchestrator and print its task id (e.g. 1.1).
    ///
    /// FILE is TOML (.toml) or JSON (.json), or `-` for JSON on stdin, with the
    /// fields of the orchestrator's POST /user_input (see
    /// scripts/sample-problem.toml). With --wait, follow the task and print its
    /// result: exit 0 when it is done, 1 when it failed or --timeout passed.
    Submit {
        /// The problem file (.toml, .json, or - for JSON on stdin).
        file: PathBuf,
        /// Wait for the result, showing each node's progress on stderr.
        #[arg(long)]
        wait: bool,
        /// Print JSON: the API's answer, or with --wait the whole task.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArgs,
        /// With --wait: give up after S seconds (exit 1); default: wait until the
        /// orchestrator finishes the task (its --deadline fails stuck tasks).
        #[arg(long, value_name = "S")]
        timeout: Option<f64>,
        /// First wait up to S seconds for the orchestrator to answer and report the
        /// six nodes ready (GET /ready), e.g. right after `sustainml launch`.
        #[arg(long, value_name = "S")]
        ready_timeout: Option<f64>,
    },
    /// List every task the orchestrator knows, oldest first.
    List {
        /// Print the API's JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show one task: its state, its input and every node's output.
    ///
    /// ID is PROBLEM.ITERATION (1.2) or PROBLEM (1): then the problem's iterations
    /// are listed and the latest one is shown in full. A malformed id or an unknown
    /// task is exit 2.
    Show {
        /// The task: PROBLEM.ITERATION (e.g. 1.2) or PROBLEM (its latest iteration).
        id: String,
        /// Print the task's JSON (the latest iteration's for a bare PROBLEM).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Start an optimisation run: iterations of a new problem, each with the previous
    /// one's model and footprint as baselines, until the footprint is at or below
    /// --target, the budget runs out or ML_MODEL has no better model. Prints the
    /// run's id; with --wait, a line per finished iteration and a table at the end.
    Optimize(crate::optimize::OptimizeArgs),
    /// Cancel a running task: every node is told to stop it, and it fails with the
    /// reason "cancelled". A task that is not running is left as it is (exit 0, said
    /// so); an unknown task is exit 2.
    Cancel {
        /// The task: PROBLEM.ITERATION (e.g. 1.2).
        id: String,
        /// Print the API's JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Where the orchestrator is.
#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    /// The orchestrator's REST API (default: $SUSTAINML_ORCHESTRATOR, else
    /// http://127.0.0.1:5001).
    #[arg(long, value_name = "URL")]
    pub(crate) orchestrator: Option<String>,
}

/// Runs a task command.
pub fn run(command: TaskCommand) -> Result<ExitCode> {
    match command {
        TaskCommand::Submit {
            file,
            wait,
            json,
            api,
            timeout,
            ready_timeout,
        } => {
            let timeout = timeout.map(|t| seconds("timeout", t)).transpose()?;
            let ready_timeout = ready_timeout
                .map(|t| seconds("ready-timeout", t))
                .transpose()?;
            let problem = load_problem(&file)?;
            let api = Api::new(api.orchestrator)?;
            if let Some(t) = ready_timeout {
                wait_ready(&api, t)?;
            }
            if wait {
                submit_and_wait(&api, &problem, json, timeout)
            } else {
                let answer = api.post("/user_input", &problem)?;
                let id = TaskId::from_json(&answer["task_id"])?;
                print_json_or(json, &answer, || id.to_string());
                Ok(ExitCode::SUCCESS)
            }
        }
        TaskCommand::List { json, api } => {
            let answer = Api::new(api.orchestrator)?.get("/tasks")?;
            print_json_or(json, &answer["tasks"], || table(&answer["tasks"]));
            Ok(ExitCode::SUCCESS)
        }
        TaskCommand::Cancel { id, json, api } => {
            let id = match id.parse::<TaskRef>()? {
                TaskRef {
                    problem,
                    iteration: Some(iteration),
                } => TaskId { problem, iteration },
                TaskRef { problem, .. } => {
                    return Err(UsageError(format!(
                        "cancel needs PROBLEM.ITERATION (e.g. {problem}.1), not a bare problem"
                    ))
                    .into())
                }
            };
            let answer = Api::new(api.orchestrator)?
                .post(&format!("{}/cancel", id.path()), &Value::Object(Map::new()))?;
            print_json_or(json, &answer, || {
                answer["message"].as_str().unwrap_or_default().to_owned()
            });
            Ok(ExitCode::SUCCESS)
        }
        TaskCommand::Optimize(args) => crate::optimize::run(args),
        TaskCommand::Show { id, json, api } => {
            let id: TaskRef = id.parse()?;
            show(&Api::new(api.orchestrator)?, id, json)
        }
    }
}

fn print_json_or(json: bool, value: &Value, human: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        println!("{}", human());
    }
}

/// A task id, printed `P.I`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskId {
    problem: u32,
    iteration: u32,
}

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.problem, self.iteration)
    }
}

impl TaskId {
    /// Reads the API's `{problem_id, iteration_id}`.
    fn from_json(v: &Value) -> Result<Self> {
        let part = |k: &str| v[k].as_u64().and_then(|n| u32::try_from(n).ok());
        match (part("problem_id"), part("iteration_id")) {
            (Some(problem), Some(iteration)) => Ok(Self { problem, iteration }),
            _ => bail!("the orchestrator answered without a task id: {v}"),
        }
    }

    fn path(&self) -> String {
        format!("/tasks/{}/{}", self.problem, self.iteration)
    }
}

/// A task, or a problem's latest iteration, as the user names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskRef {
    problem: u32,
    iteration: Option<u32>,
}

impl FromStr for TaskRef {
    type Err = UsageError;

    fn from_str(s: &str) -> Result<Self, UsageError> {
        let bad = || {
            UsageError(format!(
                "bad task id `{s}`: expected PROBLEM.ITERATION (e.g. 1.2) or PROBLEM (e.g. 1)"
            ))
        };
        let number = |part: &str| part.trim().parse::<u32>().map_err(|_| bad());
        match s.split_once(['.', '/']) {
            Some((p, i)) => Ok(Self {
                problem: number(p)?,
                iteration: Some(number(i)?),
            }),
            None => Ok(Self {
                problem: number(s)?,
                iteration: None,
            }),
        }
    }
}

// ---------------------------------------------------------------------------------
// Problems.

/// Reads a problem file as the JSON object `POST /user_input` takes.
pub fn load_problem(file: &Path) -> Result<Value> {
    let name = file.display().to_string();
    let (text, toml) = if name == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| UsageError(format!("cannot read the problem from stdin: {e}")))?;
        (text, false)
    } else {
        let toml = match file.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("toml") => true,
            Some(e) if e.eq_ignore_ascii_case("json") => false,
            _ => {
                return Err(UsageError(format!(
                    "{name}: a problem file must end in .toml or .json (or be - for JSON on stdin)"
                ))
                .into())
            }
        };
        let text = std::fs::read_to_string(file)
            .map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
        (text, toml)
    };
    let value = if toml {
        problem_from_toml(&text)
    } else {
        problem_from_json(&text)
    };
    Ok(value.map_err(|e| UsageError(format!("{name}: {e}")))?)
}

fn problem_from_json(text: &str) -> Result<Value, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    if !value.is_object() {
        return Err("the problem must be a JSON object {\"modality\": …}".to_owned());
    }
    Ok(value)
}

fn problem_from_toml(text: &str) -> Result<Value, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| line_col(text, s.start))
            .map(|(l, c)| format!(" at line {l} column {c}"))
            .unwrap_or_default();
        format!("not valid TOML{at}: {}", e.message().trim())
    })?;
    toml_to_json("", toml::Value::Table(table))
}

/// The 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// TOML to JSON; dates become strings, non-finite floats are refused naming the key.
fn toml_to_json(at: &str, value: toml::Value) -> Result<Value, String> {
    let key = |k: &str| {
        if at.is_empty() {
            k.to_owned()
        } else {
            format!("{at}.{k}")
        }
    };
    Ok(match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| format!("`{at}` must be a finite number, not {f}"))?,
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| toml_to_json(&format!("{at}[{i}]"), v))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => Value::Object(
            t.into_iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(&key(&k), v)?)))
                .collect::<Result<Map<_, _>, String>>()?,
        ),
    })
}

// ---------------------------------------------------------------------------------
// Following a task.

/// Waits until the orchestrator answers GET /ready with 200 (it is unreachable while
/// it starts, and answers 503 until the six nodes are alive and matched).
fn wait_ready(api: &Api, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut said = false;
    loop {
        let err = match api.get("/ready") {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            bail!(
                "the graph is not ready after {} s (--ready-timeout): {err:#}",
                timeout.as_secs_f64()
            );
        }
        if !said {
            eprintln!(
                "waiting for the orchestrator at {} and its nodes…",
                api.url()
            );
            said = true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Submits `problem`, follows the task until it finishes (or `timeout`), prints it.
fn submit_and_wait(
    api: &Api,
    problem: &Value,
    json: bool,
    timeout: Option<Duration>,
) -> Result<ExitCode> {
    // Subscribe before submitting so that no event of the task is missed; without
    // an event stream (an older orchestrator) the task is polled.
    let events = api.events().ok();
    let answer = api.post("/user_input", problem)?;
    let id = TaskId::from_json(&answer["task_id"])?;
    eprintln!("submitted task {id} to {}", api.url());
    let (tx, rx) = mpsc::channel();
    let streaming = events.is_some();
    if let Some(stream) = events {
        std::thread::spawn(move || forward_events(stream, id, &tx));
    }
    let poll = if streaming {
        Duration::from_secs(2)
    } else {
        Duration::from_millis(500)
    };
    let started = Instant::now();
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let task = loop {
        let task = api.get(&id.path())?;
        progress.update(&task);
        if task["state"] != "running" {
            break task;
        }
        let left = timeout.map(|t| t.saturating_sub(started.elapsed()));
        if left.is_some_and(|l| l.is_zero()) {
            progress.finish();
            let secs = timeout.map_or(0.0, |t| t.as_secs_f64());
            bail!("task {id} still running after {secs} s (--timeout); `sustainml task show {id}` follows it up");
        }
        let wait = left.map_or(poll, |l| l.min(poll));
        // An event of this task, or the poll interval: look again either way.
        let _ = rx.recv_timeout(wait);
    };
    progress.finish();
    print_json_or(json, &task, || details(&task));
    if task["state"] == "done" {
        Ok(ExitCode::SUCCESS)
    } else {
        let reason = task["reason"].as_str().unwrap_or("no reason given");
        eprintln!("sustainml: task {id} {}: {reason}", state_of(&task));
        Ok(ExitCode::FAILURE)
    }
}

/// Reads the server-sent events and signals each one about task `id`.
fn forward_events(stream: Box<dyn Read + Send + Sync>, id: TaskId, tx: &mpsc::Sender<()>) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let Ok(event) = serde_json::from_str::<Value>(data.trim()) else {
            continue;
        };
        let ours = TaskId::from_json(&event["task_id"]).is_ok_and(|t| t == id);
        if (ours || event["event"] == "lagged") && tx.send(()).is_err() {
            break;
        }
    }
}

// ---------------------------------------------------------------------------------
// Showing tasks.

fn show(api: &Api, id: TaskRef, json: bool) -> Result<ExitCode> {
    let id = match id.iteration {
        Some(iteration) => TaskId {
            problem: id.problem,
            iteration,
        },
        None => {
            let all = api.get("/tasks")?;
            let iterations: Vec<Value> = all["tasks"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|t| t["task_id"]["problem_id"].as_u64() == Some(id.problem.into()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let Some(latest) = iterations
                .iter()
                .filter_map(|t| TaskId::from_json(&t["task_id"]).ok())
                .max_by_key(|t| t.iteration)
            else {
                return Err(UsageError(format!("no task of problem {}", id.problem)).into());
            };
            if !json {
                println!("{}\n", table(&Value::Array(iterations)));
            }
            latest
        }
    };
    let task = api.get(&id.path())?;
    print_json_or(json, &task, || details(&task));
    Ok(ExitCode::SUCCESS)
}

fn state_of(task: &Value) -> &str {
    task["state"].as_str().unwrap_or("unknown")
}

/// The task list as a table.
fn table(tasks: &Value) -> String {
    let rows = tasks.as_array().map(Vec::as_slice).unwrap_or_default();
    if rows.is_empty() {
        return "no task yet (sustainml task submit FILE)".to_owned();
    }
    let mut out = format!(
        "{:<10} {:<8} {:<8} {:<16} {:<20} REASON",
        "TASK", "STATE", "OUTPUTS", "CARBON (kgCO2e)", "STARTED (UTC)"
    );
    for t in rows {
        let id =
            TaskId::from_json(&t["task_id"]).map_or_else(|_| "?".to_owned(), |i| i.to_string());
        let carbon = t["carbon_footprint"]
            .as_f64()
            .map_or_else(|| "-".to_owned(), number);
        let started = t["created_ms"].as_u64().map_or_else(|| "-".to_owned(), utc);
        out.push_str(&format!(
            "\n{:<10} {:<8} {:<8} {:<16} {:<20} {}",
            id,
            state_of(t),
            format!("{}/6", t["outputs"].as_u64().unwrap_or(0)),
            carbon,
            started,
            t["reason"].as_str().unwrap_or("-"),
        ));
    }
    out
}

/// One task in full, for people.
fn details(task: &Value) -> String {
    let id = TaskId::from_json(&task["task_id"]).map_or_else(|_| "?".to_owned(), |i| i.to_string());
    let mut out = format!("task {id}: {}", state_of(task));
    if let Some(reason) = task["reason"].as_str() {
        out.push_str(&format!(" ({reason})"));
    }
    let input = &task["user_input"];
    if let Some(d) = input["problem_short_description"]
        .as_str()
        .filter(|d| !d.is_empty())
    {
        out.push_str(&format!("\n  {:<18} {d}", "problem"));
    }
    if let Some(m) = input["modality"].as_str().filter(|m| !m.is_empty()) {
        out.push_str(&format!("\n  {:<18} {m}", "modality"));
    }
    if let (Some(c), Some(u)) = (task["created_ms"].as_u64(), task["updated_ms"].as_u64()) {
        let took = Duration::from_millis(u.saturating_sub(c)).as_secs_f64();
        out.push_str(&format!(
            "\n  {:<18} {} UTC, took {took:.1} s",
            "started",
            utc(c)
        ));
    }
    for key in crate::progress::NODES {
        let line = match task["outputs"].get(key) {
            Some(o) => summary(key, o),
            None => node_problem(task, key).unwrap_or_else(|| "no output".to_owned()),
        };
        out.push_str(&format!("\n  {key:<18} {line}"));
    }
    out
}

/// What a node said about a task without output: its error, if any.
fn node_problem(task: &Value, key: &str) -> Option<String> {
    let statuses = task["statuses"].as_array()?;
    let last = statuses
        .iter()
        .rev()
        .find(|s| crate::progress::is_node(&s["node_name"], key))?;
    let status = last["task_status"].as_str().unwrap_or("?");
    let description = last["description"].as_str().unwrap_or_default();
    Some(if description.is_empty() {
        format!("no output ({status})")
    } else {
        format!("no output ({status}: {description})")
    })
}

/// One node's output in a line, with units.
fn summary(key: &str, o: &Value) -> String {
    let list = |k: &str| -> String {
        o[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let num = |k: &str| o[k].as_f64().map_or_else(|| "?".to_owned(), number);
    let text = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
    match key {
        "APP_REQUIREMENTS" => format!("requirements: {}", list("app_requirements")),
        "ML_MODEL_METADATA" => format!(
            "keywords: {}; metadata: {}",
            list("keywords"),
            list("ml_model_metadata")
        ),
        "HW_CONSTRAINTS" => format!(
            "hardware: {}; max memory {} MB",
            list("hardware_required"),
            num("max_memory_footprint")
        ),
        "ML_MODEL" => {
            let mut s = format!("model: {}", text("model"));
            let props = text("model_properties");
            if !props.is_empty() {
                s.push_str(&format!(" ({})", shorten(&props, 60)));
            }
            s
        }
        "HW_RESOURCES" => format!(
            "hardware: {}; latency {} ms; power {} W; model memory {} MB",
            text("hw_description"),
            num("latency"),
            num("power_consumption"),
            num("memory_footprint_of_ml_model")
        ),
        "CARBON_FOOTPRINT" => format!(
            "carbon footprint {} kgCO2e; energy {} kWh; intensity {} gCO2e/kWh",
            num("carbon_footprint"),
            num("energy_consumption"),
            num("carbon_intensity")
        ),
        _ => o.to_string(),
    }
}

fn shorten(s: &str, max: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// A number for people: up to four significant digits, scientific when tiny or huge.
fn number(v: f64) -> String {
    if v == 0.0 {
        "0".to_owned()
    } else if v.abs() >= 1e6 || v.abs() < 1e-3 {
        format!("{v:.3e}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of milliseconds since the Unix epoch.
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or_default();
    let rest = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id_json(p: u32, i: u32) -> Value {
        json!({"problem_id": p, "iteration_id": i})
    }

    #[test]
    fn task_ids_parse_or_say_what_is_expected() {
        let r: TaskRef = "3.2".parse().expect("valid");
        assert_eq!((r.problem, r.iteration), (3, Some(2)));
        let r: TaskRef = "3".parse().expect("valid");
        assert_eq!((r.problem, r.iteration), (3, None));
        assert_eq!("3/4".parse::<TaskRef>().expect("valid").iteration, Some(4));
        for bad in ["x.1", "1.", "", "1.2.3", "-1", "1.x"] {
            let e = bad.parse::<TaskRef>().expect_err(bad);
            assert!(e.0.contains(&format!("`{bad}`")), "{e}");
        }
        let id = TaskId::from_json(&id_json(1, 2)).expect("valid");
        assert_eq!(id.to_string(), "1.2");
        assert_eq!(id.path(), "/tasks/1/2");
    }

    #[test]
    fn toml_problems_become_the_api_json() {
        let v = problem_from_toml(
            "modality = \"image\"\ninputs = [\"a\"]\nminimum_samples = 3\n[extra_data]\nmax_memory_footprint = 100\nratio = 0.5\n",
        )
        .expect("valid");
        assert_eq!(
            v,
            json!({"modality": "image", "inputs": ["a"], "minimum_samples": 3,
                   "extra_data": {"max_memory_footprint": 100, "ratio": 0.5}})
        );
        let e = problem_from_toml("modality = \"image\"\ninputs = [\n").expect_err("bad");
        assert!(e.contains("line 2") || e.contains("line 3"), "{e}");
        let e = problem_from_toml("[extra_data]\nx = nan\n").expect_err("nan");
        assert!(e.contains("extra_data.x"), "{e}");
        assert!(problem_from_json("[1]").is_err());
        assert!(problem_from_json("{\"a\":")
            .expect_err("bad")
            .contains("line 1"));
    }

    #[test]
    fn the_sample_problems_agree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts");
        let toml = load_problem(&root.join("sample-problem.toml")).expect("toml sample");
        let json = load_problem(&root.join("sample-problem.json")).expect("json sample");
        assert_eq!(toml, json);
        let e = load_problem(Path::new("problem.yaml")).expect_err("extension");
        assert!(e.to_string().contains(".toml or .json"), "{e}");
    }

    #[test]
    fn outputs_read_in_one_line() {
        let co2 = json!({"carbon_footprint": 0.0125, "energy_consumption": 0.00004,
                         "carbon_intensity": 56.0});
        assert_eq!(
            summary("CARBON_FOOTPRINT", &co2),
            "carbon footprint 0.0125 kgCO2e; energy 4.000e-5 kWh; intensity 56 gCO2e/kWh"
        );
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_709_210_096_000), "2024-02-29 12:34:56");
        let tasks = json!([{"task_id": id_json(1, 1), "state": "failed", "outputs": 2,
                            "created_ms": 0, "reason": "ML_MODEL: no"}]);
        let t = table(&tasks);
        assert!(
            t.contains("1.1") && t.contains("failed") && t.contains("2/6"),
            "{t}"
        );
    }
}
