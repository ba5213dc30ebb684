//! Protects the dashboard end to end in headless Chromium (Debian `chromium` through
//! `chromedriver`): a launched graph's six nodes show IDLE, a bad form value gets an
//! inline message naming the field, a problem submitted through the form shows its
//! progress and the result values of POST /results, a three-iteration optimisation
//! draws three points, a killed node is marked INACTIVE, and an orchestrator that goes
//! away shows a banner until the page has reconnected by itself. Screenshots go to
//! target/dashboard/. Domain 117.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use sustainml_tests::launch::Launcher;
use sustainml_tests::{assert_isolated, free_port, repo_root, workspace_bin};

const WAIT: Duration = Duration::from_secs(120);
const KINDS: [&str; 6] = [
    "APP_REQUIREMENTS",
    "HW_CONSTRAINTS",
    "ML_MODEL_METADATA",
    "ML_MODEL",
    "HW_RESOURCES",
    "CARBON_FOOTPRINT",
];

/// A chromedriver on a free port; killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian chromium-driver; scripts/setup-test-deps installs it)");
        Self { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1800"],
        }),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
        {
            Ok(c) => return c,
            // chromedriver is still opening its port.
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot start a browser session: {e}"),
        }
    }
}

/// Runs `script` in the page until it returns something `done` accepts.
async fn until(c: &Client, what: &str, script: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let v = c.execute(script, vec![]).await.expect("run a script");
        if done(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still {v} after {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn screenshot(c: &Client, name: &str) {
    let dir = repo_root().join("target/dashboard");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

async fn type_into(c: &Client, name: &str, text: &str) {
    let input = c
        .find(Locator::Css(&format!("[name={name}]")))
        .await
        .expect(name);
    input.clear().await.expect("clear");
    input.send_keys(text).await.expect("type");
}

fn launch_file(port: u16) -> PathBuf {
    let dir = repo_root().join(format!("target/test-data/dashboard-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let node = workspace_bin("sustainml-test-node");
    let mut text = String::new();
    for k in KINDS {
        // The killed node stays down (no restart): the page must show it INACTIVE.
        text.push_str(&format!(
            "[[node]]\nname = \"{k}\"\ncommand = [\"{}\", \"--kind\", \"{k}_NODE\"]\n\n",
            node.display()
        ));
    }
    text.push_str(&format!(
        "[[node]]\nkind = \"orchestrator\"\nargs = [\"--bind\", \"127.0.0.1:{port}\", \"--data-dir\", \"{}\"]\nrestart = \"on-failure\"\n",
        dir.join("store").display()
    ));
    let file = dir.join("graph.toml");
    std::fs::write(&file, text).expect("launch file");
    file
}

/// The supervisor pid (process group) of launch node `name`.
fn group_of(launcher: &Launcher, name: &str) -> i32 {
    let marker = format!("[{name}] started");
    launcher
        .stderr()
        .lines()
        .rev()
        .find(|l| l.contains(&marker))
        .and_then(|l| l.split("(pid ").nth(1))
        .and_then(|p| p.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("{name} not started:\n{}", launcher.stderr()))
}

fn kill_group(group: i32) {
    let ok = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .status()
        .expect("kill");
    assert!(ok.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_follows_and_steers_the_graph() {
    assert_isolated();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let launcher = Launcher::start(117, "dashboard", &launch_file(port), &[]);
    let driver = Driver::start();
    let c = browser(&driver).await;
    // The orchestrator may still be starting: load the page once it answers.
    let deadline = Instant::now() + WAIT;
    while ureq::get(&format!("{base}/ready")).call().is_err() {
        assert!(
            Instant::now() < deadline,
            "no orchestrator:\n{}",
            launcher.stderr()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.goto(&format!("{base}/"))
        .await
        .expect("open the dashboard");
    assert_eq!(c.title().await.expect("title"), "SustainML dashboard");

    // Six nodes IDLE.
    let nodes = "return Array.from(document.querySelectorAll('#nodes tbody tr[data-node]'))\
                 .map(r => [r.dataset.node, r.querySelector('.state').textContent, r.classList.contains('inactive')])";
    until(&c, "six IDLE nodes", nodes, |v| {
        let rows = v.as_array().cloned().unwrap_or_default();
        KINDS
            .iter()
            .all(|k| rows.iter().any(|r| r[0] == *k && r[1] == "IDLE"))
    })
    .await;
    screenshot(&c, "1-nodes").await;

    // A bad value is named next to its field, and nothing is sent.
    type_into(&c, "problem_short_description", "Classify birds").await;
    type_into(&c, "maximum_samples", "lots").await;
    c.find(Locator::Id("submit"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click");
    let message = until(
        &c,
        "an inline message",
        "const e = document.querySelector('.field-error[data-for=maximum_samples]'); return e ? e.textContent : null",
        |v| v.is_string(),
    )
    .await;
    assert!(
        message.as_str().unwrap_or("").contains("Maximum samples"),
        "{message}"
    );

    // A problem through the form: progress, then the result of POST /results.
    type_into(&c, "maximum_samples", "100").await;
    type_into(&c, "goal", "image-classification").await;
    c.find(Locator::Id("submit"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click");
    until(
        &c,
        "task 1.1 done",
        "const r = document.querySelector('#tasks tr[data-task=\"1.1\"] .task-state'); return r ? r.textContent : null",
        |v| v == "done",
    )
    .await;
    let shown = until(
        &c,
        "the result of 1.1",
        "return Object.fromEntries(Array.from(document.querySelectorAll('#result dd')).map(d => [d.dataset.field, d.textContent]))",
        |v| v["model"] != "–" && v["carbon_footprint"] != "–",
    )
    .await;
    let results: Value = ureq::post(&format!("{base}/results"))
        .send_json(json!({"node_id": 9, "task_id": {"problem_id": 1, "iteration_id": 1}}))
        .expect("POST /results")
        .into_json()
        .expect("JSON");
    assert_eq!(
        shown["model"], results["ML_MODEL"]["model"],
        "{shown} vs {results}"
    );
    let same = |field: &str, value: &Value| {
        let on_page: f64 = shown[field]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect(field);
        let api = value.as_f64().expect("a number");
        assert!(
            (on_page - api).abs() <= 1e-6 * api.abs().max(1.0),
            "{field}: {on_page} vs {api}"
        );
    };
    same(
        "carbon_footprint",
        &results["CARBON_FOOTPRINT"]["carbon_footprint"],
    );
    same("latency", &results["HW_RESOURCES"]["latency"]);
    same("power", &results["HW_RESOURCES"]["power_consumption"]);
    screenshot(&c, "2-result").await;

    // A three-iteration optimisation: three points on the chart.
    c.find(Locator::Css("[name=optimise]"))
        .await
        .expect("optimise")
        .click()
        .await
        .expect("tick");
    type_into(&c, "target", "1").await;
    type_into(&c, "max_iterations", "3").await;
    c.find(Locator::Id("submit"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click");
    until(
        &c,
        "three points",
        "return document.querySelectorAll('#chart-carbon circle.point').length",
        |v| v == 3,
    )
    .await;
    until(
        &c,
        "the run stopped",
        "return document.getElementById('run-state').textContent",
        |v| {
            v.as_str()
                .is_some_and(|s| s.starts_with("optimisation stopped"))
        },
    )
    .await;
    screenshot(&c, "3-optimisation").await;

    // A killed node is marked INACTIVE.
    kill_group(group_of(&launcher, "HW_CONSTRAINTS"));
    until(&c, "HW_CONSTRAINTS inactive", nodes, |v| {
        v.as_array().is_some_and(|rows| {
            rows.iter()
                .any(|r| r[0] == "HW_CONSTRAINTS" && r[2] == true)
        })
    })
    .await;
    screenshot(&c, "4-inactive").await;

    // The orchestrator goes away (the launcher restarts it): a banner, then back.
    kill_group(group_of(&launcher, "orchestrator"));
    let banner = "return !document.getElementById('banner').hidden";
    until(&c, "the banner", banner, |v| v == true).await;
    screenshot(&c, "5-disconnected").await;
    until(&c, "the banner gone after reconnecting", banner, |v| {
        v == false
    })
    .await;

    c.close().await.expect("close the browser");
    drop(driver);
    drop(launcher);
}
