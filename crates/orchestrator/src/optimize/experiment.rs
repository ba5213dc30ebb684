//! One optimisation run: NNI's execution-engine shape (submit an iteration, wait for
//! it, ask whether the budget is exhausted, notify the listeners of each metric).

use std::sync::Arc;
use std::time::Instant;

use sustainml_types::{NodeId, TaskIdImpl};
use tokio::sync::watch;

use super::{record, stop, Budget, IterationRecord, OptimizationReport, Stop, StopKind};
use crate::error::{Error, Result};
use crate::model::{Event, IterationMetric, TaskState};
use crate::orchestrator::Inner;

pub(crate) type Listener = Box<dyn Fn(&OptimizationReport, &IterationMetric) + Send + Sync>;

/// One optimisation run (NNI's execution-engine shape: submit, wait, budget, listeners).
pub(crate) struct Experiment {
    inner: Arc<Inner>,
    budget: Budget,
    pub started: Instant,
    pub submitted: u32,
    pub report: OptimizationReport,
    pub listeners: Vec<Listener>,
    /// Turns true when someone cancels the run.
    pub cancelled: Option<watch::Receiver<bool>>,
}

impl Experiment {
    pub fn new(inner: Arc<Inner>, problem_id: u32, target: f64, budget: Budget) -> Self {
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
                budget: Some(budget),
            },
            listeners: Vec::new(),
            cancelled: None,
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

    /// Waits for an iteration; its state and footprint, or why the wait stopped (the
    /// time budget, a cancel, an error).
    async fn wait(&self, id: TaskIdImpl) -> std::result::Result<(TaskState, Option<f64>), Stop> {
        let remaining = self.budget.max_time.saturating_sub(self.started.elapsed());
        let mut cancelled = self.cancelled.clone();
        let finished = tokio::select! {
            r = self.inner.wait_task(id, remaining) => r,
            () = turned_true(&mut cancelled) => {
                self.inner.cancel_running(id).await;
                return Err(stop(
                    StopKind::Cancelled,
                    format!("cancelled while iteration {id} ran"),
                ));
            }
        };
        match finished {
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

    pub async fn run(mut self, first: TaskIdImpl) {
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
        self.inner.state().cancels.remove(&self.report.problem_id);
        self.inner.emit(Event::OptimizationFinished {
            problem_id: self.report.problem_id,
            reason: outcome.message,
            best: self.report.best,
        });
    }
}

/// Returns once `rx` holds true; never without a receiver.
async fn turned_true(rx: &mut Option<watch::Receiver<bool>>) {
    match rx {
        Some(rx) => {
            if rx.wait_for(|v| *v).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}
