//! `sustainml-dds-peer`: our side of the cross-process tests and benchmarks, and a
//! handy tool for manual tries. It speaks the same line protocol as the Fast DDS peer
//! in `tests/fastdds` (payloads as `TOPIC HEX`, the hex being a full XCDR1 payload), so
//! a test can swap one for the other. Run it inside `scripts/isolated`.
//!
//! ```text
//! sustainml-dds-peer pub --input FILE          write the `TOPIC HEX` lines of FILE
//! sustainml-dds-peer sub --expect N            print what arrives until N per topic
//! sustainml-dds-peer reply --node-id N         answer configuration requests
//! sustainml-dds-peer request --node-id N --configuration TEXT
//! sustainml-dds-peer pong | ping --size B --count N
//! sustainml-dds-peer models-send --sizes 1048576,16777216 --repeat 3
//! sustainml-dds-peer models-recv --expect 6
//! ```

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use sustainml_dds::blob::BlobConfig;
use sustainml_dds::{logging, qos, Participant, RawPublisher, Replier, Requester};
use sustainml_types::codec::{self, Hex};
use sustainml_types::topics::{self, TopicInfo, TOPICS};
use sustainml_types::*;
use tokio::sync::mpsc;

/// [`sustainml_types::with_topic_type`], failing on a type the table does not have.
macro_rules! with_type {
    ($topic:expr, $T:ident => $body:expr) => {
        sustainml_types::with_topic_type!($topic, $T => $body, other => bail!("no Rust type for {other}"))
    };
}

