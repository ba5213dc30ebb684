//! Automatic carbon optimisation: iterate a problem, each iteration with the previous
//! one's model, hardware and footprint as baselines, until the footprint is at or
//! below the user's target or the budget runs out.
//!
//! The run has the shape of NNI's execution engine: an experiment *submits* an
//! iteration, *waits* for it, asks whether the *budget is exhausted*, and notifies its
//! *listeners* of each metric (the orchestrator's listeners publish an
//! [`Event::Iteration`] and store the run's report, so progress is visible and
//! survives a restart).

mod experiment;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sustainml_types::TaskIdImpl;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::model::Event;
use crate::orchestrator::Inner;
use experiment::Experiment;

/// Limits of an automatic optimisation run (in JSON:
/// `{"max_iterations": N, "max_seconds": S}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "BudgetJson", into = "BudgetJson")]
pub struct Budget {
    /// Iterations at most, the first included (default 5).
    pub max_iterations: u32,
    /// Wall time at most, from the first iteration's start (default 10 min).
    pub max_time: Duration,
}

#[derive(Serialize, Deserialize)]
struct BudgetJson {
    max_iterations: u32,
    max_seconds: f64,
}

impl From<BudgetJson> for Budget {
    fn from(b: BudgetJson) -> Self {
        Self {
            max_iterations: b.max_iterations,
            max_time: Duration::try_from_secs_f64(b.max_seconds).unwrap_or(Duration::MAX),
        }
    }
}

impl From<Budget> for BudgetJson {
    fn from(b: Budget) -> Self {
        Self {
            max_iterations: b.max_iterations,
            max_seconds: b.max_time.as_secs_f64(),
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_iterations: 5,
            max_time: Duration::from_secs(600),
        }
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopKind {
    /// The footprint is at or below the target.
    TargetReached,
    /// `max_iterations` iterations ran.
    IterationsExhausted,
    /// `max_time` passed.
    TimeExhausted,
    /// ML_MODEL found no model (NO_MODEL).
    NoModel,
    /// An iteration failed.
    TaskFailed,
    /// The orchestrator could not go on (store or DDS error).
    Error,
    /// Someone cancelled it.
    Cancelled,
}

/// How a run stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    /// Why, as a code.
    pub kind: StopKind,
    /// Why, for people.
    pub message: String,
}

/// One iteration of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationRecord {
    /// The iteration's task.
    pub task_id: TaskIdImpl,
    /// Its footprint (none if it failed).
    pub carbon_footprint: Option<f64>,
}

/// The progress and outcome of an automatic optimisation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizationReport {
    /// The problem.
    pub problem_id: u32,
    /// The user's `desired_carbon_footprint`.
    pub target: f64,
    /// The iterations finished so far.
    pub iterations: Vec<IterationRecord>,
    /// Set once the run stopped.
    pub stopped: Option<Stop>,
    /// The iteration with the lowest footprint so far.
    pub best: Option<TaskIdImpl>,
    /// Its budget (absent in reports stored before budgets were kept: the
    /// orchestrator's default then applies).
    #[serde(default)]
    pub budget: Option<Budget>,
}

pub(crate) fn stop(kind: StopKind, message: String) -> Stop {
    Stop { kind, message }
}

/// Keeps the report in memory and in the store.
pub(crate) fn record(inner: &Inner, report: &OptimizationReport) {
    inner.state().runs.insert(report.problem_id, report.clone());
    match serde_json::to_string(report) {
        Ok(json) => {
            let p = report.problem_id;
            inner
                .db
                .send("storing an optimisation run", move |s| s.put_run(p, &json));
        }
        Err(e) => tracing::error!("cannot encode an optimisation report: {e}"),
    }
}

/// Starts a run whose first iteration, `first`, is already published.
pub(crate) fn spawn(
    inner: &Arc<Inner>,
    first: TaskIdImpl,
    target: f64,
    budget: Budget,
) -> JoinHandle<()> {
    let exp = Experiment::new(Arc::clone(inner), first.problem_id, target, budget);
    launch(inner, exp, first)
}

