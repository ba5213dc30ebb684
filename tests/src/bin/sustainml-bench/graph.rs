//! Rows of the real graph (`launch/local.toml`: the six module nodes and the
//! orchestrator, started by `sustainml launch`): time from launch to six IDLE at the
//! orchestrator, REST task latency, a burst of tasks, and POST /user_input's rate.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;
use sustainml_tests::delivery::{
    idle_at_orchestrator, Launch, RoundConfig, LOCAL_REST, MODULE_NODES,
};

use crate::procs::{clock_ticks, median, percentile, usage, Env};
use crate::report::{Row, Target};

/// How much of each.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub launches: usize,
    pub latency: usize,
    pub burst: usize,
    pub posts: usize,
}

fn config(env: &Env) -> RoundConfig {
    RoundConfig {
        sustainml: env.ours("sustainml"),
        launch_file: sustainml_tests::repo_root().join("launch/local.toml"),
        fastdds_peer: env.fastdds.clone(),
        python: Default::default(),
        fastdds: false,
        cyclone: false,
        rti: false,
        rest: LOCAL_REST.to_owned(),
        deadline: Duration::from_secs(60),
        scratch: env.scratch.clone(),
        graph_wrapper: vec!["taskset".into(), "-c".into(), env.server_cpus.clone()],
        observer_wrapper: Vec::new(),
    }
}

fn body() -> Value {
    serde_json::json!({
        "modality": "image",
        "problem_short_description": "Classify bird species",
        "geo_location_continent": "Europe",
        "geo_location_region": "France",
        "extra_data": {}
    })
}

