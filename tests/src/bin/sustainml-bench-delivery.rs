//! sustainml-bench-delivery: delivery figures of the real graph (`scripts/bench-delivery`
//! runs it inside `scripts/isolated`, CPUs pinned).
//!
//! - `launches`: N launches of `launch/local.toml`, each with a Fast DDS and a Cyclone
//!   DDS status reader started at the same instant; a launch is clean when the
//!   orchestrator shows six IDLE and every reader saw all six nodes.
//! - `tasks`: one launch, COUNT tasks through the six module nodes over REST (POST
//!   /user_input, at most WINDOW unfinished), then wait until every task ended:
//!   done, failed, or lost (never ended); resident memory (VmRSS) of every process
//!   before and after.
//!
//! Each prints a table and appends `section,item,value` rows to `--csv`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::Value;
use sustainml_tests::delivery::{
    idle_at_orchestrator, run_round, Launch, RoundConfig, LOCAL_REST, MODULE_NODES,
};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
    /// The Fast DDS peer binary.
    #[arg(long)]
    fastdds_peer: PathBuf,
    /// The venv's python (with cyclonedds).
    #[arg(long)]
    python: PathBuf,
    /// CSV file the rows are appended to.
    #[arg(long)]
    csv: PathBuf,
    /// CPUs of the graph (taskset -c LIST); empty: not pinned.
    #[arg(long, default_value = "0")]
    graph_cpus: String,
    /// CPUs of the readers (taskset -c LIST); empty: not pinned.
    #[arg(long, default_value = "1")]
    reader_cpus: String,
    /// Seconds a launch may take to be clean.
    #[arg(long, default_value_t = 30)]
    deadline: u64,
}

#[derive(Subcommand)]
enum Mode {
    /// N launches with both readers at the same instant.
    Launches {
        #[arg(long, default_value_t = 20)]
        count: usize,
        /// Add the RTI Connext reader.
        #[arg(long)]
        rti: bool,
    },
    /// COUNT tasks through the six real module nodes over REST.
    Tasks {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Most tasks submitted and not yet ended.
        #[arg(long, default_value_t = 50)]
        window: usize,
        /// Seconds without a task ending before the rest count as lost (past the
        /// orchestrator's 120 s task deadline, which fails them).
        #[arg(long, default_value_t = 150)]
        stall: u64,
    },
}

fn taskset(cpus: &str) -> Vec<String> {
    if cpus.is_empty() {
        Vec::new()
    } else {
        vec!["taskset".into(), "-c".into(), cpus.into()]
    }
}

fn config(cli: &Cli, rti: bool) -> Result<RoundConfig> {
    let exe = std::env::current_exe().context("own path")?;
    let bin_dir = exe.parent().context("bin dir")?;
    let root = sustainml_tests::repo_root();
    Ok(RoundConfig {
        sustainml: bin_dir.join("sustainml"),
        launch_file: root.join("launch/local.toml"),
        fastdds_peer: cli.fastdds_peer.clone(),
        python: cli.python.clone(),
        fastdds: true,
        cyclone: true,
        rti,
        rest: LOCAL_REST.to_owned(),
        deadline: Duration::from_secs(cli.deadline),
        scratch: root.join(format!("target/bench/delivery-{}", std::process::id())),
        graph_wrapper: taskset(&cli.graph_cpus),
        observer_wrapper: taskset(&cli.reader_cpus),
    })
}

struct Csv(std::fs::File);

impl Csv {
    fn open(path: &PathBuf) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("open {}", path.display()))?;
        Ok(Self(file))
    }

    fn row(&mut self, section: &str, item: &str, value: impl std::fmt::Display) -> Result<()> {
        let value = value.to_string().replace('"', "'");
        writeln!(self.0, "{section},{item},\"{value}\"").context("write CSV")
    }
}

