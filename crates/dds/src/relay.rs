//! Discovery across machines without multicast: a relay of SPDP announcements.
//!
//! rustdds 0.15 finds participants with SPDP announcements sent to the multicast
//! group 239.255.0.1 and, on the same machine, to the well-known SPDP unicast ports of
//! participant ids 0..12 on 127.0.0.1 ("localhost SPDP peers"). It has no list of
//! static peers, so where multicast does not cross the network (most clouds, VPNs,
//! links with multicast off) machines never discover each other.
//!
//! A [`DiscoveryRelay`] runs on every machine, for one domain, and fills that gap:
//!
//! 1. It binds UDP port [`relay_port`]`(domain)` on every address: the well-known SPDP
//!    unicast port of participant id [`RELAY_PARTICIPANT_ID`] (11), the last of the
//!    localhost SPDP peers. Every rustdds participant on the machine therefore sends
//!    its announcements to the relay, over loopback, with no configuration (and no
//!    participant takes id 11 while the relay holds the port).
//! 2. An announcement from a loopback address (a local participant) is forwarded by
//!    unicast to the relay of every configured peer machine, on the same port.
//! 3. An announcement from a configured peer is delivered to the local participants:
//!    to the SPDP unicast ports of participant ids 0..11, at this machine's own
//!    address on the route to that peer, never at 127.0.0.1. rustdds takes a
//!    participant whose traffic comes from a loopback address to be on the same host
//!    and then sends to its 127.0.0.1 locators, which on another machine would be
//!    wrong.
//! 4. Anything else (another source, a datagram that is not RTPS) is dropped and
//!    counted. Relayed datagrams never go back out: only local ones are forwarded, so a
//!    datagram crosses at most one link and two relays cannot loop.
//!
//! 5. It also holds the domain's two multicast ports (SPDP 7400 + 250·domain and user
//!    traffic 7401 + 250·domain) without address reuse, so that the machine's rustdds
//!    participants cannot open their multicast listeners and advertise no multicast
//!    locator. Without this, a participant with any multicast-capable interface
//!    (loopback with multicast on, a cloud NIC whose network drops multicast)
//!    advertises 239.255.0.1, and rustdds then sends live samples to its readers by
//!    multicast only, which never reaches the other machine (measured here: discovery
//!    completes, tasks never do). The participants still find each other on the
//!    machine through rustdds's localhost announcements, and talk by unicast.
//!
//! Once a participant has learnt a remote one from a relayed announcement, rustdds
//! speaks to it directly: its own announcements, SEDP and user data go by unicast to
//! the locators the remote participant advertises (its address on the link). The relay
//! only carries the first contact and the periodic announcements after it.
//!
//! Every machine must list every other machine (a full mesh): relays do not forward
//! what they received from a peer. Up to 11 participants per machine and domain are
//! discoverable (ids 0..=10), as with rustdds's localhost discovery.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

use crate::error::{Error, Result};

/// The participant id whose SPDP unicast port the relay holds: the last of rustdds
/// 0.15's localhost SPDP peers (`SPDP_LOCALHOST_PEER_COUNT` = 12, ids 0..12).
pub const RELAY_PARTICIPANT_ID: u16 = 11;

/// Largest datagram the relay carries (SPDP announcements are well under 1 KB).
const MAX_DATAGRAM: usize = 65_536;

pub use crate::ports::{multicast_ports, spdp_unicast_port};

/// The UDP port of the relay on `domain` (on every machine): 7432 + 250·domain.
pub fn relay_port(domain: u16) -> Option<u16> {
    spdp_unicast_port(domain, RELAY_PARTICIPANT_ID)
}

/// What the relay does with a datagram, from where it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// From a local participant: send to every peer's relay.
    Forward,
    /// From this peer's relay: deliver to the local participants.
    Deliver(Ipv4Addr),
    /// Not ours to carry.
    Drop(DropReason),
}

