//! Prints every UserInputImpl received on /sustainml/user_input, as JSON; exits after
//! COUNT samples (default 1).
//!
//! `cargo run -p sustainml-dds --example subscriber -- [COUNT]`

use sustainml_dds::{logging, Participant};
use sustainml_types::{topics, UserInputImpl};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    logging::init(Some("subscriber"));
    let count: usize = std::env::args().nth(1).map_or(Ok(1), |a| a.parse())?;
    let participant = Participant::new("example_subscriber")?;
    let mut subscriber = participant.subscriber::<UserInputImpl>(topics::USER_INPUT)?;
    for _ in 0..count {
        let sample = subscriber.recv().await?;
        let input = sample.value;
        let json = serde_json::json!({
            "task_id": input.task_id.to_string(),
            "modality": input.modality,
            "problem_short_description": input.problem_short_description,
            "inputs": input.inputs,
            "outputs": input.outputs,
            "geo_location": [input.geo_location_continent, input.geo_location_region],
            "extra_data": input.extra_data_json(),
            "writer": sample.writer.to_string(),
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    Ok(())
}
