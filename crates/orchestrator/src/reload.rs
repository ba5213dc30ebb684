//! Picking up after a restart: every task the store still marks running is taken up
//! again, and every optimisation run the store holds unstopped goes on or stops with
//! a reason, so an accepted task ends whatever stopped the orchestrator.
//!
//! - A task keeps the deadline it had: its stored start plus the configured deadline.
//!   One whose deadline passed while the orchestrator was down fails at once, saying
//!   so and naming the nodes whose outputs are missing. One whose six outputs are all
//!   stored (the orchestrator stopped before recording its end) is done at once.
//! - The others are running again: outputs and statuses arriving now complete or fail
//!   them (the nodes' writers replay their history to the new orchestrator's
//!   readers, so outputs written while it was down arrive too), and cancel works on
//!   them. Their user input and baselines are published again: the writers of the
//!   orchestrator that stopped are gone with their history, and a node that starts
//!   (or restarts) from now on must still get the task. Nodes ignore a task they
//!   already did.
//! - An optimisation run waits again for its problem's last iteration and goes on
//!   from there with the time budget counted from its first iteration's start; a run
//!   whose iterations are gone from the store stops with a reason.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sustainml_types::{NodeId, TaskIdImpl};

use crate::error::Result;
use crate::model::{now_ms, Event, TaskState};
use crate::optimize::{self, OptimizationReport, StopKind};
use crate::orchestrator::{Active, Inner};
use crate::output::OUTPUT_NODES;
use crate::store::RunningTask;

/// What becomes of a task the store still marks running.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TaskPlan {
    /// Every output is stored: done, with this footprint.
    Done(f64),
    /// Its deadline passed while the orchestrator was down: failed, for this reason.
    Expired(String),
    /// Running again, for what is left of its deadline.
    Resume {
        remaining: Duration,
        received: BTreeSet<NodeId>,
        carbon: Option<f64>,
    },
}

/// Decides a running task's fate `now_ms` (wall clock), with tasks given `deadline`.
pub(crate) fn plan_task(task: &RunningTask, deadline: Duration, now_ms: u64) -> TaskPlan {
    let received: BTreeSet<NodeId> = task.outputs.iter().map(|(n, _)| *n).collect();
    let carbon = task
        .outputs
        .iter()
        .find(|(n, _)| *n == NodeId::CarbonFootprint)
        .map(|(_, c)| c.unwrap_or_default());
    let elapsed = Duration::from_millis(now_ms.saturating_sub(task.created_ms));
    let remaining = deadline.saturating_sub(elapsed);
    match carbon {
        Some(c) if received.len() >= OUTPUT_NODES.len() => TaskPlan::Done(c),
        // The footprint is there: done once the stragglers' wait is over, as before.
        Some(_) => TaskPlan::Resume {
            remaining,
            received,
            carbon,
        },
        None if remaining.is_zero() => {
            let missing: Vec<&str> = OUTPUT_NODES
                .iter()
                .filter(|n| !received.contains(n))
                .map(|n| n.node_name())
                .collect();
            TaskPlan::Expired(format!(
                "deadline of {deadline:?} passed while the orchestrator was down (the task \
                 started {:.1} s before the restart); no output from: {}",
                elapsed.as_secs_f64(),
                missing.join(", ")
            ))
        }
        None => TaskPlan::Resume {
            remaining,
            received,
            carbon,
        },
    }
}

/// What becomes of an optimisation run the store holds unstopped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RunPlan {
    /// Wait again for `current` (removed from the report's iterations) and go on;
    /// `submitted` iterations have been started.
    Resume {
        report: OptimizationReport,
        current: TaskIdImpl,
        submitted: u32,
    },
    /// The run cannot go on: its report, stopped with the reason.
    Stop(OptimizationReport),
}

/// Decides an unstopped run's fate, knowing its problem's last stored iteration.
pub(crate) fn plan_run(mut report: OptimizationReport, last_iteration: Option<u32>) -> RunPlan {
    let Some(last) = last_iteration else {
        report.stopped = Some(optimize::stop(
            StopKind::Error,
            format!(
                "the orchestrator restarted and no iteration of problem {} is left in the store",
                report.problem_id
            ),
        ));
        return RunPlan::Stop(report);
    };
    let current = TaskIdImpl::new(report.problem_id, last);
    // An iteration recorded just before the stop is judged again.
    report.iterations.retain(|i| i.task_id != current);
    RunPlan::Resume {
        report,
        current,
        submitted: last,
    }
}