/// Why a datagram was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// It does not start with an RTPS header.
    NotRtps,
    /// It came from an address that is neither loopback nor a configured peer.
    UnknownSource,
}

/// Decides what to do with `datagram` received from `source`, given the peers. Pure:
/// this is the relay's loop prevention (only loopback sources are forwarded).
pub fn route(source: SocketAddr, datagram: &[u8], peers: &[Ipv4Addr]) -> Route {
    if datagram.len() < 20 || !datagram.starts_with(b"RTPS") {
        return Route::Drop(DropReason::NotRtps);
    }
    let ip = match source.ip() {
        IpAddr::V4(ip) => ip,
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(ip) => ip,
            None if ip.is_loopback() => return Route::Forward,
            None => return Route::Drop(DropReason::UnknownSource),
        },
    };
    if ip.is_loopback() {
        Route::Forward
    } else if peers.contains(&ip) {
        Route::Deliver(ip)
    } else {
        Route::Drop(DropReason::UnknownSource)
    }
}

/// Checks a peer address: an IPv4 unicast address of another machine.
pub fn check_peer(addr: Ipv4Addr) -> std::result::Result<Ipv4Addr, String> {
    if addr.is_loopback() {
        Err(format!("{addr} is a loopback address, not another machine"))
    } else if addr.is_multicast() || addr.is_broadcast() {
        Err(format!("{addr} is not a unicast address"))
    } else if addr.is_unspecified() {
        Err(format!("{addr} is the unspecified address"))
    } else {
        Ok(addr)
    }
}

/// Counters of a running relay.
#[derive(Debug, Default)]
pub struct RelayStats {
    forwarded: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    send_errors: AtomicU64,
}

impl RelayStats {
    /// Local announcements forwarded (counted once per peer they went to).
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::Relaxed)
    }

    /// Announcements from peers delivered to this machine's participants (counted once
    /// per announcement).
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Datagrams dropped (not RTPS, or from an unknown source).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Sends that failed (no route to a peer, for example).
    pub fn send_errors(&self) -> u64 {
        self.send_errors.load(Ordering::Relaxed)
    }
}

impl std::fmt::Display for RelayStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} forwarded to peers, {} delivered from peers, {} dropped, {} send errors",
            self.forwarded(),
            self.delivered(),
            self.dropped(),
            self.send_errors()
        )
    }
}

/// A discovery relay for one domain (see the module documentation).
#[derive(Debug)]
pub struct DiscoveryRelay {
    domain: u16,
    port: u16,
    peers: Vec<Ipv4Addr>,
    socket: UdpSocket,
    // Held, never read: keeps the machine's participants off multicast (item 5 above).
    multicast_ports: Vec<StdUdpSocket>,
    stats: Arc<RelayStats>,
    // Sources and peers already reported, so that each is logged once.
    reported: Mutex<HashSet<(IpAddr, &'static str)>>,
}

impl DiscoveryRelay {
    /// Binds the relay's port for `domain`; `peers` are the other machines' addresses.
    /// Must be called inside a tokio runtime, before this machine's participants start
    /// (a participant that took id 11 holds the port).
    pub fn bind(domain: u16, peers: &[Ipv4Addr]) -> Result<Self> {
        let what = || format!("discovery relay for domain {domain}");
        let port = relay_port(domain).ok_or_else(|| Error::Create {
            what: what(),
            reason: "the domain's ports do not fit in 16 bits".into(),
        })?;
        let mut checked = Vec::new();
        for &p in peers {
            let p = check_peer(p).map_err(|reason| Error::Create {
                what: what(),
                reason: format!("bad peer: {reason}"),
            })?;
            if !checked.contains(&p) {
                checked.push(p);
            }
        }
        let bound = StdUdpSocket::bind((Ipv4Addr::UNSPECIFIED, port))
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
            .and_then(UdpSocket::from_std)
            .map_err(|e| Error::Create {
                what: what(),
                reason: format!(
                    "cannot bind UDP port {port} ({e}; is another relay, or a DDS participant with id {RELAY_PARTICIPANT_ID}, running on this machine and domain?)"
                ),
            })?;
        let mut held = Vec::new();
        for mport in multicast_ports(domain).unwrap_or_default() {
            match StdUdpSocket::bind((Ipv4Addr::UNSPECIFIED, mport)) {
                Ok(s) => held.push(s),
                Err(e) => tracing::warn!(
                    domain,
                    port = mport,
                    error = %e,
                    "discovery relay: cannot hold the multicast port; participants that \
                     already use it advertise multicast, which does not cross the network"
                ),
            }
        }
        Ok(Self {
            domain,
            port,
            peers: checked,
            socket: bound,
            multicast_ports: held,
            stats: Arc::new(RelayStats::default()),
            reported: Mutex::new(HashSet::new()),
        })
    }

