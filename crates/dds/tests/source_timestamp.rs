//! Protects "every sample carries its writer's clock": each DATA goes out after an
//! INFO_TS with the time of the write, so readers see a source timestamp, and Fast
//! DDS readers, which order the samples of different writers by that timestamp,
//! keep a repaired sample before its successors instead of skipping it.
//! (Opens participants: run inside scripts/isolated, as scripts/test does.)

use std::time::{Duration, SystemTime};

use sustainml_dds::Participant;
use sustainml_types::{samples, topics, UserInputImpl};

#[test]
fn a_received_sample_carries_the_time_its_writer_wrote_it() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let domain = 199;
        let writer_side = Participant::builder()
            .name("timestamp-writer")
            .domain(domain)
            .build()
            .expect("writer participant");
        let reader_side = Participant::builder()
            .name("timestamp-reader")
            .domain(domain)
            .build()
            .expect("reader participant");
        let mut reader = reader_side
            .subscriber::<UserInputImpl>(topics::USER_INPUT)
            .expect("reader");
        let writer = writer_side
            .publisher::<UserInputImpl>(topics::USER_INPUT)
            .expect("writer");
        writer
            .wait_for_readers(1, Duration::from_secs(30))
            .await
            .expect("the reader is discovered");

        let before = SystemTime::now();
        writer.write(samples::user_input()).await.expect("write");
        let after = SystemTime::now();
        let got = tokio::time::timeout(Duration::from_secs(30), reader.recv())
            .await
            .expect("the sample arrives within 30 s")
            .expect("receive");

        let stamp = got
            .source_timestamp
            .expect("the sample has a source timestamp (INFO_TS)");
        // RTPS timestamps have a resolution of 2^-32 s: allow a microsecond of rounding.
        let slack = Duration::from_micros(1);
        assert!(
            stamp + slack >= before && stamp <= after + slack,
            "source timestamp {stamp:?} is not the time of the write ({before:?}..{after:?})"
        );
    });
}
