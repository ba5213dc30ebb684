//! Rows measured on DDS alone: hop round trips beside Fast DDS and Cyclone, a 64 MB
//! model, a node's round trip, the six-node chain, the configuration service, and the
//! idle cost of a node.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use sustainml_orchestrator::types::NodeId;
use sustainml_orchestrator::{Orchestrator, OrchestratorOptions};

use crate::procs::{clock_ticks, field, median, output, percentile, usage, Background, Env};
use crate::report::{Row, Target};

/// How many round trips of each size.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub small: usize,
    pub large: usize,
    pub chain: usize,
    pub config: usize,
}

/// The six module kinds, in graph order.
pub const KINDS: [&str; 6] = [
    "app_requirements",
    "hw_constraints",
    "ml_model_metadata",
    "ml_model",
    "hw_resources",
    "carbon_footprint",
];

const MINUTE: Duration = Duration::from_secs(60);

/// Round trip p50 (µs) of our MLModelImpl ping-pong of `size` bytes.
fn ours_rtt(env: &Env, domain: u16, size: usize, count: usize) -> Result<(f64, f64)> {
    let peer = env.ours("sustainml-dds-peer");
    let _pong = Background::start(
        "our pong",
        env.command(&env.server_cpus, domain, &peer, &["pong"]),
    )?;
    // A 64 MB round trip takes a tenth of a second: one to warm up is enough.
    let warmup = if size >= 16 << 20 { "1" } else { "20" };
    let (size, count) = (size.to_string(), count.to_string());
    let out = output(
        "our ping",
        env.command(
            &env.client_cpus,
            domain,
            &peer,
            &[
                "ping", "--size", &size, "--count", &count, "--warmup", warmup,
            ],
        ),
        5 * MINUTE,
    )?;
    Ok((field(&out, "rtt_p50_us")?, field(&out, "rtt_p99_us")?))
}

/// Round trip p50 (µs) of the Fast DDS peer's ping-pong.
fn fastdds_rtt(env: &Env, domain: u16, size: usize, count: usize) -> Result<f64> {
    let _pong = Background::start(
        "Fast DDS pong",
        env.command(&env.server_cpus, domain, &env.fastdds, &["pong"]),
    )?;
    let out = output(
        "Fast DDS ping",
        env.command(
            &env.client_cpus,
            domain,
            &env.fastdds,
            &[
                "ping",
                "--size",
                &size.to_string(),
                "--count",
                &count.to_string(),
            ],
        ),
        5 * MINUTE,
    )?;
    field(&out, "rtt_p50_us")
}

/// Round trip p50 (µs) of Cyclone's ddsperf ping-pong: the median of its per-second
/// p50s, the first second left out.
fn cyclone_rtt(env: &Env, domain: u16, size: usize, seconds: u32) -> Result<f64> {
    let d = domain.to_string();
    let _pong = Background::start(
        "ddsperf pong",
        env.command(
            &env.server_cpus,
            domain,
            &env.ddsperf,
            &["-i", &d, "-D", &(seconds + 5).to_string(), "pong"],
        ),
    )?;
    let out = output(
        "ddsperf ping",
        env.command(
            &env.client_cpus,
            domain,
            &env.ddsperf,
            &[
                "-i",
                &d,
                "-D",
                &seconds.to_string(),
                "ping",
                "size",
                &size.to_string(),
            ],
        ),
        Duration::from_secs(u64::from(seconds) + 30),
    )?;
    let p50s: Vec<f64> = out
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            words.find(|w| *w == "50%")?;
            words.next()?.strip_suffix("us")?.parse().ok()
        })
        .skip(1)
        .collect();
    if p50s.is_empty() {
        bail!("ddsperf printed no round trips:\n{out}");
    }
    Ok(median(p50s))
}

/// Hop round trips, 100 B and 1 MiB, ours beside Fast DDS and Cyclone.
pub fn hops(env: &Env, counts: Counts) -> Result<(Row, Row)> {
    let (small, small_p99) = ours_rtt(env, 31, 100, counts.small)?;
    let fast_small = fastdds_rtt(env, 32, 100, counts.small)?;
    let cyc_small = cyclone_rtt(env, 33, 100, 6)?;
    let (large, large_p99) = ours_rtt(env, 34, 1 << 20, counts.large)?;
    let fast_large = fastdds_rtt(env, 35, 1 << 20, counts.large)?;
    let cyc_large = cyclone_rtt(env, 36, 1 << 20, 6)?;
    Ok((
        Row {
            name: "hop_100b",
            what: "hop round trip, 100 B MLModelImpl, two processes, p50",
            unit: "us",
            ours: small,
            peers: vec![("cyclone", cyc_small), ("fastdds", fast_small)],
            target: Target::TimesPeer(1.0),
            note: format!("ours p99 {small_p99:.0} us"),
        },
        Row {
            name: "hop_1mib",
            what: "hop round trip, 1 MiB MLModelImpl (large-payload path), p50",
            unit: "us",
            ours: large,
            peers: vec![("fastdds", fast_large), ("cyclone", cyc_large)],
            target: Target::AtMost(1000.0),
            note: format!("ours p99 {large_p99:.0} us"),
        },
    ))
}

/// A 64 MB model to a pong and back: half the round trip, bytes checked on return.
pub fn model_64mb(env: &Env) -> Result<Row> {
    let (rtt, worst) = ours_rtt(env, 37, 64 << 20, 5)?;
    Ok(Row {
        name: "model_64mb",
        what: "64 MiB MLModelImpl one way (half the round trip), intact",
        unit: "ms",
        ours: rtt / 2e3,
        peers: Vec::new(),
        target: Target::AtMost(100.0),
        note: format!(
            "5 round trips, worst {:.0} ms; every echo byte-checked",
            worst / 2e3
        ),
    })
}

