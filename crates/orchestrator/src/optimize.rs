//! Automatic carbon optimisation: iterate a problem, each iteration with the previous
//! one's model, hardware and footprint as baselines, until the footprint is at or
//! below the user's target or the budget runs out.
//!
//! The run has the shape of NNI's execution engine: an experiment *submits* an
//! iteration, *waits* for it, asks whether the *budget is exhausted*, and notifies its
//! *listeners* of each metric (the orchestrator's listeners publish an
//! [`Event::Iteration`] and store the run's report, so progress is visible and
//! survives a restart).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sustainml_types::{NodeId, TaskIdImpl};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::model::{Event, IterationMetric, TaskState};
use crate::orchestrator::Inner;

/// Limits of an automatic optimisation run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Iterations at most, the first included (default 5).
    pub max_iterations: u32,
    /// Wall time at most, from the first iteration's start (default 10 min).
    pub max_time: Duration,
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
}

type Listener = Box<dyn Fn(&OptimizationReport, &IterationMetric) + Send + Sync>;

/// One optimisation run (NNI's execution-engine shape: submit, wait, budget, listeners).
pub(crate) struct Experiment {
    inner: Arc<Inner>,
    budget: Budget,
    started: Instant,
    submitted: u32,
    report: OptimizationReport,
    listeners: Vec<Listener>,
}

impl Experiment {
    fn new(inner: Arc<Inner>, problem_id: u32, target: f64, budget: Budget) -> Self {
        Self {
            inner,
            budget,
            started: Instant::now(),
            submitted: 1,
            report: OptimizationReport {
                problem_id,
                target,
                iterations: Vec::new(),
                stopped: None,
                best: None,
            },
            listeners: Vec::new(),
        }
    }

    /// Starts the next iteration.
    async fn submit(&mut self) -> Result<TaskIdImpl> {
        let id = self
            .inner
            .next_iteration(self.report.problem_id, None)
            .await?;
        self.submitted += 1;
        Ok(id)
    }

    /// Waits for an iteration; its state and footprint, or why the wait stopped.
    async fn wait(&self, id: TaskIdImpl) -> std::result::Result<(TaskState, Option<f64>), Stop> {
        let remaining = self.budget.max_time.saturating_sub(self.started.elapsed());
        match self.inner.wait_task(id, remaining).await {
            Ok(TaskState::Done) => {
                let out = self
                    .inner
                    .db
                    .call(move |s| s.output(id, NodeId::CarbonFootprint))
                    .await
                    .map_err(|e| stop(StopKind::Error, e.to_string()))?;
                Ok((TaskState::Done, out.and_then(|o| o.carbon_footprint())))
            }
            Ok(state) => Ok((state, None)),
            Err(Error::Timeout { .. }) => Err(stop(
                StopKind::TimeExhausted,
                format!(
                    "time budget of {:?} exhausted while iteration {id} ran",
                    self.budget.max_time
                ),
            )),
            Err(e) => Err(stop(StopKind::Error, e.to_string())),
        }
    }

    fn budget_exhausted(&self) -> Option<Stop> {
        if self.submitted >= self.budget.max_iterations {
            return Some(stop(
                StopKind::IterationsExhausted,
                format!(
                    "{} iterations run (budget {}) without reaching the target",
                    self.submitted, self.budget.max_iterations
                ),
            ));
        }
        (self.started.elapsed() >= self.budget.max_time).then(|| {
            stop(
                StopKind::TimeExhausted,
                format!("time budget of {:?} exhausted", self.budget.max_time),
            )
        })
    }

    fn notify(&mut self, task_id: TaskIdImpl, carbon: Option<f64>) {
        self.report.iterations.push(IterationRecord {
            task_id,
            carbon_footprint: carbon,
        });
        let best = self
            .report
            .iterations
            .iter()
            .filter_map(|i| i.carbon_footprint.map(|c| (c, i.task_id)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        self.report.best = best.map(|(_, id)| id);
        let metric = IterationMetric {
            task_id,
            carbon_footprint: carbon,
            target: self.report.target,
        };
        for l in &self.listeners {
            l(&self.report, &metric);
        }
    }

    async fn run(mut self, first: TaskIdImpl) {
        let mut task = first;
        let outcome = loop {
            let (state, carbon) = match self.wait(task).await {
                Ok(r) => r,
                Err(s) => break s,
            };
            let no_model = match state {
                TaskState::Done => self
                    .inner
                    .db
                    .call(move |s| s.output(task, NodeId::MlModel))
                    .await
                    .ok()
                    .flatten()
                    .and_then(|m| m.no_model()),
                _ => None,
            };
            // An iteration without a model has no footprint worth comparing.
            self.notify(task, if no_model.is_some() { None } else { carbon });
            if let TaskState::Failed { reason } = state {
                break stop(
                    StopKind::TaskFailed,
                    format!("iteration {task} failed: {reason}"),
                );
            }
            if let Some(why) = no_model {
                break stop(StopKind::NoModel, why);
            }
            match carbon {
                Some(c) if c <= self.report.target => {
                    break stop(
                        StopKind::TargetReached,
                        format!(
                            "footprint {c} at {task} is at or below the target {}",
                            self.report.target
                        ),
                    )
                }
                _ => {}
            }
            if let Some(s) = self.budget_exhausted() {
                break s;
            }
            task = match self.submit().await {
                Ok(t) => t,
                Err(e) => {
                    break stop(
                        StopKind::Error,
                        format!("cannot start the next iteration: {e}"),
                    )
                }
            };
        };
        tracing::info!(
            problem = self.report.problem_id,
            "optimisation stopped: {}",
            outcome.message
        );
        self.report.stopped = Some(outcome.clone());
        record(&self.inner, &self.report);
        self.inner.emit(Event::OptimizationFinished {
            problem_id: self.report.problem_id,
            reason: outcome.message,
            best: self.report.best,
        });
    }
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
    report: OptimizationReport,
    current: TaskIdImpl,
    started: Instant,
    submitted: u32,
) -> JoinHandle<()> {
    let mut exp = Experiment::new(
        Arc::clone(inner),
        report.problem_id,
        report.target,
        inner.options.budget,
    );
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
    record(inner, &exp.report);
    tokio::spawn(exp.run(first))
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