fn launches(cli: &Cli, count: usize, rti: bool, csv: &mut Csv) -> Result<()> {
    let cfg = config(cli, rti)?;
    let mut clean = 0;
    let mut times = Vec::new();
    println!(
        "{:<8} {:<7} {:>8}  missing (observer: node)",
        "launch", "domain", "seconds"
    );
    for k in 1..=count {
        let domain = 1 + ((k - 1) % 200) as u16;
        let report = run_round(&cfg, domain, &format!("launch-{k}"));
        let missing: Vec<String> = report
            .missing
            .iter()
            .map(|(o, n)| format!("{o}: {n}"))
            .chain(
                report
                    .leftovers
                    .iter()
                    .map(|l| format!("left running: {l}")),
            )
            .collect();
        println!(
            "{:<8} {:<7} {:>8.1}  {}",
            k,
            domain,
            report.elapsed.as_secs_f64(),
            if missing.is_empty() {
                "-".to_owned()
            } else {
                missing.join("; ")
            }
        );
        if report.clean() {
            clean += 1;
            times.push(report.elapsed.as_secs_f64());
        } else {
            csv.row("launch_failed", &k.to_string(), missing.join("; "))?;
            let ports = cfg.scratch.join(format!("launch-{k}-ports.txt"));
            std::fs::write(
                &ports,
                format!("{}\n{}", report.process_names(), report.ports),
            )?;
            println!("         ports and pids: {}", ports.display());
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
    println!("launches clean: {clean} of {count}; median time to clean {median:.2} s");
    csv.row("launches", "tried", count)?;
    csv.row("launches", "clean", clean)?;
    csv.row(
        "launches",
        "median_seconds_to_clean",
        format!("{median:.3}"),
    )?;
    Ok(())
}

/// VmRSS in kB of `pid`, if it is running.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn tasks(cli: &Cli, count: usize, window: usize, stall: u64, csv: &mut Csv) -> Result<()> {
    let cfg = config(cli, false)?;
    let launch = Launch::start(&cfg, 233 - 1, &cfg.scratch.join("tasks"));
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let ready = Instant::now() + Duration::from_secs(60);
    while idle_at_orchestrator(&agent, LOCAL_REST).len() < MODULE_NODES.len() {
        if Instant::now() > ready {
            bail!(
                "the graph was not six IDLE within 60 s (log in {})",
                launch.dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // rustdds can lose samples written before discovery settles (README).
    std::thread::sleep(Duration::from_millis(1500));
    let procs: Vec<(String, u32)> = std::iter::once(("launcher".to_owned(), launch.pid()))
        .chain(launch.children())
        .collect();
    let before: Vec<Option<u64>> = procs.iter().map(|(_, p)| rss_kb(*p)).collect();

    let body = serde_json::json!({
        "modality": "image",
        "problem_short_description": "Classify bird species",
        "geo_location_continent": "Europe",
        "geo_location_region": "France",
        "extra_data": {}
    });
    let started = Instant::now();
    let (mut submitted, mut ended) = (0usize, 0usize);
    let (mut done, mut failed) = (0usize, 0usize);
    let mut last_progress = Instant::now();
    let mut next_poll = Instant::now();
    let mut submit_errors = 0usize;
    while ended < count {
        while submitted < count && submitted - ended < window {
            match agent
                .post(&format!("{LOCAL_REST}/user_input"))
                .send_json(body.clone())
            {
                Ok(_) => submitted += 1,
                Err(e) => {
                    submit_errors += 1;
                    if submit_errors > 10 {
                        bail!("POST /user_input failed 10 times, last: {e}");
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        if Instant::now() >= next_poll {
            next_poll = Instant::now() + Duration::from_millis(500);
            let list: Value = agent
                .get(&format!("{LOCAL_REST}/tasks"))
                .call()
                .context("GET /tasks")?
                .into_json()?;
            let states: Vec<&str> = list["tasks"]
                .as_array()
                .map(|a| a.iter().filter_map(|t| t["state"].as_str()).collect())
                .unwrap_or_default();
            done = states.iter().filter(|s| **s == "done").count();
            failed = states.iter().filter(|s| **s == "failed").count();
            if done + failed > ended {
                last_progress = Instant::now();
            }
            ended = done + failed;
            if last_progress.elapsed() > Duration::from_secs(stall) {
                eprintln!("no task ended for {stall} s: the rest count as lost");
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let seconds = started.elapsed().as_secs_f64();
    let after: Vec<Option<u64>> = procs.iter().map(|(_, p)| rss_kb(*p)).collect();
    let lost = count - done - failed;
    println!(
        "tasks: {count} submitted, {done} done, {failed} failed, {lost} lost in {seconds:.1} s ({:.0} tasks/s, window {window})",
        done as f64 / seconds
    );
    for (k, v) in [
        ("count", count),
        ("done", done),
        ("failed", failed),
        ("lost", lost),
    ] {
        csv.row("tasks", k, v)?;
    }
    csv.row("tasks", "seconds", format!("{seconds:.1}"))?;
    csv.row(
        "tasks",
        "tasks_per_second",
        format!("{:.1}", done as f64 / seconds),
    )?;
    println!(
        "{:<20} {:>8} {:>14} {:>13}",
        "process", "pid", "VmRSS before", "VmRSS after"
    );
    let kb = |v: Option<u64>| v.map_or("gone".to_owned(), |v| format!("{v} kB"));
    for (((name, pid), b), a) in procs.iter().zip(&before).zip(&after) {
        println!("{name:<20} {pid:>8} {:>14} {:>13}", kb(*b), kb(*a));
        let num = |v: Option<u64>| v.map_or("gone".to_owned(), |v| v.to_string());
        csv.row("rss_kb_before", name, num(*b))?;
        csv.row("rss_kb_after", name, num(*a))?;
    }
    let leftovers = launch.stop(Duration::from_secs(30));
    if !leftovers.is_empty() {
        bail!("left running after the launcher stopped: {leftovers:?}");
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if std::env::var("SUSTAINML_ISOLATED").as_deref() != Ok("1") {
        bail!("run inside scripts/isolated (scripts/bench-delivery does)");
    }
    let mut csv = Csv::open(&cli.csv)?;
    match &cli.mode {
        Mode::Launches { count, rti } => launches(&cli, *count, *rti, &mut csv),
        Mode::Tasks {
            count,
            window,
            stall,
        } => tasks(&cli, *count, *window, *stall, &mut csv),
    }
}