#[derive(Parser)]
#[command(about = "sustainml-rs DDS peer for tests and benchmarks (run inside scripts/isolated)")]
struct Cli {
    /// Large payloads above this many bytes go beside DDS (see sustainml_dds::blob).
    #[arg(long, global = true)]
    inline_max: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Publish the `TOPIC HEX` lines of a file, after every topic has a reader.
    Pub {
        #[arg(long)]
        input: PathBuf,
        #[arg(long, default_value_t = 30)]
        match_timeout: u64,
        #[arg(long, default_value_t = 2)]
        linger: u64,
    },
    /// Write raw payload bodies (hex, after the 4-byte header) with a given
    /// representation identifier (0001, 0007 or 0003): how a broken writer looks.
    PubRaw {
        #[arg(long)]
        topic: String,
        #[arg(long, default_value = "0001")]
        encapsulation: String,
        #[arg(long = "body", required = true)]
        bodies: Vec<String>,
        #[arg(long, default_value_t = 30)]
        match_timeout: u64,
        #[arg(long, default_value_t = 2)]
        linger: u64,
    },
    /// Publish COUNT tasks (1..=COUNT) of sample values on each topic, as fast as the
    /// writers allow; prints `SENT k` every 10 000 tasks.
    Flood {
        #[arg(long, value_delimiter = ',')]
        topics: Vec<String>,
        #[arg(long)]
        count: u32,
        /// Tasks per second (0: as fast as the writers allow).
        #[arg(long, default_value_t = 0)]
        rate: u32,
        #[arg(long, default_value_t = 30)]
        match_timeout: u64,
    },
    /// Latency through a node: publish a UserInputImpl, wait for the node's output of
    /// the same task on OUTPUT, COUNT times; prints percentiles.
    Through {
        #[arg(long)]
        output: String,
        #[arg(long)]
        count: u32,
        #[arg(long, default_value_t = 20)]
        warmup: u32,
    },
    /// Throughput of a graph: publish COUNT tasks (user input and the three baselines)
    /// at once and time until OUTPUT has them all.
    Rate {
        #[arg(long)]
        output: String,
        #[arg(long)]
        count: u32,
    },
    /// Print `TOPIC HEX` for every sample until each topic has N distinct ones.
    Sub {
        #[arg(long, default_value = "all")]
        topics: String,
        #[arg(long)]
        expect: usize,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        /// Seconds to stay after the last sample, so writers get our acknowledgments.
        #[arg(long, default_value_t = 1)]
        linger: u64,
        /// Wait this long before taking the first sample: an application busy
        /// elsewhere while its writers write (and leave).
        #[arg(long, default_value_t = 0)]
        start_delay_ms: u64,
    },
    /// Answer configuration requests for one node id with "rust-echo: " and the request.
    Reply {
        #[arg(long)]
        node_id: i32,
        #[arg(long, default_value_t = 1)]
        count: usize,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Send one configuration request and print the response.
    Request {
        #[arg(long)]
        node_id: i32,
        #[arg(long)]
        configuration: String,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Echo bench/ping to bench/pong until a sample with problem_id 0.
    Pong {
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
    /// Measure round trips of MLModelImpl samples through a pong.
    Ping {
        #[arg(long)]
        size: usize,
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 50)]
        warmup: usize,
        #[arg(long, default_value_t = 30)]
        match_timeout: u64,
    },
    /// Publish models with a raw_model of each size, REPEAT times.
    ModelsSend {
        #[arg(long, value_delimiter = ',')]
        sizes: Vec<usize>,
        #[arg(long, default_value_t = 1)]
        repeat: u32,
        #[arg(long, default_value_t = 30)]
        match_timeout: u64,
        #[arg(long, default_value_t = 60)]
        linger: u64,
    },
    /// Receive models, check every byte of raw_model, print `model TASK SIZE ok MS`.
    ModelsRecv {
        #[arg(long)]
        expect: usize,
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
}

#[tokio::main]
async fn main() {
    logging::init(Some("dds-peer"));
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("sustainml-dds-peer: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let mut blob = BlobConfig::default();
    if let Some(max) = cli.inline_max {
        blob.inline_max = max;
    }
    let participant = Participant::builder()
        .name("RUST_PEER")
        .blob_config(blob)
        .build()?;
    match cli.command {
        Command::Pub {
            input,
            match_timeout,
            linger,
        } => publish_file(&participant, &input, secs(match_timeout), secs(linger)).await,
        Command::PubRaw {
            topic: name,
            encapsulation,
            bodies,
            match_timeout,
            linger,
        } => {
            let id: [u8; 2] = hex::decode(&encapsulation)
                .ok()
                .and_then(|b| b.try_into().ok())
                .with_context(|| {
                    format!("--encapsulation {encapsulation:?} is not 4 hex digits")
                })?;
            let raw = RawPublisher::new(&participant, topic(&name)?, id)?;
            // Wait for the reader through a typed writer on the same topic: raw writers
            // have no match status of their own.
            let info = topic(&name)?;
            with_type!(info, T => {
                let typed = participant.publisher::<T>(info)?;
                typed.wait_for_readers(1, secs(match_timeout)).await?;
            });
            for (i, body) in bodies.iter().enumerate() {
                let bytes = hex::decode(body).with_context(|| format!("--body {i}: bad hex"))?;
                raw.write(bytes, i as u64).await?;
            }
            tokio::time::sleep(secs(linger)).await;
            Ok(())
        }
        Command::Flood {
            topics: names,
            count,
            rate,
            match_timeout,
        } => flood(&participant, &names, count, rate, secs(match_timeout)).await,
        Command::Through {
            output,
            count,
            warmup,
        } => through(&participant, &output, count, warmup).await,
        Command::Rate { output, count } => rate(&participant, &output, count).await,
        Command::Sub {
            topics,
            expect,
            timeout,
            linger,
            start_delay_ms,
        } => {
            let delay = Duration::from_millis(start_delay_ms);
            subscribe(&participant, &topics, expect, secs(timeout), delay).await?;
            tokio::time::sleep(secs(linger)).await;
            Ok(())
        }
        Command::Reply {
            node_id,
            count,
            timeout,
        } => reply(&participant, node_id, count, secs(timeout)).await,
        Command::Request {
            node_id,
            configuration,
            timeout,
        } => {
            let requester = Requester::new(&participant)?;
            let response = requester
                .request(node_id, configuration, secs(timeout))
                .await?;
            println!(
                "{} {}",
                topics::RESPONSE.name,
                Hex(&codec::encode(&response)?)
            );
            Ok(())
        }
        Command::Pong { timeout } => pong(&participant, secs(timeout)).await,
        Command::Ping {
            size,
            count,
            warmup,
            match_timeout,
        } => ping(&participant, size, count, warmup, secs(match_timeout)).await,
        Command::ModelsSend {
            sizes,
            repeat,
            match_timeout,
            linger,
        } => {
            models_send(
                &participant,
                &sizes,
                repeat,
                secs(match_timeout),
                secs(linger),
            )
            .await
        }
        Command::ModelsRecv { expect, timeout } => {
            models_recv(&participant, expect, secs(timeout)).await
        }
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn topic(name: &str) -> Result<TopicInfo> {
    topics::by_name(name).with_context(|| format!("unknown topic {name:?}"))
}

/// Writes every sample of one topic, in file order.
async fn write_all<T: WireType>(
    participant: &Participant,
    topic: TopicInfo,
    payloads: &[Vec<u8>],
    match_timeout: Duration,
) -> Result<()> {
    let publisher = participant.publisher::<T>(topic)?;
    publisher.wait_for_readers(1, match_timeout).await?;
    for p in payloads {
        publisher.write(codec::decode::<T>(p)?).await?;
    }
    if !publisher.wait_for_acknowledgments(match_timeout).await? {
        bail!(
            "{}: not every reader acknowledged within {match_timeout:?}",
            topic.name
        );
    }
    Ok(())
}

async fn publish_file(
    participant: &Participant,
    input: &PathBuf,
    match_timeout: Duration,
    linger: Duration,
) -> Result<()> {
    let text =
        std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let mut by_topic: BTreeMap<&str, (TopicInfo, Vec<Vec<u8>>)> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, hex) = line
            .split_once(' ')
            .with_context(|| format!("{}:{}: expected `TOPIC HEX`", input.display(), n + 1))?;
        let info = topic(name).with_context(|| format!("{}:{}", input.display(), n + 1))?;
        let bytes = hex::decode(hex.trim())
            .with_context(|| format!("{}:{}: bad hex", input.display(), n + 1))?;
        by_topic
            .entry(info.name)
            .or_insert((info, Vec::new()))
            .1
            .push(bytes);
    }
    let mut jobs = Vec::new();
    for (info, payloads) in by_topic.into_values() {
        let participant = participant.clone();
        jobs.push(tokio::spawn(async move {
            with_type!(info, T => write_all::<T>(&participant, info, &payloads, match_timeout).await)
        }));
    }
    for job in jobs {
        job.await??;
    }
    tokio::time::sleep(linger).await;
    Ok(())
}

async fn flood_topic<T: TaskData + Default>(
    participant: Participant,
    topic: TopicInfo,
    sample: T,
    count: u32,
    rate: u32,
    match_timeout: Duration,
    progress: mpsc::UnboundedSender<u32>,
) -> Result<()> {
    let publisher = participant.publisher::<T>(topic)?;
    publisher.wait_for_readers(1, match_timeout).await?;
    let start = tokio::time::Instant::now();
    for k in 1..=count {
        if rate > 0 {
            tokio::time::sleep_until(
                start + Duration::from_secs_f64(f64::from(k) / f64::from(rate)),
            )
            .await;
        }
        let mut value = sample.clone();
        value.set_task_id(TaskIdImpl::new(k, 1));
        while let Err(e) = publisher.write(value.clone()).await {
            eprintln!("{}: {e}; retrying", topic.name);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = progress.send(k);
    }
    publisher.wait_for_acknowledgments(match_timeout).await?;
    Ok(())
}

async fn flood(
    participant: &Participant,
    names: &[String],
    count: u32,
    rate: u32,
    match_timeout: Duration,
) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut jobs = Vec::new();
    for name in names {
        let info = topic(name)?;
        let (participant, tx) = (participant.clone(), tx.clone());
        jobs.push(tokio::spawn(async move {
            match info.type_name {
                "UserInputImpl" => {
                    flood_topic(
                        participant,
                        info,
                        samples::user_input(),
                        count,
                        rate,
                        match_timeout,
                        tx,
                    )
                    .await
                }
                "MLModelMetadataImpl" => {
                    flood_topic(
                        participant,
                        info,
                        samples::ml_model_metadata(),
                        count,
                        rate,
                        match_timeout,
                        tx,
                    )
                    .await
                }
                "AppRequirementsImpl" => {
                    flood_topic(
                        participant,
                        info,
                        samples::app_requirements(),
                        count,
                        rate,
                        match_timeout,
                        tx,
                    )
                    .await
                }
                "HWConstraintsImpl" => {
                    flood_topic(
                        participant,
                        info,
                        samples::hw_constraints(),
                        count,
                        rate,
                        match_timeout,
                        tx,
                    )
                    .await
                }
                "MLModelImpl" => {
                    flood_topic(
                        participant,
                        info,
                        samples::ml_model(),
                        count,
                        rate,
                        match_timeout,
                        tx,
                    )
                    .await
                }
                "HWResourceImpl" => {
                    flood_topic(
                        participant,
                        info,
                        samples::hw_resource(),
                        count,
                        rate,
                        match_timeout,
                        tx,
                    )
                    .await
                }
                "CO2FootprintImpl" => {
                    flood_topic(
                        participant,
                        info,
                        samples::co2_footprint(),
                        count,
                        rate,
                        match_timeout,
                        tx,
                    )
                    .await
                }
                other => bail!("cannot flood {other}"),
            }
        }));
    }
    drop(tx);
    let mut lowest_reported = 0;
    let topics_n = names.len();
    let mut per: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    while let Some(k) = rx.recv().await {
        let n = per.entry(k).or_insert(0);
        *n += 1;
        if *n == topics_n {
            per.remove(&k);
            if k % 10_000 == 0 && k > lowest_reported {
                lowest_reported = k;
                println!("SENT {k}");
            }
        }
    }
    for job in jobs {
        job.await??;
    }
    println!("DONE {count}");
    Ok(())
}

async fn read_topic<T: WireType>(
    participant: Participant,
    topic: TopicInfo,
    out: mpsc::UnboundedSender<(&'static str, Vec<u8>)>,
    start_delay: Duration,
) -> Result<()> {
    let mut subscriber = participant.subscriber::<T>(topic)?;
    tokio::time::sleep(start_delay).await;
    loop {
        let sample = subscriber.recv().await?;
        if out
            .send((topic.name, codec::encode(&sample.value)?))
            .is_err()
        {
            return Ok(());
        }
    }
}

async fn subscribe(
    participant: &Participant,
    which: &str,
    expect: usize,
    timeout: Duration,
    start_delay: Duration,
) -> Result<()> {
    let chosen: Vec<TopicInfo> = if which == "all" {
        TOPICS
            .iter()
            .copied()
            .filter(|t| !t.name.starts_with("sustainml/"))
            .collect()
    } else {
        which.split(',').map(topic).collect::<Result<_>>()?
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    for info in &chosen {
        let (participant, tx, info) = (participant.clone(), tx.clone(), *info);
        tokio::spawn(async move {
            let result: Result<()> = async {
                with_type!(info, T => read_topic::<T>(participant, info, tx, start_delay).await)
            }
            .await;
            if let Err(e) = result {
                eprintln!("reader on {}: {e:#}", info.name);
            }
        });
    }
    println!("READY");
    let mut seen: BTreeMap<&str, HashSet<Vec<u8>>> =
        chosen.iter().map(|t| (t.name, HashSet::new())).collect();
    let deadline = tokio::time::Instant::now() + timeout;
    while seen.values().any(|s| s.len() < expect) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((name, bytes))) => {
                println!("{name} {}", Hex(&bytes));
                seen.entry(name).or_default().insert(bytes);
            }
            _ => {
                let counts: Vec<String> = seen
                    .iter()
                    .map(|(t, s)| format!("{t}={}", s.len()))
                    .collect();
                bail!(
                    "timed out; distinct samples per topic: {}",
                    counts.join(" ")
                );
            }
        }
    }
    Ok(())
}

async fn reply(
    participant: &Participant,
    node_id: i32,
    count: usize,
    timeout: Duration,
) -> Result<()> {
    let mut replier = Replier::new(participant, node_id)?;
    let responder = replier.responder();
    println!("READY");
    let deadline = tokio::time::Instant::now() + timeout;
    for _ in 0..count {
        let request = tokio::time::timeout_at(deadline, replier.next())
            .await
            .context("timed out waiting for a request")??;
        let echo = RequestTypeImpl {
            node_id: request.node_id,
            transaction_id: request.transaction_id,
            configuration: request.configuration.clone(),
        };
        responder
            .reply(
                &request,
                true,
                ErrorCode::NoError,
                format!("rust-echo: {}", request.configuration),
            )
            .await?;
        responder.wait_for_acknowledgments(secs(5)).await?;
        println!("{} {}", topics::REQUEST.name, Hex(&codec::encode(&echo)?));
    }
    // Let the reliable protocol deliver the last response.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

const PING: TopicInfo = TopicInfo {
    name: "bench/ping",
    type_name: "MLModelImpl",
};
const PONG: TopicInfo = TopicInfo {
    name: "bench/pong",
    type_name: "MLModelImpl",
};

async fn pong(participant: &Participant, timeout: Duration) -> Result<()> {
    let mut pings = participant.subscriber_with_qos::<MLModelImpl>(PING, qos::volatile())?;
    let pongs = participant.publisher_with_qos::<MLModelImpl>(PONG, qos::volatile())?;
    println!("READY");
    loop {
        let sample = tokio::time::timeout(timeout, pings.recv())
            .await
            .context("no ping")??;
        let stop = sample.value.task_id.problem_id == 0;
        pongs.write(sample.value).await?;
        if stop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            return Ok(());
        }
    }
}

async fn ping(
    participant: &Participant,
    size: usize,
    count: usize,
    warmup: usize,
    match_timeout: Duration,
) -> Result<()> {
    let pings = participant.publisher_with_qos::<MLModelImpl>(PING, qos::volatile())?;
    let mut pongs = participant.subscriber_with_qos::<MLModelImpl>(PONG, qos::volatile())?;
    pings.wait_for_readers(1, match_timeout).await?;
    pongs.wait_for_writers(1, match_timeout).await?;
    let mut payload = vec![0xa5u8; size];
    let mut rtts = Vec::with_capacity(count);
    for k in 1..=(warmup + count) {
        let task = TaskIdImpl::new(u32::try_from(k)?, 1);
        // Every round's bytes differ (its number at the front), so each one travels:
        // a reader never reuses a payload it already holds (see sustainml_dds::blob).
        let stamp = (k as u64).to_le_bytes();
        let n = stamp.len().min(size);
        payload[..n].copy_from_slice(&stamp[..n]);
        let model = MLModelImpl {
            raw_model: payload.clone(),
            task_id: task,
            ..Default::default()
        };
        let start = Instant::now();
        pings.write(model).await?;
        loop {
            let echo = tokio::time::timeout(Duration::from_secs(10), pongs.recv())
                .await
                .with_context(|| format!("no echo of round {k} within 10 s"))??;
            if echo.value.task_id == task {
                let rtt = start.elapsed();
                if echo.value.raw_model != payload {
                    bail!(
                        "round {k}: the echo's raw_model differs from what was sent ({} bytes back, {size} sent)",
                        echo.value.raw_model.len()
                    );
                }
                if k > warmup {
                    rtts.push(rtt.as_secs_f64() * 1e6);
                }
                break;
            }
        }
    }
    pings.write(MLModelImpl::default()).await?;
    rtts.sort_by(f64::total_cmp);
    let pct = |p: f64| rtts[((rtts.len() as f64 - 1.0) * p).round() as usize];
    let mean = rtts.iter().sum::<f64>() / rtts.len() as f64;
    println!(
        "rust size={size} count={count} rtt_p50_us={:.1} rtt_p99_us={:.1} rtt_mean_us={mean:.1} oneway_p50_us={:.1}",
        pct(0.5),
        pct(0.99),
        pct(0.5) / 2.0
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

/// Task ids seen on `output` (any output type), sent on a channel.
async fn watch_output(
    participant: &Participant,
    output: &str,
) -> Result<mpsc::UnboundedReceiver<TaskIdImpl>> {
    async fn watch<T: TaskData>(
        participant: Participant,
        topic: TopicInfo,
        tx: mpsc::UnboundedSender<TaskIdImpl>,
    ) -> Result<()> {
        let mut sub = participant.subscriber::<T>(topic)?;
        while let Ok(r) = sub.recv().await {
            if tx.send(r.value.task_id()).is_err() {
                break;
            }
        }
        Ok(())
    }
    let info = topic(output)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let participant = participant.clone();
    tokio::spawn(async move {
        let r: Result<()> = async {
            match info.type_name {
                "AppRequirementsImpl" => watch::<AppRequirementsImpl>(participant, info, tx).await,
                "HWConstraintsImpl" => watch::<HWConstraintsImpl>(participant, info, tx).await,
                "MLModelMetadataImpl" => watch::<MLModelMetadataImpl>(participant, info, tx).await,
                "MLModelImpl" => watch::<MLModelImpl>(participant, info, tx).await,
                "HWResourceImpl" => watch::<HWResourceImpl>(participant, info, tx).await,
                "CO2FootprintImpl" => watch::<CO2FootprintImpl>(participant, info, tx).await,
                other => bail!("cannot watch {other}"),
            }
        }
        .await;
        if let Err(e) = r {
            eprintln!("watch {}: {e:#}", info.name);
        }
    });
    Ok(rx)
}

async fn through(participant: &Participant, output: &str, count: u32, warmup: u32) -> Result<()> {
    let mut outputs = watch_output(participant, output).await?;
    let inputs = participant.publisher::<UserInputImpl>(topics::USER_INPUT)?;
    inputs.wait_for_readers(1, secs(30)).await?;
    let mut rtts = Vec::new();
    for k in 1..=(warmup + count) {
        let task = TaskIdImpl::new(k, 1);
        let mut input = samples::user_input();
        input.task_id = task;
        let start = Instant::now();
        inputs.write(input).await?;
        loop {
            let got = tokio::time::timeout(secs(10), outputs.recv())
                .await
                .with_context(|| format!("no output for {task} within 10 s"))?
                .context("output watcher stopped")?;
            if got == task {
                break;
            }
        }
        if k > warmup {
            rtts.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    rtts.sort_by(f64::total_cmp);
    let pct = |p: f64| rtts[((rtts.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "through-node count={count} p50_us={:.1} p99_us={:.1}",
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}

async fn rate(participant: &Participant, output: &str, count: u32) -> Result<()> {
    let mut outputs = watch_output(participant, output).await?;
    let users = participant.publisher::<UserInputImpl>(topics::USER_INPUT)?;
    let models = participant.publisher::<MLModelImpl>(topics::ML_MODEL_BASELINE)?;
    let hws = participant.publisher::<HWResourceImpl>(topics::HW_RESOURCES_BASELINE)?;
    let co2s = participant.publisher::<CO2FootprintImpl>(topics::CARBON_FOOTPRINT_BASELINE)?;
    for w in [
        users.wait_for_readers(1, secs(30)).await,
        models.wait_for_readers(1, secs(30)).await,
        hws.wait_for_readers(1, secs(30)).await,
        co2s.wait_for_readers(1, secs(30)).await,
    ] {
        w?;
    }
    let start = Instant::now();
    for k in 1..=count {
        let task = TaskIdImpl::new(k, 1);
        let (mut u, mut m, mut h, mut c) = (
            samples::user_input(),
            samples::ml_model(),
            samples::hw_resource(),
            samples::co2_footprint(),
        );
        u.task_id = task;
        m.task_id = task;
        h.task_id = task;
        c.task_id = task;
        models.write(m).await?;
        hws.write(h).await?;
        co2s.write(c).await?;
        users.write(u).await?;
    }
    let mut done = HashSet::new();
    while done.len() < count as usize {
        let got = tokio::time::timeout(secs(60), outputs.recv())
            .await
            .with_context(|| format!("only {} of {count} tasks finished", done.len()))?
            .context("output watcher stopped")?;
        done.insert(got);
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "chain count={count} seconds={elapsed:.2} tasks_per_s={:.1}",
        f64::from(count) / elapsed
    );
    Ok(())
}

/// Byte `i` of the test model of task `task`: a pattern that catches shifted, dropped
/// or repeated chunks.
fn pattern(task: TaskIdImpl, i: usize) -> u8 {
    let x = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(task.problem_id);
    (x >> 29) as u8
}

async fn models_send(
    participant: &Participant,
    sizes: &[usize],
    repeat: u32,
    match_timeout: Duration,
    linger: Duration,
) -> Result<()> {
    let publisher = participant.publisher::<MLModelImpl>(topics::ML_MODEL_OUTPUT)?;
    publisher.wait_for_readers(1, match_timeout).await?;
    let mut problem = 0;
    for round in 0..repeat {
        for &size in sizes {
            problem += 1;
            let task = TaskIdImpl::new(problem, round + 1);
            let model = MLModelImpl {
                model: format!("model-{size}"),
                raw_model: (0..size).map(|i| pattern(task, i)).collect(),
                extra_data: format!(r#"{{"size":{size}}}"#).into_bytes(),
                task_id: task,
                ..Default::default()
            };
            publisher.write(model).await?;
            eprintln!("sent {task} ({size} bytes)");
        }
    }
    publisher.wait_for_acknowledgments(match_timeout).await?;
    println!("SENT {problem}");
    tokio::time::sleep(linger).await;
    Ok(())
}

async fn models_recv(participant: &Participant, expect: usize, timeout: Duration) -> Result<()> {
    let mut subscriber = participant.subscriber::<MLModelImpl>(topics::ML_MODEL_OUTPUT)?;
    println!("READY");
    let deadline = tokio::time::Instant::now() + timeout;
    let mut seen = HashSet::new();
    let mut last = Instant::now();
    while seen.len() < expect {
        let sample = tokio::time::timeout_at(deadline, subscriber.recv())
            .await
            .with_context(|| format!("timed out after {} models", seen.len()))??;
        let m = sample.value;
        let ok = m
            .raw_model
            .iter()
            .enumerate()
            .all(|(i, b)| *b == pattern(m.task_id, i))
            && m.extra_data == format!(r#"{{"size":{}}}"#, m.raw_model.len()).into_bytes();
        println!(
            "model {} {} {} {:.1}",
            m.task_id,
            m.raw_model.len(),
            if ok { "ok" } else { "corrupt" },
            last.elapsed().as_secs_f64() * 1e3
        );
        last = Instant::now();
        if !ok {
            bail!("model {} arrived corrupted", m.task_id);
        }
        seen.insert(m.task_id);
    }
    Ok(())
}
