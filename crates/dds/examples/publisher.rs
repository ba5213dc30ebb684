//! Publishes one UserInputImpl on /sustainml/user_input and waits until a subscriber
//! has it. Run beside `subscriber` (both inside `scripts/isolated`).
//!
//! `cargo run -p sustainml-dds --example publisher -- [PROBLEM_ID]`

use std::time::Duration;

use sustainml_dds::{logging, Participant};
use sustainml_types::{samples, topics, TaskIdImpl, UserInputImpl};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    logging::init(Some("publisher"));
    let problem: u32 = std::env::args().nth(1).map_or(Ok(1), |a| a.parse())?;
    let participant = Participant::new("example_publisher")?;
    let publisher = participant.publisher::<UserInputImpl>(topics::USER_INPUT)?;
    publisher
        .wait_for_readers(1, Duration::from_secs(30))
        .await?;
    let mut input = samples::user_input();
    input.task_id = TaskIdImpl::new(problem, 1);
    publisher.write(input.clone()).await?;
    tracing::info!(task = %input.task_id, "published: {}", input.problem_short_description);
    // A dropped writer cannot repair lost packets: wait until the reader has it.
    publisher
        .wait_for_acknowledgments(Duration::from_secs(10))
        .await?;
    Ok(())
}
