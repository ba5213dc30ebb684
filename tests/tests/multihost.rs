//! Protects running one graph across machines: `sustainml launch
//! launch/edge-cloud.toml --machine edge|cloud` on two hosts (network namespaces
//! joined by a veth pair inside `scripts/isolated`) computes a problem submitted on the
//! cloud host with HW_RESOURCES on the edge host, both when the link carries
//! multicast and when it does not (discovery then goes through the launchers'
//! discovery relays, from the machines' addresses in the launch file).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sustainml_tests::netns::{Host, Hosts, Multicast};
use sustainml_tests::{assert_isolated, repo_root, workspace_bin};

/// The orchestrator's REST port in the launch file (its default).
const REST: u16 = 5001;
/// Generous waits (a 2-core machine, debug builds); never asserted as durations.
const WAIT: Duration = Duration::from_secs(120);

/// A `sustainml launch` running in a host; SIGINT, then SIGKILL, when dropped.
struct Launcher {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Launcher {
    fn start(host: &Host, file: &Path, domain: u16, extra: &[&str], dir: &Path) -> Self {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).expect("scratch directory");
        let log = dir.join("launch.log");
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut cmd = host.command(workspace_bin("sustainml"));
        cmd.args([
            "launch",
            &file.display().to_string(),
            "--machine",
            host.name(),
        ])
        .args(extra)
        .current_dir(dir)
        .env("SUSTAINML_DOMAIN_ID", domain.to_string())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
        let child = cmd.spawn().expect("start sustainml launch");
        Self {
            name: host.name().to_owned(),
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGINT (the launcher stops its nodes), then SIGKILL if it hangs; returns the log.
    fn stop(&mut self) -> String {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-INT", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.log()
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Both launchers' logs, for failure messages.
fn logs(launchers: &[&Launcher]) -> String {
    launchers
        .iter()
        .map(|l| format!("----- {} ({})\n{}", l.name, l.log.display(), l.log()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// GET/POST on the cloud host's REST API; the answer's status and JSON body.
fn call(cloud: &Host, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    match cloud.http(REST, method, path, body) {
        Ok((status, text)) => (status, serde_json::from_str(&text).unwrap_or(Value::Null)),
        Err(_) => (0, Value::Null), // not listening yet
    }
}

/// Polls until `done` accepts the answer; fails with both logs after [`WAIT`].
fn poll(
    cloud: &Host,
    path: &str,
    body: Option<&str>,
    launchers: &[&Launcher],
    done: impl Fn(u16, &Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let method = if body.is_some() { "POST" } else { "GET" };
        let (status, answer) = call(cloud, method, path, body);
        if done(status, &answer) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "{method} {path}: still {status} {answer} after {WAIT:?}\n{}",
            logs(launchers)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Launches edge and cloud (each with its extra `sustainml launch` arguments), submits
/// the sample problem on the cloud host, and checks it is computed with HW_RESOURCES
/// from the edge. Returns both launchers' logs.
fn edge_and_cloud(
    tag: &str,
    domain: u16,
    hosts: &Hosts,
    file: &Path,
    extra: [&[&str]; 2],
) -> (String, String) {
    let (edge, cloud) = (hosts.host("edge"), hosts.host("cloud"));
    let scratch = repo_root().join(format!(
        "target/test-data/multihost-{}-{tag}",
        std::process::id()
    ));

    let started = Instant::now();
    let mut on_edge = Launcher::start(edge, file, domain, extra[0], &scratch.join("edge"));
    let mut on_cloud = Launcher::start(cloud, file, domain, extra[1], &scratch.join("cloud"));
    let both = [&on_edge, &on_cloud];

    // Ready: the six module nodes seen alive by the orchestrator (HW_RESOURCES across
    // the link) and its writers matched, HW_RESOURCES's baseline reader included.
    poll(cloud, "/ready", None, &both, |code, _| code == 200);
    let discovered = started.elapsed();
    let status = poll(
        cloud,
        "/status",
        Some(r#"{"node_id": 3}"#),
        &both,
        |_, b| b["status"] == "IDLE",
    );
    assert_eq!(status["status"], "IDLE", "HW_RESOURCES (on edge)");

    let problem = std::fs::read_to_string(repo_root().join("scripts/sample-problem.json"))
        .expect("scripts/sample-problem.json");
    let submitted_at = Instant::now();
    let (code, submitted) = call(cloud, "POST", "/user_input", Some(&problem));
    assert_eq!(code, 200, "POST /user_input: {submitted}\n{}", logs(&both));
    let task = poll(cloud, "/tasks/1/1", None, &both, |code, b| {
        code == 200 && b["state"] != "running"
    });
    let latency = submitted_at.elapsed();
    assert_eq!(task["state"], "done", "{task}\n{}", logs(&both));
    let hw = &task["outputs"]["HW_RESOURCES"];
    assert!(hw.is_object(), "no HW_RESOURCES output: {task}");
    assert!(
        task["outputs"]["CARBON_FOOTPRINT"]["carbon_footprint"].is_number(),
        "{task}"
    );
    let (code, results) = call(cloud, "GET", "/results", None);
    assert_eq!(code, 200);
    assert_eq!(results["state"], "done", "{results}");
    assert_eq!(results["missing"], Value::Array(Vec::new()), "{results}");
    eprintln!(
        "{tag}: orchestrator ready {:.2} s after the launchers started; task done {:.2} s after it was submitted",
        discovered.as_secs_f64(),
        latency.as_secs_f64()
    );

    let cloud_log = on_cloud.stop();
    let edge_log = on_edge.stop();
    // The output crossed the link: HW_RESOURCES ran only on the edge host.
    assert!(
        edge_log.contains("[hw-resources] started"),
        "edge log:\n{edge_log}"
    );
    assert!(
        !cloud_log.contains("[hw-resources]"),
        "the cloud host must not run HW_RESOURCES:\n{cloud_log}"
    );
    assert!(
        cloud_log.contains("[orchestrator] started") && !edge_log.contains("[orchestrator]"),
        "the orchestrator runs on the cloud host only"
    );
    (edge_log, cloud_log)
}

/// The relay lines of a launcher's log, and how many announcements it delivered
/// from its peers (from the counters it prints when it stops).
fn relay_delivered(tag: &str, log: &str, domain: u16) -> u64 {
    let prefix = format!("[discovery-relay] domain {domain}: ");
    // Lines are "TIMESTAMP [discovery-relay] domain N: …".
    for line in log.lines().filter(|l| l.contains(&prefix)) {
        eprintln!("{tag}: {line}");
    }
    log.lines()
        .filter_map(|l| l.split_once(&prefix).map(|(_, rest)| rest))
        .find_map(|l| l.split_once(" forwarded to peers, "))
        .and_then(|(_, rest)| rest.split_once(" delivered from peers"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

/// Checks each launcher relayed with the other host and delivered its announcements.
fn assert_relayed(tag: &str, domain: u16, logs: [(&str, &str); 2]) {
    for (log, peer) in logs {
        let started = format!("[discovery-relay] domain {domain}: relaying discovery with {peer} ");
        assert!(log.contains(&started), "{log}");
        assert!(
            log.contains("multicast ports held"),
            "the relay must keep the participants off multicast:\n{log}"
        );
        assert!(
            relay_delivered(tag, log, domain) > 0,
            "the relay delivered no announcement from {peer}:\n{log}"
        );
    }
}

#[test]
fn edge_and_cloud_over_a_multicast_link() {
    // Protects: the edge-cloud launch file on two hosts whose link carries multicast computes a task across them, with no configuration.
    assert_isolated();
    let _one = sustainml_tests::serial();
    let hosts = Hosts::pair("edge", "cloud", Multicast::On).expect("build the hosts");
    let file = repo_root().join("launch/edge-cloud.toml");
    let (edge, cloud) = edge_and_cloud("multicast", 170, &hosts, &file, [&[], &[]]);
    assert!(
        !edge.contains("[discovery-relay]") && !cloud.contains("[discovery-relay]"),
        "no relay without machine addresses"
    );
}

#[test]
fn edge_and_cloud_without_multicast_through_the_discovery_relays() {
    // Protects: with multicast off on the link, the machines' addresses in the launch file make discovery (and the task) work across hosts.
    assert_isolated();
    let _one = sustainml_tests::serial();
    let hosts = Hosts::pair("edge", "cloud", Multicast::Off).expect("build the hosts");
    for host in &hosts.hosts {
        let links = host.run("ip", &["-o", "link", "show"]).expect("ip link");
        let veth = links
            .lines()
            .find(|l| l.contains("veth"))
            .unwrap_or_default();
        assert!(!veth.contains("MULTICAST"), "{}: {links}", host.name());
        let routes = host.run("ip", &["route", "show"]).expect("ip route");
        assert!(
            !routes.contains("224.0.0.0/4 dev ve"),
            "{}: {routes}",
            host.name()
        );
    }
    let original = std::fs::read_to_string(repo_root().join("launch/edge-cloud.toml"))
        .expect("launch/edge-cloud.toml");
    let dir = repo_root().join("target/test-data");
    std::fs::create_dir_all(&dir).expect("target/test-data");
    let file = dir.join(format!("multihost-{}-edge-cloud.toml", std::process::id()));
    let text = format!(
        "{original}\n[machine.edge]\naddress = \"10.77.0.1\"\n\n[machine.cloud]\naddress = \"10.77.0.2\"\n"
    );
    std::fs::write(&file, text).expect("write the launch file");

    let domain = 171;
    let (edge, cloud) = edge_and_cloud("no-multicast", domain, &hosts, &file, [&[], &[]]);
    assert_relayed(
        "no-multicast",
        domain,
        [(&edge, "10.77.0.2"), (&cloud, "10.77.0.1")],
    );
}

#[test]
fn edge_and_cloud_on_two_subnets_through_the_discovery_relays() {
    // Protects: hosts on two subnets behind a router (multicast on every interface but not routed) work with `sustainml launch --peer ADDR`.
    assert_isolated();
    let _one = sustainml_tests::serial();
    let hosts = Hosts::routed("edge", "cloud").expect("build the hosts");
    let file = repo_root().join("launch/edge-cloud.toml");
    let domain = 172;
    let (edge, cloud) = edge_and_cloud(
        "routed",
        domain,
        &hosts,
        &file,
        [&["--peer", "10.77.2.2"], &["--peer", "10.77.1.2"]],
    );
    assert_relayed(
        "routed",
        domain,
        [(&edge, "10.77.2.2"), (&cloud, "10.77.1.2")],
    );
}

/// Control for the two tests above, not run by default (it waits 30 s): the same
/// topologies without relays never see HW_RESOURCES across hosts, while the cloud
/// host's own nodes find each other. Run with `-- --ignored`.
#[test]
#[ignore = "control: waits 30 s to show discovery fails without the relays"]
fn without_relays_the_hosts_do_not_discover_each_other() {
    // Protects: the relay tests' meaning: their topologies really block discovery by multicast.
    assert_isolated();
    let _one = sustainml_tests::serial();
    let file = repo_root().join("launch/edge-cloud.toml");
    let pair = Hosts::pair("edge", "cloud", Multicast::Off).expect("build the hosts");
    let routed = Hosts::routed("edge", "cloud").expect("build the hosts");
    let scratch = repo_root().join(format!(
        "target/test-data/multihost-{}-control",
        std::process::id()
    ));
    let mut launchers = Vec::new();
    for (tag, domain, hosts) in [("pair", 173, &pair), ("routed", 174, &routed)] {
        let dir = scratch.join(tag);
        launchers.push((
            hosts.host("cloud"),
            Launcher::start(hosts.host("edge"), &file, domain, &[], &dir.join("edge")),
            Launcher::start(hosts.host("cloud"), &file, domain, &[], &dir.join("cloud")),
        ));
    }
    std::thread::sleep(Duration::from_secs(30));
    for (cloud, edge_launcher, cloud_launcher) in &launchers {
        let both = [edge_launcher, cloud_launcher];
        // The cloud's own nodes are up and found (locally, without multicast)…
        poll(
            cloud,
            "/status",
            Some(r#"{"node_id": 0}"#),
            &both,
            |_, b| b["status"] == "IDLE",
        );
        // …but not HW_RESOURCES on the edge.
        let (code, ready) = call(cloud, "GET", "/ready", None);
        assert_ne!(code, 200, "{ready}\n{}", logs(&both));
        let (_, hw) = call(cloud, "POST", "/status", Some(r#"{"node_id": 3}"#));
        assert_ne!(hw["status"], "IDLE", "{hw}\n{}", logs(&both));
        eprintln!("control: /ready {code} {ready}; HW_RESOURCES status {hw}");
    }
}
