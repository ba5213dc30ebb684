//! `sustainml doctor`: why nodes may not see each other. It checks, each with
//! ok / warn / fail and a one-line hint:
//!
//! - the DDS domain (`SUSTAINML_DOMAIN_ID`) and its RTPS ports (DDSI-RTPS 9.6.1.1:
//!   7400 + 250·domain for discovery multicast, +1 user multicast, +10+2·p and
//!   +11+2·p for participant p's discovery and user unicast);
//! - every network interface (`getifaddrs`, else `/sys/class/net/*/flags`):
//!   addresses, up or down, MULTICAST;
//! - a route for the discovery group 239.255.0.1 (`/proc/net/route`);
//! - the UDP ports in use in the domain's RTPS range (`/proc/net/udp`, `udp6`);
//! - a DDS participant on the domain, and the SustainML nodes and other participants
//!   heard within `--wait` seconds;
//! - versions: this tool, rustdds, the wire protocol.
//!
//! Exit 1 if any check fails (warnings do not), 2 for a bad `--wait`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use serde_json::{json, Value};
use sustainml_dds::{ports, ParticipantEvent};

use crate::{nodes, participant, runtime, seconds};

/// Options of `sustainml doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Print the checks as one JSON document.
    #[arg(long)]
    json: bool,
    /// Seconds to listen for nodes and participants.
    #[arg(long, value_name = "S", default_value_t = 3.0)]
    wait: f64,
}

/// Ports between two domains (RTPS `DG`), the span of one domain's ports.
const DOMAIN_GAIN: u32 = ports::DOMAIN_GAIN as u32;

/// The SPDP multicast group.
const DISCOVERY_GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 0, 1);

/// The RTPS version rustdds 0.15 speaks (`ProtocolVersion::THIS_IMPLEMENTATION`).
const RTPS_VERSION: &str = "2.4";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Ok,
    Warn,
    Fail,
}

/// One check's verdict.
#[derive(Debug, Serialize)]
struct Check {
    name: String,
    level: Level,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    #[serde(skip_serializing_if = "Value::is_null")]
    data: Value,
}