/// Resumes, after a restart, a run the store holds unstopped: `report` as stored,
/// without the iteration `current` (the problem's last, which the run waits for
/// again), `started` when its first iteration started and `submitted` the
/// iterations started so far.
pub(crate) fn resume(
    inner: &Arc<Inner>,
    mut report: OptimizationReport,
    current: TaskIdImpl,
    started: Instant,
    submitted: u32,
) -> JoinHandle<()> {
    let budget = report.budget.unwrap_or(inner.options.budget);
    report.budget = Some(budget);
    let mut exp = Experiment::new(Arc::clone(inner), report.problem_id, report.target, budget);
    exp.report = report;
    exp.started = started;
    exp.submitted = submitted;
    launch(inner, exp, current)
}

fn launch(inner: &Arc<Inner>, mut exp: Experiment, first: TaskIdImpl) -> JoinHandle<()> {
    let i = Arc::clone(inner);
    exp.listeners.push(Box::new(move |report, metric| {
        record(&i, report);
        i.emit(Event::Iteration(metric.clone()));
    }));
    let (cancel_tx, cancel_rx) = watch::channel(false);
    inner
        .state()
        .cancels
        .insert(exp.report.problem_id, cancel_tx);
    exp.cancelled = Some(cancel_rx);
    record(inner, &exp.report);
    tokio::spawn(exp.run(first))
}

/// Cancels the running optimisation of `problem_id` (and its running iteration).
/// `false` if the run already stopped; an unknown problem is an error.
pub(crate) async fn cancel(inner: &Inner, problem_id: u32) -> Result<bool> {
    let sender = inner.state().cancels.get(&problem_id).cloned();
    match sender {
        Some(tx) if !tx.borrow().to_owned() => {
            let _ = tx.send(true);
            Ok(true)
        }
        Some(_) => Ok(false),
        None => match load(inner, problem_id).await? {
            Some(_) => Ok(false),
            None => Err(Error::UnknownProblem(problem_id)),
        },
    }
}

/// Every optimisation run, the running ones as they are now, by problem id.
pub(crate) async fn list(inner: &Inner) -> Result<Vec<OptimizationReport>> {
    let stored = inner.db.call(|s| s.runs()).await?;
    let mut reports: Vec<OptimizationReport> = stored
        .into_iter()
        .filter_map(|(problem, json)| match serde_json::from_str(&json) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!(problem, "stored optimisation report does not decode: {e}");
                None
            }
        })
        .collect();
    let live = inner.state().runs.clone();
    for r in &mut reports {
        if let Some(now) = live.get(&r.problem_id) {
            *r = now.clone();
        }
    }
    reports.sort_by_key(|r| r.problem_id);
    Ok(reports)
}

/// A run's report from the store.
pub(crate) async fn load(inner: &Inner, problem_id: u32) -> Result<Option<OptimizationReport>> {
    let json = inner.db.call(move |s| s.run(problem_id)).await?;
    Ok(json.and_then(|j| match serde_json::from_str(&j) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::error!(
                problem = problem_id,
                "stored optimisation report does not decode: {e}"
            );
            None
        }
    }))
}

/// Waits until the run of `problem_id` stopped.
pub(crate) async fn wait(
    inner: &Inner,
    problem_id: u32,
    timeout: Duration,
) -> Result<OptimizationReport> {
    let mut events = inner.events.subscribe();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let cached = inner.state().runs.get(&problem_id).cloned();
        let report = match cached {
            Some(r) => Some(r),
            None => load(inner, problem_id).await?,
        };
        match report {
            None => return Err(Error::UnknownProblem(problem_id)),
            Some(r) if r.stopped.is_some() => return Ok(r),
            Some(_) => {}
        }
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_) => {
                    return Err(Error::Timeout {
                        what: format!("optimisation of problem {problem_id}"),
                        timeout,
                    })
                }
                Ok(Ok(Event::OptimizationFinished { problem_id: p, .. })) if p == problem_id => {
                    break
                }
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => break,
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    return Err(Error::Runtime("events closed".into()))
                }
                Ok(Ok(_)) => {}
            }
        }
    }
}
