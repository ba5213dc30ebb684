//! sustainml-bench: every row of the performance table in one run, ours beside the
//! peers measured in the same run (Fast DDS 2.9 through tests/fastdds, Cyclone DDS's
//! `ddsperf`), the serving side pinned to `--server-cpus` and the measuring side to
//! `--client-cpus`. `scripts/bench` builds everything and runs it inside
//! `scripts/isolated`; it refuses to run outside a private network namespace.
//!
//! Prints the table (ours, each peer and the ratio, the target and whether it is met)
//! and writes it to `--csv`. A benchmark: it fails only when a measurement cannot be
//! made (a process that does not start, a sample that does not come back), never
//! because a figure misses its target.

mod dds;
mod graph;
mod procs;
mod report;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;

use procs::Env;
use report::Row;

/// The rows, in the order they run.
const ROWS: [&str; 12] = [
    "hop_100b",
    "hop_1mib",
    "model_64mb",
    "through_node",
    "chain_six",
    "config_rtt",
    "idle_rss",
    "idle_cpu",
    "launch_idle",
    "rest_latency",
    "burst_1000",
    "post_rate",
];

#[derive(Parser)]
#[command(about = "sustainml-rs performance table, ours beside Fast DDS and Cyclone DDS")]
struct Cli {
    /// The Fast DDS peer (tests/fastdds/build.sh prints its path).
    #[arg(long)]
    fastdds_peer: PathBuf,
    /// Cyclone DDS's ddsperf (Debian cyclonedds-tools).
    #[arg(long, default_value = "/usr/bin/ddsperf")]
    ddsperf: PathBuf,
    /// The CSV written at the end (and after every row).
    #[arg(long)]
    csv: PathBuf,
    /// Only these rows (comma-separated names from the table); rows that give a peer
    /// figure to a later row run when that row is asked for.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// CPUs of the serving side (pong, nodes, the graph), as taskset -c takes them.
    #[arg(long, default_value = "0")]
    server_cpus: String,
    /// CPUs of the measuring side (ping, requests).
    #[arg(long, default_value = "1")]
    client_cpus: String,
    /// Fewer rounds per row: a quick look, noisier figures.
    #[arg(long)]
    quick: bool,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if std::env::var("SUSTAINML_ISOLATED").as_deref() != Ok("1") {
        bail!("run inside scripts/isolated (scripts/bench does)");
    }
    for name in &cli.only {
        if !ROWS.contains(&name.as_str()) {
            bail!("--only: no row {name:?}; the rows are {}", ROWS.join(", "));
        }
    }
    let exe = std::env::current_exe()?;
    let env = Env {
        bin: exe.parent().map(PathBuf::from).unwrap_or_default(),
        fastdds: cli.fastdds_peer.clone(),
        ddsperf: cli.ddsperf.clone(),
        server_cpus: cli.server_cpus.clone(),
        client_cpus: cli.client_cpus.clone(),
        scratch: sustainml_tests::repo_root()
            .join(format!("target/bench/run-{}", std::process::id())),
    };
    std::fs::create_dir_all(&env.scratch)?;
    let want = |names: &[&str]| {
        cli.only.is_empty() || names.iter().any(|n| cli.only.iter().any(|o| o == n))
    };
    let q = cli.quick;
    let dds_counts = dds::Counts {
        small: if q { 500 } else { 2000 },
        large: if q { 50 } else { 200 },
        chain: if q { 2000 } else { 10_000 },
        config: if q { 100 } else { 500 },
    };
    let mut rows: Vec<Row> = Vec::new();
    let emit = |row: Row, rows: &mut Vec<Row>| -> Result<()> {
        println!("{}", report::line(&row));
        rows.push(row);
        report::write_csv(&cli.csv, rows)
    };
    println!("{}", report::header());
    if want(&["hop_100b", "hop_1mib", "through_node", "config_rtt"]) {
        let (small, large) = dds::hops(&env, dds_counts)?;
        emit(small, &mut rows)?;
        emit(large, &mut rows)?;
    }
    let peer = |rows: &[Row], who: &str| {
        rows.iter()
            .find(|r| r.name == "hop_100b")
            .and_then(|r| r.peers.iter().find(|(w, _)| *w == who))
            .map_or(f64::NAN, |(_, v)| *v)
    };
    if want(&["model_64mb"]) {
        emit(dds::model_64mb(&env)?, &mut rows)?;
    }
    if want(&["through_node"]) {
        let cyclone = peer(&rows, "cyclone");
        emit(dds::through_node(&env, cyclone)?, &mut rows)?;
    }
    if want(&["chain_six"]) {
        emit(dds::chain(&env, dds_counts.chain)?, &mut rows)?;
    }
    if want(&["config_rtt"]) {
        let fastdds = peer(&rows, "fastdds");
        let runtime = tokio::runtime::Runtime::new()?;
        emit(
            runtime.block_on(dds::config_rtt(&env, dds_counts.config, fastdds))?,
            &mut rows,
        )?;
    }
    if want(&["idle_rss", "idle_cpu"]) {
        let window = Duration::from_secs(if q { 5 } else { 20 });
        let (rss, cpu) = dds::idle(&env, window)?;
        emit(rss, &mut rows)?;
        emit(cpu, &mut rows)?;
    }
    if want(&["launch_idle", "rest_latency", "burst_1000", "post_rate"]) {
        let counts = graph::Counts {
            launches: if q { 2 } else { 5 },
            latency: if q { 50 } else { 300 },
            burst: 1000,
            posts: if q { 1000 } else { 5000 },
        };
        for row in graph::rows(&env, counts)? {
            emit(row, &mut rows)?;
        }
    }
    let _ = std::fs::remove_dir_all(&env.scratch);
    println!("\n{}", report::table(&rows));
    println!("CSV: {}", cli.csv.display());
    Ok(())
}