impl Check {
    fn new(name: impl Into<String>, level: Level, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            level,
            detail: detail.into(),
            hint: None,
            data: Value::Null,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

/// Runs the checks and prints them.
pub fn run(args: DoctorArgs) -> Result<ExitCode> {
    let wait = seconds("wait", args.wait)?;
    let mut checks = Vec::new();
    let domain = match sustainml_dds::domain_id_from_env() {
        Ok(d) => {
            checks.push(domain_check(d));
            Some(d)
        }
        Err(e) => {
            checks.push(
                Check::new("domain", Level::Fail, e.to_string())
                    .hint("set SUSTAINML_DOMAIN_ID to a number from 0 to 232, or unset it for 0"),
            );
            None
        }
    };
    checks.extend(interface_checks());
    checks.push(route_check());
    if let Some(d) = domain {
        // Before our own participant takes ports.
        checks.push(port_check(d));
        checks.extend(dds_checks(d, wait));
    }
    checks.push(version_check());
    let failed = checks.iter().any(|c| c.level == Level::Fail);
    if args.json {
        let report = json!({ "domain": domain, "ok": !failed, "checks": checks });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print(&checks);
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print(checks: &[Check]) {
    for c in checks {
        let level = match c.level {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        println!("{level:<5} {:<16} {}", c.name, c.detail);
        if let Some(h) = &c.hint {
            println!("{:<22}hint: {h}", "");
        }
    }
}

// ---------------------------------------------------------------------------------
// Domain and ports.

fn base_port(domain: u16) -> u32 {
    // Domains are checked to be at most 232, whose ports all fit.
    ports::domain_base(domain).map_or(0, u32::from)
}

fn domain_check(domain: u16) -> Check {
    let base = base_port(domain);
    let source = match std::env::var(sustainml_dds::DOMAIN_ENV) {
        Ok(_) => "from SUSTAINML_DOMAIN_ID",
        Err(_) => "SUSTAINML_DOMAIN_ID unset: the default",
    };
    Check::new(
        "domain",
        Level::Ok,
        format!(
            "{domain} ({source}); UDP ports: discovery multicast {DISCOVERY_GROUP}:{base}, user multicast {}, participant p unicast {}+2p (discovery) and {}+2p (user)",
            base + 1,
            base + 10,
            base + 11
        ),
    )
    .data(json!({
        "domain": domain,
        "discovery_multicast": base,
        "user_multicast": base + 1,
        "discovery_unicast_first": base + 10,
        "user_unicast_first": base + 11,
    }))
}

/// What an RTPS port of `domain` is for.
fn port_role(domain: u16, port: u32) -> String {
    u16::try_from(port)
        .ok()
        .and_then(|p| ports::port_role(domain, p))
        .unwrap_or_else(|| "other".to_owned())
}

/// The local UDP ports in `/proc/net/udp` and `udp6`, with how many sockets each.
fn udp_ports() -> std::io::Result<BTreeMap<u32, u32>> {
    let mut ports = BTreeMap::new();
    for file in ["/proc/net/udp", "/proc/net/udp6"] {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for port in text.lines().skip(1).filter_map(local_port) {
            *ports.entry(port).or_insert(0) += 1;
        }
    }
    Ok(ports)
}

/// The local port of a `/proc/net/udp` line (`sl local_address:PORT …`, hex).
fn local_port(line: &str) -> Option<u32> {
    let local = line.split_whitespace().nth(1)?;
    let (_, port) = local.rsplit_once(':')?;
    u32::from_str_radix(port, 16).ok()
}

fn port_check(domain: u16) -> Check {
    let base = base_port(domain);
    let ports = match udp_ports() {
        Ok(p) => p,
        Err(e) => {
            return Check::new(
                "udp ports",
                Level::Warn,
                format!("cannot read /proc/net/udp: {e}"),
            )
            .hint("run on Linux with /proc mounted to see the ports in use")
        }
    };
    let ours: Vec<(u32, u32)> = ports
        .into_iter()
        .filter(|(p, _)| (base..base + DOMAIN_GAIN).contains(p))
        .collect();
    if ours.is_empty() {
        return Check::new(
            "udp ports",
            Level::Ok,
            format!(
                "none of {base}-{} in use: no participant of domain {domain} on this machine",
                base + DOMAIN_GAIN - 1
            ),
        )
        .data(json!([]));
    }
    let described: Vec<String> = ours
        .iter()
        .map(|(p, n)| {
            let sockets = if *n > 1 {
                format!(", {n} sockets")
            } else {
                String::new()
            };
            format!("{p} ({}{sockets})", port_role(domain, *p))
        })
        .collect();
    let data: Vec<Value> = ours
        .iter()
        .map(|(p, n)| json!({"port": p, "role": port_role(domain, *p), "sockets": n}))
        .collect();
    Check::new(
        "udp ports",
        Level::Ok,
        format!("{} in use: {}", ours.len(), described.join(", ")),
    )
    .data(Value::Array(data))
}

// ---------------------------------------------------------------------------------
// Interfaces and routes.

/// IFF_UP, IFF_LOOPBACK, IFF_MULTICAST (linux/if.h).
const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;
const IFF_MULTICAST: u32 = 0x1000;

#[derive(Debug, Default)]
struct Interface {
    flags: u32,
    addresses: Vec<IpAddr>,
}

/// Every interface with its flags and addresses, from `getifaddrs` (which lists every
/// interface of this network namespace, with or without an address). Only when that
/// fails are the flags read from `/sys/class/net/*/flags`: sysfs shows the network
/// namespace it was mounted in, which is not ours inside `scripts/isolated`.
fn interfaces() -> BTreeMap<String, Interface> {
    let mut all: BTreeMap<String, Interface> = BTreeMap::new();
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return interfaces_from_sysfs();
    };
    for a in addrs {
        let iface = all.entry(a.interface_name.clone()).or_default();
        iface.flags |= u32::try_from(a.flags.bits()).unwrap_or(0);
        let ip = a.address.as_ref().and_then(|s| {
            s.as_sockaddr_in()
                .map(|v4| IpAddr::V4(v4.ip()))
                .or_else(|| s.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
        });
        if let Some(ip) = ip.filter(|ip| !iface.addresses.contains(ip)) {
            iface.addresses.push(ip);
        }
    }
    all
}

/// Interfaces and flags (no addresses) from `/sys/class/net`.
fn interfaces_from_sysfs() -> BTreeMap<String, Interface> {
    let mut all = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return all;
    };
    for entry in dir.flatten() {
        let flags = std::fs::read_to_string(entry.path().join("flags"))
            .ok()
            .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok());
        let name = entry.file_name().to_string_lossy().into_owned();
        all.insert(
            name,
            Interface {
                flags: flags.unwrap_or(0),
                addresses: Vec::new(),
            },
        );
    }
    all
}

fn interface_checks() -> Vec<Check> {
    let all = interfaces();
    let usable = all
        .values()
        .any(|i| i.flags & IFF_UP != 0 && i.flags & IFF_MULTICAST != 0);
    if all.is_empty() {
        return vec![
            Check::new("interfaces", Level::Fail, "no network interface found")
                .hint("DDS needs at least the loopback interface up: ip link set lo up"),
        ];
    }
    all.iter()
        .map(|(name, i)| {
            let up = i.flags & IFF_UP != 0;
            let multicast = i.flags & IFF_MULTICAST != 0;
            let mut words = vec![if up { "up" } else { "down" }];
            if multicast {
                words.push("MULTICAST");
            }
            if i.flags & IFF_LOOPBACK != 0 {
                words.push("loopback");
            }
            let addrs: Vec<String> = i.addresses.iter().map(IpAddr::to_string).collect();
            let detail = format!(
                "{}: {}",
                words.join(", "),
                if addrs.is_empty() { "no address".to_owned() } else { addrs.join(", ") }
            );
            let level = if (up && multicast) || usable { Level::Ok } else { Level::Warn };
            let mut check = Check::new(format!("interface {name}"), level, detail).data(json!({
                "up": up, "multicast": multicast, "addresses": addrs,
            }));
            if level == Level::Warn {
                check = check.hint(format!(
                    "no interface is up with MULTICAST, so DDS discovery (multicast {DISCOVERY_GROUP}) stays on this machine: ip link set {name} up multicast on"
                ));
            }
            check
        })
        .collect()
}

/// A route of `/proc/net/route`: interface, destination, mask, up.
fn routes(text: &str) -> Vec<(String, Ipv4Addr, Ipv4Addr, bool)> {
    let addr = |hex: &str| {
        u32::from_str_radix(hex, 16)
            .ok()
            .map(|v| Ipv4Addr::from(v.to_ne_bytes()))
    };
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let flags = u32::from_str_radix(f.get(3)?, 16).ok()?;
            Some((
                (*f.first()?).to_owned(),
                addr(f.get(1)?)?,
                addr(f.get(7)?)?,
                flags & 1 != 0,
            ))
        })
        .collect()
}

fn route_check() -> Check {
    let name = "multicast route";
    let text = match std::fs::read_to_string("/proc/net/route") {
        Ok(t) => t,
        Err(e) => {
            return Check::new(
                name,
                Level::Warn,
                format!("cannot read /proc/net/route: {e}"),
            )
        }
    };
    let group = u32::from(DISCOVERY_GROUP);
    let best = routes(&text)
        .into_iter()
        .filter(|(_, dest, mask, up)| *up && group & u32::from(*mask) == u32::from(*dest))
        .max_by_key(|(_, _, mask, _)| u32::from(*mask).count_ones());
    match best {
        Some((iface, dest, mask, _)) => {
            let prefix = u32::from(mask).count_ones();
            let how = if prefix == 0 {
                "the default route".to_owned()
            } else {
                format!("{dest}/{prefix}")
            };
            Check::new(
                name,
                Level::Ok,
                format!("{DISCOVERY_GROUP} goes out on {iface} ({how})"),
            )
            .data(json!({"interface": iface, "route": format!("{dest}/{prefix}")}))
        }
        None => Check::new(
            name,
            Level::Warn,
            format!("no route for {DISCOVERY_GROUP}: multicast discovery cannot be sent"),
        )
        .hint("add one, e.g. ip route add 224.0.0.0/4 dev lo (one machine) or dev eth0"),
    }
}

// ---------------------------------------------------------------------------------
// DDS.

/// Opens a participant on `domain` and listens `wait` for nodes and participants.
fn dds_checks(domain: u16, wait: Duration) -> Vec<Check> {
    let participant = match participant() {
        Ok(p) => p,
        Err(e) => {
            return vec![Check::new("participant", Level::Fail, format!("{e:#}"))
            .hint("another program may hold the domain's ports (see udp ports), or no interface is usable")]
        }
    };
    let opened = Check::new(
        "participant",
        Level::Ok,
        format!("opened on domain {domain}"),
    );
    let heard = runtime().and_then(|rt| {
        rt.block_on(async {
            let mut events = participant.participant_events();
            let nodes = nodes::collect(&participant, wait).await?;
            let mut seen = std::collections::HashSet::new();
            while let Ok(e) = events.try_recv() {
                match e {
                    ParticipantEvent::Discovered(id) => {
                        seen.insert(id);
                    }
                    ParticipantEvent::Lost { id, .. } => {
                        seen.remove(&id);
                    }
                    _ => {}
                }
            }
            Ok((nodes, seen.len()))
        })
    });
    let check = match heard {
        Ok((nodes, participants)) => nodes_check(domain, wait, &nodes, participants),
        Err(e) => Check::new("nodes", Level::Fail, format!("{e:#}")),
    };
    vec![opened, check]
}

fn nodes_check(
    domain: u16,
    wait: Duration,
    nodes: &BTreeMap<String, nodes::Seen>,
    participants: usize,
) -> Check {
    let secs = wait.as_secs_f64();
    let list: Vec<String> = nodes
        .iter()
        .filter_map(|(name, seen)| seen.latest().map(|s| format!("{name} ({})", s.node_status)))
        .collect();
    let data = json!({"nodes": list, "participants": participants});
    if list.is_empty() {
        let detail = if participants == 0 {
            format!("nothing heard on domain {domain} within {secs} s")
        } else {
            format!("{participants} participant(s) on domain {domain} but no SustainML node status within {secs} s")
        };
        return Check::new("nodes", Level::Warn, detail)
            .hint("start nodes (sustainml launch launch/local.toml); on other machines use the same SUSTAINML_DOMAIN_ID and let multicast through")
            .data(data);
    }
    Check::new(
        "nodes",
        Level::Ok,
        format!(
            "{} node(s) and {participants} participant(s) within {secs} s: {}",
            list.len(),
            list.join(", ")
        ),
    )
    .data(data)
}

// ---------------------------------------------------------------------------------
// Versions.

/// The rustdds version this program was built with, from the workspace's lock file.
fn rustdds_version() -> &'static str {
    const LOCK: &str = include_str!("../../../Cargo.lock");
    LOCK.split("[[package]]")
        .find(|p| p.contains("name = \"rustdds\""))
        .and_then(|p| p.lines().find_map(|l| l.trim().strip_prefix("version = ")))
        .map_or("unknown", |v| v.trim_matches('"'))
}

