//! Machines for multi-host tests: network namespaces joined by a veth pair, built
//! inside the private namespace of `scripts/isolated`, so no packet leaves this
//! machine.
//!
//! Each host is a namespace held open by an `unshare --net -- sleep` process (no
//! `ip netns add`, which would write `/run/netns` for the whole machine); commands
//! run in it through `nsenter --net=/proc/PID/ns/net`. Dropping a [`Hosts`] kills the
//! holders, which destroys their namespaces and the veth pair with them.
//!
//! Needs root, `unshare` and `nsenter` (util-linux), `ip` (iproute2) and `bash` (for
//! [`Host::http`]).

use std::io::{self, Read, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How a link carries multicast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multicast {
    /// Multicast on both ends, with the 224.0.0.0/4 route over the link; loopback
    /// multicast on too.
    On,
    /// Multicast off on both ends of the link and no multicast route over it, so DDS
    /// discovery by multicast cannot cross it. Loopback keeps multicast on (as in
    /// `scripts/isolated`): the participants still find a multicast interface, the
    /// harder case for discovery without multicast.
    Off,
    /// As [`Multicast::Off`], with loopback multicast off as well (as `lo` is on a
    /// stock Linux host).
    OffEverywhere,
}

/// One machine: a network namespace with loopback and one end of the link.
#[derive(Debug)]
pub struct Host {
    name: String,
    address: Ipv4Addr,
    holder: Child,
}

impl Host {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its address on the link.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The namespace file, for `nsenter --net=`.
    pub fn netns(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/net", self.holder.id()))
    }

    /// A command that runs `program` in this host's namespace.
    pub fn command(&self, program: impl AsRef<Path>) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net={}", self.netns().display()))
            .arg("--")
            .arg(program.as_ref());
        cmd
    }

    /// Runs `program args…` in this host and fails unless it succeeds.
    pub fn run(&self, program: &str, args: &[&str]) -> io::Result<String> {
        let mut cmd = self.command(program);
        cmd.args(args);
        output_of(cmd, &format!("{}: {program} {}", self.name, args.join(" ")))
    }

    /// One HTTP/1.0 request from inside this host to `127.0.0.1:port` (through bash's
    /// `/dev/tcp`, so the test process need not enter the namespace). Returns the
    /// status and the body.
    pub fn http(
        &self,
        port: u16,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> io::Result<(u16, String)> {
        let body = body.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut cmd = self.command("timeout");
        cmd.args([
            "60",
            "bash",
            "-c",
            r#"exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 7; cat >&3; cat <&3"#,
            "http",
            &port.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(request.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| {
            io::Error::other(format!(
                "{method} {path} on {}: no HTTP answer ({}; {})",
                self.name,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        })?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::other(format!("bad HTTP status line in {head:?}")))?;
        Ok((status, body.to_owned()))
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Hosts joined by veth pairs, built inside `scripts/isolated`.
#[derive(Debug)]
pub struct Hosts {
    /// The hosts, in the order given (a router last).
    pub hosts: Vec<Host>,
}

impl Hosts {
    /// Hosts `a` (10.77.0.1) and `b` (10.77.0.2) on one link, with or without
    /// multicast. Panics outside `scripts/isolated`: the veth pairs must not touch the
    /// machine's own network namespace.
    pub fn pair(a: &str, b: &str, multicast: Multicast) -> io::Result<Self> {
        crate::assert_isolated();
        let hosts = Self {
            hosts: vec![
                Host::new(a, Ipv4Addr::new(10, 77, 0, 1))?,
                Host::new(b, Ipv4Addr::new(10, 77, 0, 2))?,
            ],
        };
        hosts.link(0, 1, "24", multicast)?;
        for (i, end) in [(0, "a"), (1, "b")] {
            let dev = match multicast {
                Multicast::On => hosts.end_name(0, end),
                Multicast::Off => "lo".to_owned(),
                Multicast::OffEverywhere => continue,
            };
            hosts.hosts[i].run("ip", &["route", "add", "224.0.0.0/4", "dev", &dev])?;
        }
        hosts.wait_for_carrier(Duration::from_secs(10))?;
        Ok(hosts)
    }

    /// Hosts `a` (10.77.1.2) and `b` (10.77.2.2) on two subnets joined by a host
    /// `router` (10.77.1.1, 10.77.2.1) that forwards unicast. Every interface has
    /// multicast on, as a real NIC does, but multicast does not cross the router (no
    /// multicast routing): the usual edge-to-cloud situation.
    pub fn routed(a: &str, b: &str) -> io::Result<Self> {
        crate::assert_isolated();
        let hosts = Self {
            hosts: vec![
                Host::new(a, Ipv4Addr::new(10, 77, 1, 2))?,
                Host::new(b, Ipv4Addr::new(10, 77, 2, 2))?,
                Host::new("router", Ipv4Addr::new(10, 77, 1, 1))?,
            ],
        };
        // Link 0: a ↔ router on 10.77.1.0/24; link 1: b ↔ router on 10.77.2.0/24.
        hosts.link(0, 2, "24", Multicast::On)?;
        hosts.link(1, 2, "24", Multicast::On)?;
        let router = &hosts.hosts[2];
        let dev = hosts.end_name(1, "b");
        router.run("ip", &["addr", "add", "10.77.2.1/24", "dev", &dev])?;
        router.run("sysctl", &["-qw", "net.ipv4.ip_forward=1"])?;
        for (i, gateway) in [(0, "10.77.1.1"), (1, "10.77.2.1")] {
            let host = &hosts.hosts[i];
            let dev = hosts.end_name(i, "a");
            host.run("ip", &["route", "add", "default", "via", gateway])?;
            host.run("ip", &["route", "add", "224.0.0.0/4", "dev", &dev])?;
        }
        hosts.wait_for_carrier(Duration::from_secs(10))?;
        Ok(hosts)
    }

    /// The name of end `a` or `b` of the link made for host `index`.
    fn end_name(&self, index: usize, end: &str) -> String {
        format!("ve{}{end}", self.hosts[index].holder.id())
    }

    /// Joins host `x` (end `a`, its address) and host `y` (end `b`, its address when
    /// `y` is not a router) with a veth pair named after `x`.
    fn link(&self, x: usize, y: usize, prefix: &str, multicast: Multicast) -> io::Result<()> {
        let ends = [self.end_name(x, "a"), self.end_name(x, "b")];
        let mut add = Command::new("ip");
        add.args([
            "link", "add", &ends[0], "type", "veth", "peer", "name", &ends[1],
        ]);
        output_of(add, "ip link add (veth)")?;
        for (host, end) in [(&self.hosts[x], &ends[0]), (&self.hosts[y], &ends[1])] {
            let mut set = Command::new("ip");
            set.args(["link", "set", end, "netns", &host.holder.id().to_string()]);
            output_of(set, "ip link set netns")?;
            // A router's first link gets its own address; its others are added after.
            let first_of_router = host.name == "router" && x == 0;
            if host.name != "router" || first_of_router {
                let addr = format!("{}/{prefix}", host.address);
                host.run("ip", &["addr", "add", &addr, "dev", end])?;
            }
            host.run("ip", &["link", "set", "lo", "up"])?;
            let (lo, link) = match multicast {
                Multicast::On => ("on", "on"),
                Multicast::Off => ("on", "off"),
                Multicast::OffEverywhere => ("off", "off"),
            };
            host.run("ip", &["link", "set", "lo", "multicast", lo])?;
            host.run("ip", &["link", "set", end, "multicast", link])?;
            host.run("ip", &["link", "set", end, "up"])?;
        }
        Ok(())
    }

    /// The host named `name`.
    pub fn host(&self, name: &str) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("no host {name}"))
    }

    fn wait_for_carrier(&self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut up = true;
            for h in &self.hosts {
                up &= !h.run("ip", &["-o", "link", "show"])?.contains("NO-CARRIER");
            }
            if up {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::other("the veth link did not come up"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Host {
    fn new(name: &str, address: Ipv4Addr) -> io::Result<Self> {
        let holder = Command::new("unshare")
            .args(["--net", "--", "sleep", "1000000"])
            .stdin(Stdio::null())
            .spawn()?;
        let host = Self {
            name: name.to_owned(),
            address,
            holder,
        };
        // unshare creates the namespace, then execs sleep: wait until the holder's
        // namespace differs from ours.
        let ours = std::fs::read_link("/proc/self/ns/net")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_link(host.netns()).ok().as_ref() == Some(&ours) {
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "host {name}: unshare --net did not make a namespace"
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(host)
    }
}

fn output_of(mut cmd: Command, what: &str) -> io::Result<String> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let mut err = String::from_utf8_lossy(&out.stderr).into_owned();
        if err.is_empty() {
            let _ = out.stdout.as_slice().read_to_string(&mut err);
        }
        Err(io::Error::other(format!(
            "{what}: {}: {}",
            out.status,
            err.trim()
        )))
    }
}
