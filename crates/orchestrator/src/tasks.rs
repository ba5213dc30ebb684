//! Starting tasks and iterations: recording them, publishing their user input and
//! baselines, and waiting for them to end.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sustainml_types::{
    CO2FootprintImpl, HWResourceImpl, MLModelImpl, NodeId, TaskIdImpl, UserInputImpl,
};
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::model::{now_ms, Event, TaskState};
use crate::orchestrator::{Active, Inner};
use crate::output::NodeOutput;

impl Inner {
    /// Publishes task `id`: records it, then writes its user input and baselines.
    pub async fn start_task(
        self: &Arc<Self>,
        id: TaskIdImpl,
        mut input: UserInputImpl,
        baselines: (MLModelImpl, HWResourceImpl, CO2FootprintImpl),
    ) -> Result<TaskIdImpl> {
        input.task_id = id;
        input.previous_iteration = i32::try_from(id.iteration_id - 1).unwrap_or(i32::MAX);
        let stored = input.clone();
        let now = now_ms();
        self.db.call(move |s| s.insert_task(&stored, now)).await?;
        self.state().active.insert(
            id,
            Active {
                deadline: Instant::now() + self.options.deadline,
                received: BTreeSet::new(),
                carbon: None,
            },
        );
        if let Err(e) = self.publish(input, baselines).await {
            self.fail(id, format!("cannot publish the task: {e}"));
            return Err(e.into());
        }
        tracing::info!(task = %id, "task published");
        self.emit(Event::TaskStarted { task_id: id });
        Ok(id)
    }

    /// Writes a task's user input (stamped with its id) and its baselines, stamped
    /// with the same id.
    pub async fn publish(
        &self,
        input: UserInputImpl,
        baselines: (MLModelImpl, HWResourceImpl, CO2FootprintImpl),
    ) -> std::result::Result<(), sustainml_dds::Error> {
        let id = input.task_id;
        let (mut ml, mut hw, mut co2) = baselines;
        ml.task_id = id;
        hw.task_id = id;
        co2.task_id = id;
        self.user_input.write(input).await?;
        self.ml_baseline.write(ml).await?;
        self.hw_baseline.write(hw).await?;
        self.co2_baseline.write(co2).await
    }

    /// The baselines of the iteration after `last`: its model, hardware and footprint
    /// (empty where it has none, as for the first iteration, whose `last` is {p, 0}).
    pub async fn baselines_after(
        &self,
        last: TaskIdImpl,
    ) -> Result<(MLModelImpl, HWResourceImpl, CO2FootprintImpl)> {
        let mut outputs = self.db.call(move |s| s.outputs(last, None)).await?;
        let ml = match outputs.remove(&NodeId::MlModel) {
            Some(NodeOutput::MlModel(m)) => m,
            _ => MLModelImpl::default(),
        };
        let hw = match outputs.remove(&NodeId::HwResources) {
            Some(NodeOutput::HwResources(h)) => h,
            _ => HWResourceImpl::default(),
        };
        let co2 = match outputs.remove(&NodeId::CarbonFootprint) {
            Some(NodeOutput::CarbonFootprint(c)) => c,
            _ => CO2FootprintImpl::default(),
        };
        Ok((ml, hw, co2))
    }

    /// Starts the next iteration of `problem_id`, with the last iteration's outputs as
    /// baselines and its user input unless `input` is given.
    pub async fn next_iteration(
        self: &Arc<Self>,
        problem_id: u32,
        input: Option<UserInputImpl>,
    ) -> Result<TaskIdImpl> {
        let stored_last = self.db.call(move |s| s.last_iteration(problem_id)).await?;
        let (id, last) = {
            let mut st = self.state();
            let reserved = st.last_iteration.get(&problem_id).copied();
            let last = stored_last
                .max(reserved)
                .ok_or(Error::UnknownProblem(problem_id))?;
            let next = last.checked_add(1).ok_or(Error::IdsExhausted(problem_id))?;
            st.last_iteration.insert(problem_id, next);
            (
                TaskIdImpl::new(problem_id, next),
                TaskIdImpl::new(problem_id, last),
            )
        };
        let input = match input {
            Some(i) => i,
            None => self
                .db
                .call(move |s| s.user_input(last))
                .await?
                .ok_or(Error::UnknownTask(last))?,
        };
        let baselines = self.baselines_after(last).await?;
        self.start_task(id, input, baselines).await
    }

    /// Waits until task `id` is done or failed.
    pub async fn wait_task(&self, id: TaskIdImpl, timeout: Duration) -> Result<TaskState> {
        let mut events = self.events.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let summary = self.db.call(move |s| s.summary(id)).await?;
            match summary {
                None => return Err(Error::UnknownTask(id)),
                Some(s) if s.state.is_finished() => return Ok(s.state),
                Some(_) => {}
            }
            // Wake on any finish (or lag) and look again.
            loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Err(_) => {
                        return Err(Error::Timeout {
                            what: format!("task {id}"),
                            timeout,
                        })
                    }
                    Ok(Ok(Event::TaskDone { task_id, .. } | Event::TaskFailed { task_id, .. }))
                        if task_id == id =>
                    {
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
}