    /// The domain it serves.
    pub fn domain(&self) -> u16 {
        self.domain
    }

    /// The UDP port it listens on (on every machine: [`relay_port`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The peers it relays to.
    pub fn peers(&self) -> &[Ipv4Addr] {
        &self.peers
    }

    /// The multicast ports it holds (see the module documentation, item 5).
    pub fn held_multicast_ports(&self) -> Vec<u16> {
        self.multicast_ports
            .iter()
            .filter_map(|s| s.local_addr().ok().map(|a| a.port()))
            .collect()
    }

    /// Its counters, shared with the running relay.
    pub fn stats(&self) -> Arc<RelayStats> {
        Arc::clone(&self.stats)
    }

    /// Relays until the future is dropped (abort the task running it to stop). Only
    /// a failure to receive ends it with an error; failed sends are counted and logged.
    pub async fn run(self) -> Result<()> {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let (len, source) =
                self.socket
                    .recv_from(&mut buf)
                    .await
                    .map_err(|e| Error::Create {
                        what: format!("discovery relay for domain {}", self.domain),
                        reason: format!("receive failed: {e}"),
                    })?;
            let datagram = buf.get(..len).unwrap_or_default();
            match route(source, datagram, &self.peers) {
                Route::Forward => self.forward(datagram).await,
                Route::Deliver(peer) => self.deliver(peer, datagram).await,
                Route::Drop(reason) => {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    if self.first_time(source.ip(), "drop") {
                        tracing::warn!(
                            domain = self.domain,
                            %source,
                            ?reason,
                            "discovery relay: dropping datagrams from a source that is not a configured peer (reported once)"
                        );
                    }
                }
            }
        }
    }