/// What a restart took up, for the log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reloaded {
    pub tasks: usize,
    pub expired: usize,
    pub done: usize,
    pub republished: usize,
    pub runs_resumed: usize,
    pub runs_stopped: usize,
}

impl Inner {
    /// Takes up the tasks the store marks running (before the listeners start, so
    /// that no output of theirs finds them missing).
    pub(crate) async fn reload_tasks(self: &Arc<Self>) -> Result<Reloaded> {
        let running = self.db.call(|s| s.running_tasks()).await?;
        let now = now_ms();
        let mut r = Reloaded {
            tasks: running.len(),
            ..Reloaded::default()
        };
        let mut again = Vec::new();
        for task in &running {
            let id = task.task_id;
            match plan_task(task, self.options.deadline, now) {
                TaskPlan::Done(c) => {
                    r.done += 1;
                    self.finish(id, TaskState::Done, Some(c));
                }
                TaskPlan::Expired(reason) => {
                    r.expired += 1;
                    self.finish(id, TaskState::Failed { reason }, None);
                }
                TaskPlan::Resume {
                    remaining,
                    received,
                    carbon,
                } => {
                    let at = Instant::now();
                    if carbon.is_none() {
                        again.push(id);
                    }
                    self.state().active.insert(
                        id,
                        Active {
                            deadline: at + remaining,
                            received,
                            carbon: carbon.map(|c| (at, c)),
                        },
                    );
                }
            }
        }
        for id in again {
            match self.republish(id).await {
                Ok(()) => r.republished += 1,
                // The deadline still ends it.
                Err(e) => tracing::warn!(task = %id, "cannot publish a reloaded task again: {e}"),
            }
        }
        Ok(r)
    }

    async fn republish(&self, id: TaskIdImpl) -> Result<()> {
        let input = self
            .db
            .call(move |s| s.user_input(id))
            .await?
            .ok_or(crate::Error::UnknownTask(id))?;
        let previous = TaskIdImpl::new(id.problem_id, id.iteration_id.saturating_sub(1));
        let baselines = self.baselines_after(previous).await?;
        self.publish(input, baselines).await?;
        Ok(())
    }

    /// Resumes or stops the optimisation runs the store holds unstopped.
    pub(crate) async fn resume_runs(self: &Arc<Self>, r: &mut Reloaded) -> Result<()> {
        let runs = self.db.call(|s| s.runs()).await?;
        for (problem, json) in runs {
            let report: OptimizationReport = match serde_json::from_str(&json) {
                Ok(report) => report,
                Err(e) => {
                    tracing::error!(problem, "stored optimisation report does not decode: {e}");
                    continue;
                }
            };
            if report.stopped.is_some() {
                continue;
            }
            let last = self.db.call(move |s| s.last_iteration(problem)).await?;
            match plan_run(report, last) {
                RunPlan::Stop(report) => {
                    r.runs_stopped += 1;
                    let reason = report
                        .stopped
                        .as_ref()
                        .map(|s| s.message.clone())
                        .unwrap_or_default();
                    tracing::warn!(problem, "optimisation stopped: {reason}");
                    optimize::record(self, &report);
                    self.emit(Event::OptimizationFinished {
                        problem_id: problem,
                        reason,
                        best: report.best,
                    });
                }
                RunPlan::Resume {
                    report,
                    current,
                    submitted,
                } => {
                    let first = report
                        .iterations
                        .first()
                        .map_or(TaskIdImpl::new(problem, 1), |i| i.task_id);
                    let created = self.db.call(move |s| s.created_ms(first)).await?;
                    let ago = Duration::from_millis(
                        now_ms().saturating_sub(created.unwrap_or_else(now_ms)),
                    );
                    let started = Instant::now().checked_sub(ago).unwrap_or_else(Instant::now);
                    tracing::info!(problem, task = %current, "optimisation resumed");
                    let job = optimize::resume(self, report, current, started, submitted);
                    self.jobs
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(job);
                    r.runs_resumed += 1;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "reload_tests.rs"]
mod tests;