/// Round trip through APP_REQUIREMENTS with a trivial callback, beside Cyclone's hop.
pub fn through_node(env: &Env, cyclone_hop: f64) -> Result<Row> {
    let domain = 38;
    let _node = Background::start(
        "trivial app_requirements",
        env.command(
            &env.server_cpus,
            domain,
            &env.ours("sustainml-test-node"),
            &["--kind", "app_requirements", "--concurrency", "1"],
        ),
    )?;
    let out = output(
        "through",
        env.command(
            &env.client_cpus,
            domain,
            &env.ours("sustainml-dds-peer"),
            &[
                "through",
                "--output",
                "/sustainml/app_requirements/output",
                "--count",
                "1000",
            ],
        ),
        5 * MINUTE,
    )?;
    let p99 = field(&out, "p99_us")?;
    Ok(Row {
        name: "through_node",
        what: "round trip through one node, 100 B input, trivial callback, p50",
        unit: "us",
        ours: field(&out, "p50_us")?,
        peers: vec![("cyclone hop", cyclone_hop)],
        target: Target::TimesPeer(1.5),
        note: format!("p99 {p99:.0} us"),
    })
}

/// Starts the six module kinds with trivial callbacks on `domain`.
fn trivial_graph(env: &Env, domain: u16) -> Result<Vec<Background>> {
    KINDS
        .iter()
        .map(|k| {
            Background::start(
                k,
                env.command(
                    &env.server_cpus,
                    domain,
                    &env.ours("sustainml-test-node"),
                    &["--kind", k],
                ),
            )
        })
        .collect()
}

/// Tasks per second through the chain of six trivial nodes.
pub fn chain(env: &Env, count: usize) -> Result<Row> {
    let domain = 39;
    let _graph = trivial_graph(env, domain)?;
    let out = output(
        "rate",
        env.command(
            &env.client_cpus,
            domain,
            &env.ours("sustainml-dds-peer"),
            &[
                "rate",
                "--output",
                "/sustainml/carbon_tracker/output",
                "--count",
                &count.to_string(),
            ],
        ),
        5 * MINUTE,
    )?;
    Ok(Row {
        name: "chain_six",
        what: "six-node chain, trivial callbacks, all tasks published at once",
        unit: "task/s",
        ours: field(&out, "tasks_per_s")?,
        peers: Vec::new(),
        target: Target::AtLeast(10_000.0),
        note: format!("{count} tasks, every one arrived"),
    })
}

/// Configuration request round trips from the orchestrator library to a trivial
/// HW_RESOURCES node, beside the Fast DDS hop measured before.
pub async fn config_rtt(env: &Env, count: usize, fastdds_hop: f64) -> Result<Row> {
    let domain = 40;
    let _graph = trivial_graph(env, domain)?;
    let dir = env.scratch.join("config-rtt");
    let _ = std::fs::remove_dir_all(&dir);
    let orch = Orchestrator::start(OrchestratorOptions::new(&dir).domain(domain)).await?;
    orch.wait_ready(MINUTE).await?;
    let mut rtts = Vec::with_capacity(count);
    for k in 0..count + 20 {
        let start = Instant::now();
        let r = orch
            .configuration_request(NodeId::HwResources, "hardwares")
            .await?;
        if !r.success {
            bail!("configuration request failed: {}", r.configuration);
        }
        if k >= 20 {
            rtts.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    orch.close().await;
    rtts.sort_by(f64::total_cmp);
    Ok(Row {
        name: "config_rtt",
        what: "configuration request round trip (orchestrator library), p50",
        unit: "us",
        ours: percentile(&rtts, 0.5),
        peers: vec![("fastdds hop", fastdds_hop)],
        target: Target::AtMost(300.0),
        note: format!("p99 {:.0} us", percentile(&rtts, 0.99)),
    })
}

/// Resident MB and CPU % of a process over `window`, after it settled.
fn idle_cost(bg: &Background, window: Duration) -> Result<(f64, f64)> {
    std::thread::sleep(Duration::from_secs(3));
    let (_, t0) = usage(bg.pid())?;
    let start = Instant::now();
    std::thread::sleep(window);
    let (rss, t1) = usage(bg.pid())?;
    let hz = clock_ticks()?;
    let cpu = (t1 - t0) as f64 / hz / start.elapsed().as_secs_f64() * 100.0;
    Ok((rss as f64 / 1024.0, cpu))
}

/// A real module node alone on its domain, idle, beside an idle ddsperf.
pub fn idle(env: &Env, window: Duration) -> Result<(Row, Row)> {
    let node = Background::start(
        "idle app_requirements",
        env.command(
            &env.server_cpus,
            41,
            &env.ours("sustainml-app-requirements"),
            &[],
        ),
    )?;
    let (rss, cpu) = idle_cost(&node, window)?;
    drop(node);
    let perf = Background::start(
        "idle ddsperf",
        env.command(
            &env.server_cpus,
            42,
            &env.ddsperf,
            &["-i", "42", "-D", "600", "pong"],
        ),
    )?;
    let (perf_rss, perf_cpu) = idle_cost(&perf, window)?;
    let secs = window.as_secs();
    Ok((
        Row {
            name: "idle_rss",
            what: "idle module node (APP_REQUIREMENTS) alone on its domain, resident memory",
            unit: "MB",
            ours: rss,
            peers: vec![("cyclone ddsperf", perf_rss)],
            target: Target::AtMost(15.0),
            note: String::new(),
        },
        Row {
            name: "idle_cpu",
            what: "the same idle node, CPU use",
            unit: "%",
            ours: cpu,
            peers: vec![("cyclone ddsperf", perf_cpu)],
            target: Target::AtMost(0.1),
            note: format!("over {secs} s"),
        },
    ))
}