fn version_check() -> Check {
    let tool = env!("CARGO_PKG_VERSION");
    let dds = rustdds_version();
    Check::new(
        "versions",
        Level::Ok,
        format!(
            "sustainml {tool}; rustdds {dds}; wire: SustainML typesImpl.idl in XCDR1 little-endian (Fast DDS 2.9 compatible) over RTPS {RTPS_VERSION}"
        ),
    )
    .data(json!({"sustainml": tool, "rustdds": dds, "rtps": RTPS_VERSION, "encoding": "XCDR1"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtps_ports_are_named() {
        assert_eq!(base_port(0), 7400);
        assert_eq!(base_port(1), 7650);
        assert_eq!(port_role(0, 7400), "discovery multicast");
        assert_eq!(port_role(0, 7401), "user multicast");
        assert_eq!(port_role(0, 7414), "participant 2 discovery");
        assert_eq!(port_role(0, 7415), "participant 2 user");
        assert_eq!(port_role(0, 7405), "unassigned");
        assert_eq!(port_role(0, 9000), "other");
        let line = "  12: 0100007F:1CE8 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 3";
        assert_eq!(local_port(line), Some(7400));
    }

    #[test]
    fn routes_are_read_from_proc() {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                    lo\t000000E0\t00000000\t0001\t0\t0\t0\t000000F0\t0\t0\t0\n";
        let r = routes(text);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].1, Ipv4Addr::new(224, 0, 0, 0));
        assert_eq!(r[0].2, Ipv4Addr::new(240, 0, 0, 0));
        assert!(r[0].3);
        assert_ne!(rustdds_version(), "unknown");
    }
}