/// Starts the graph and waits for six IDLE at GET /status (polled every 5 ms);
/// returns the launch and how long that took.
fn launch(env: &Env, domain: u16, tag: &str, agent: &ureq::Agent) -> Result<(Launch, f64)> {
    let start = Instant::now();
    let launch = Launch::start(&config(env), domain, &env.scratch.join(tag));
    while idle_at_orchestrator(agent, LOCAL_REST).len() < MODULE_NODES.len() {
        if start.elapsed() > Duration::from_secs(60) {
            bail!(
                "the graph was not six IDLE within 60 s (log in {})",
                launch.dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok((launch, start.elapsed().as_secs_f64()))
}

fn stop(launch: Launch) -> Result<()> {
    let leftovers = launch.stop(Duration::from_secs(30));
    if !leftovers.is_empty() {
        bail!("left running after the launcher stopped: {leftovers:?}");
    }
    Ok(())
}

fn post(agent: &ureq::Agent) -> Result<(u64, u64)> {
    let answer: Value = agent
        .post(&format!("{LOCAL_REST}/user_input"))
        .send_json(body())
        .context("POST /user_input")?
        .into_json()?;
    task_id(&answer["task_id"])
        .with_context(|| format!("POST /user_input answered without a task id: {answer}"))
}

/// (problem_id, iteration_id) of a REST task id object.
fn task_id(id: &Value) -> Option<(u64, u64)> {
    Some((id["problem_id"].as_u64()?, id["iteration_id"].as_u64()?))
}

/// Every row of the real graph, in one go: `counts.launches` launches timed, the last
/// one kept for the REST rows.
pub fn rows(env: &Env, counts: Counts) -> Result<Vec<Row>> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let mut times = Vec::new();
    let mut kept = None;
    for k in 1..=counts.launches.max(1) {
        let (l, secs) = launch(env, 50 + k as u16, &format!("launch-{k}"), &agent)?;
        times.push(secs);
        if k == counts.launches.max(1) {
            kept = Some(l);
        } else {
            stop(l)?;
        }
    }
    let launch = kept.context("no launch")?;
    let mut rows = vec![Row {
        name: "launch_idle",
        what: "sustainml launch launch/local.toml to six IDLE at GET /status, median",
        unit: "s",
        ours: median(times.clone()),
        peers: Vec::new(),
        target: Target::AtMost(0.5),
        note: format!(
            "{} launches: {}",
            times.len(),
            times
                .iter()
                .map(|t| format!("{t:.2}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }];
    rows.push(latency(&agent, counts.latency)?);
    rows.push(burst(&agent, counts.burst, launch.pid())?);
    rows.push(post_rate(&agent, counts.posts)?);
    stop(launch)?;
    Ok(rows)
}

/// POST /user_input, then GET /tasks/P/I every millisecond until done; one at a time.
fn latency(agent: &ureq::Agent, count: usize) -> Result<Row> {
    let warmup = 10;
    let mut us = Vec::with_capacity(count);
    for k in 0..count + warmup {
        let start = Instant::now();
        let (p, i) = post(agent)?;
        loop {
            let task: Value = agent
                .get(&format!("{LOCAL_REST}/tasks/{p}/{i}"))
                .call()
                .context("GET /tasks/P/I")?
                .into_json()?;
            match task["state"].as_str() {
                Some("done") => break,
                Some("failed") => bail!("task {p}.{i} failed: {task}"),
                _ if start.elapsed() > Duration::from_secs(150) => {
                    bail!("task {p}.{i} not ended after 150 s")
                }
                _ => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        if k >= warmup {
            us.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    us.sort_by(f64::total_cmp);
    Ok(Row {
        name: "rest_latency",
        what: "REST task latency, six real nodes: POST /user_input to GET /tasks/P/I done, p50",
        unit: "ms",
        ours: percentile(&us, 0.5),
        peers: Vec::new(),
        target: Target::AtMost(2.0),
        note: format!("{count} tasks, p99 {:.1} ms", percentile(&us, 0.99)),
    })
}

/// UDP datagrams sent in this network namespace so far (/proc/net/snmp).
fn udp_out() -> Result<u64> {
    let snmp = std::fs::read_to_string("/proc/net/snmp")?;
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp: "));
    let (names, values) = (udp.next(), udp.next());
    let (Some(names), Some(values)) = (names, values) else {
        bail!("no Udp lines in /proc/net/snmp");
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "OutDatagrams")
        .and_then(|(_, v)| v.parse().ok())
        .context("no Udp OutDatagrams in /proc/net/snmp")
}

/// The processes below `root` (its children, theirs, …) and `root` itself.
fn tree(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid = stat
                .rsplit_once(") ")?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut k = 0;
    while k < found.len() {
        let parent = found[k];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        k += 1;
    }
    found
}

/// CPU time (clock ticks) the launcher and everything below it used so far.
fn graph_ticks(launcher: u32) -> u64 {
    tree(launcher)
        .into_iter()
        .filter_map(|p| usage(p).ok())
        .map(|(_, ticks)| ticks)
        .sum()
}

/// `count` tasks POSTed as fast as one client can, then GET /tasks until all ended.
/// Counts UDP datagrams and the graph's CPU time per task on the way.
fn burst(agent: &ureq::Agent, count: usize, graph: u32) -> Result<Row> {
    let (udp0, cpu0) = (udp_out()?, graph_ticks(graph));
    let start = Instant::now();
    let mut ids = BTreeSet::new();
    for _ in 0..count {
        ids.insert(post(agent)?);
    }
    let posted = start.elapsed().as_secs_f64();
    let (mut done, mut failed) = (0, 0);
    let mut last_progress = Instant::now();
    loop {
        let list: Value = agent
            .get(&format!("{LOCAL_REST}/tasks"))
            .call()
            .context("GET /tasks")?
            .into_json()?;
        let ended: Vec<&str> = list["tasks"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|t| task_id(&t["task_id"]).is_some_and(|id| ids.contains(&id)))
                    .filter_map(|t| t["state"].as_str())
                    .filter(|s| *s != "running")
                    .collect()
            })
            .unwrap_or_default();
        let now_done = ended.iter().filter(|s| **s == "done").count();
        if ended.len() > done + failed {
            last_progress = Instant::now();
        }
        (done, failed) = (now_done, ended.len() - now_done);
        if done + failed == count || last_progress.elapsed() > Duration::from_secs(150) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let seconds = start.elapsed().as_secs_f64();
    let lost = count - done - failed;
    let udp = (udp_out()? - udp0) as f64 / count as f64;
    let cpu_ms = (graph_ticks(graph) - cpu0) as f64 * 1e3 / clock_ticks()? / count as f64;
    Ok(Row {
        name: "burst_1000",
        what: "burst of tasks over REST, six real nodes, until every task ended",
        unit: "task/s",
        ours: done as f64 / seconds,
        peers: Vec::new(),
        target: Target::AtLeast(2000.0),
        note: format!(
            "{count} tasks: {done} done, {failed} failed, {lost} lost; posted in {posted:.2} s, all ended in {seconds:.2} s; per task {udp:.0} UDP datagrams, {cpu_ms:.2} ms CPU of the graph"
        ),
    })
}

/// POST /user_input back to back from one client (keep-alive).
fn post_rate(agent: &ureq::Agent, count: usize) -> Result<Row> {
    let start = Instant::now();
    for _ in 0..count {
        post(agent)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(Row {
        name: "post_rate",
        what: "POST /user_input, one client, back to back",
        unit: "req/s",
        ours: count as f64 / seconds,
        peers: Vec::new(),
        target: Target::AtLeast(5000.0),
        note: format!("{count} requests in {seconds:.2} s"),
    })
}