    async fn forward(&self, datagram: &[u8]) {
        for &peer in &self.peers {
            let to = SocketAddr::from((peer, self.port));
            match self.socket.send_to(datagram, to).await {
                Ok(_) => {
                    self.stats.forwarded.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => self.send_failed(IpAddr::V4(peer), &e),
            }
        }
    }

    async fn deliver(&self, peer: Ipv4Addr, datagram: &[u8]) {
        if self.first_time(IpAddr::V4(peer), "heard") {
            tracing::info!(
                domain = self.domain,
                %peer,
                "discovery relay: first announcement from peer"
            );
        }
        // Our own address on the route to the peer: never loopback (see the module
        // documentation), and an address the local participants listen on.
        let local = match local_address_towards(peer, self.port) {
            Some(ip) if !ip.is_loopback() => ip,
            _ => {
                self.stats.send_errors.fetch_add(1, Ordering::Relaxed);
                if self.first_time(IpAddr::V4(peer), "no-route") {
                    tracing::warn!(
                        domain = self.domain,
                        %peer,
                        "discovery relay: no non-loopback address of ours routes to this peer; its announcements are not delivered"
                    );
                }
                return;
            }
        };
        let mut delivered = false;
        for pid in 0..RELAY_PARTICIPANT_ID {
            let Some(port) = spdp_unicast_port(self.domain, pid) else {
                continue;
            };
            // Ports of absent participants answer with ICMP port unreachable, which an
            // unconnected UDP socket ignores.
            match self
                .socket
                .send_to(datagram, SocketAddr::from((local, port)))
                .await
            {
                Ok(_) => delivered = true,
                Err(e) => self.send_failed(IpAddr::V4(local), &e),
            }
        }
        if delivered {
            self.stats.delivered.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn send_failed(&self, to: IpAddr, e: &std::io::Error) {
        self.stats.send_errors.fetch_add(1, Ordering::Relaxed);
        if self.first_time(to, "send") {
            tracing::warn!(
                domain = self.domain,
                %to,
                error = %e,
                "discovery relay: cannot send (reported once per address)"
            );
        }
    }

    fn first_time(&self, ip: IpAddr, what: &'static str) -> bool {
        self.reported
            .lock()
            .map(|mut seen| seen.insert((ip, what)))
            .unwrap_or(false)
    }
}

/// The local address the kernel would send from to reach `peer` (a route lookup:
/// connecting a UDP socket sends nothing).
fn local_address_towards(peer: Ipv4Addr, port: u16) -> Option<Ipv4Addr> {
    let probe = StdUdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    probe.connect((peer, port)).ok()?;
    match probe.local_addr().ok()?.ip() {
        IpAddr::V4(ip) => Some(ip),
        IpAddr::V6(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtps() -> Vec<u8> {
        let mut d = b"RTPS\x02\x04\x01\x0f".to_vec();
        d.resize(64, 0);
        d
    }

    fn from(ip: [u8; 4]) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::from(ip), 7410))
    }

    #[test]
    fn ports_follow_the_rtps_mapping() {
        // rustdds: spdp_well_known_unicast_port(0, 0) = 7410, (1, 0) = 7660.
        assert_eq!(spdp_unicast_port(0, 0), Some(7410));
        assert_eq!(spdp_unicast_port(1, 0), Some(7660));
        assert_eq!(relay_port(0), Some(7432));
        assert_eq!(relay_port(232), Some(65_432));
        assert_eq!(relay_port(300), None);
        assert_eq!(multicast_ports(0), Some([7400, 7401]));
        assert_eq!(multicast_ports(171), Some([50150, 50151]));
    }

    #[test]
    fn only_local_announcements_are_forwarded() {
        let peers = [Ipv4Addr::new(10, 77, 0, 2)];
        assert_eq!(route(from([127, 0, 0, 1]), &rtps(), &peers), Route::Forward);
        assert_eq!(
            route(from([10, 77, 0, 2]), &rtps(), &peers),
            Route::Deliver(peers[0]),
            "a peer's announcement is delivered, never forwarded again"
        );
        assert_eq!(
            route(from([10, 77, 0, 1]), &rtps(), &peers),
            Route::Drop(DropReason::UnknownSource),
            "our own deliveries (from our link address) are not taken in again"
        );
        let mapped = SocketAddr::from((Ipv4Addr::new(10, 77, 0, 2).to_ipv6_mapped(), 1));
        assert_eq!(route(mapped, &rtps(), &peers), Route::Deliver(peers[0]));
    }

    #[test]
    fn non_rtps_datagrams_are_dropped() {
        let peers = [Ipv4Addr::new(10, 77, 0, 2)];
        assert_eq!(
            route(from([127, 0, 0, 1]), b"hello", &peers),
            Route::Drop(DropReason::NotRtps)
        );
        let mut short = rtps();
        short.truncate(19);
        assert_eq!(
            route(from([10, 77, 0, 2]), &short, &peers),
            Route::Drop(DropReason::NotRtps)
        );
    }

    #[test]
    fn peers_must_be_other_machines() {
        assert!(check_peer(Ipv4Addr::new(10, 0, 0, 1)).is_ok());
        for bad in [
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            Ipv4Addr::new(239, 255, 0, 1),
        ] {
            assert!(check_peer(bad).is_err(), "{bad}");
        }
    }
}
