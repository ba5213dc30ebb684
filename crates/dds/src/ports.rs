//! The RTPS port mapping of a domain, and how a participant comes to own its two
//! unicast ports.
//!
//! RTPS 2.5 §9.6.2.3 gives every participant `p` of domain `d` a discovery (SPDP)
//! unicast port `7400 + 250·d + 10 + 2·p` and a user-traffic unicast port one above it;
//! the domain's multicast ports are `7400 + 250·d` (discovery) and `+1` (user traffic).
//! This module is the one home of that arithmetic.
//!
//! rustdds 0.15 picks the lowest participant id whose *discovery* port binds and, if
//! that id's *user* port is then taken, silently listens on an ephemeral port instead.
//! Beside other vendors starting at the same instant (a Fast DDS participant binding
//! 7415 while ours binds 7414) that fallback was measured to leave a node whose samples
//! reached no reader. A participant therefore chooses its id itself: the lowest id whose two
//! ports are both free, steering rustdds to it by holding the discovery ports of the
//! lower ids that are half-free, and then checks in `/proc` that the process really owns
//! both ports of the id rustdds took. Anything else is retried, and after
//! [`CLAIM_ATTEMPTS`] it is an error naming the domain and the ports.

use std::collections::HashSet;
use std::net::{Ipv4Addr, UdpSocket};

/// Base of every domain's ports (RTPS `PB`).
pub const PORT_BASE: u16 = 7400;
/// Ports between two domains (RTPS `DG`).
pub const DOMAIN_GAIN: u16 = 250;
/// Ports between two participants of a domain (RTPS `PG`).
pub const PARTICIPANT_GAIN: u16 = 2;
/// Offset of participant 0's discovery unicast port (RTPS `d1`).
pub const SPDP_UNICAST_OFFSET: u16 = 10;
/// Offset of participant 0's user-traffic unicast port (RTPS `d3`).
pub const USER_UNICAST_OFFSET: u16 = 11;
/// Offset of the discovery multicast port (RTPS `d0`).
pub const SPDP_MULTICAST_OFFSET: u16 = 0;
/// Offset of the user-traffic multicast port (RTPS `d2`).
pub const USER_MULTICAST_OFFSET: u16 = 1;
/// Participant ids a domain has (RTPS 2.5 §9.6.2.3 and rustdds: 0..120).
pub const MAX_PARTICIPANTS: u16 = 120;
/// How many times a participant is built before it gives up on owning its ports.
pub const CLAIM_ATTEMPTS: usize = 8;

fn port(domain: u16, offset: u32) -> Option<u16> {
    let p = u32::from(PORT_BASE) + u32::from(DOMAIN_GAIN) * u32::from(domain) + offset;
    u16::try_from(p).ok()
}

/// The first port of `domain` (its discovery multicast port), or `None` if it does not
/// fit in 16 bits.
pub fn domain_base(domain: u16) -> Option<u16> {
    port(domain, 0)
}

/// The well-known discovery (SPDP) unicast port of `participant` on `domain`.
pub fn spdp_unicast_port(domain: u16, participant: u16) -> Option<u16> {
    port(
        domain,
        u32::from(SPDP_UNICAST_OFFSET) + u32::from(PARTICIPANT_GAIN) * u32::from(participant),
    )
}

/// The user-traffic unicast port of `participant` on `domain`.
pub fn user_unicast_port(domain: u16, participant: u16) -> Option<u16> {
    port(
        domain,
        u32::from(USER_UNICAST_OFFSET) + u32::from(PARTICIPANT_GAIN) * u32::from(participant),
    )
}

/// The domain's two multicast ports (discovery, user traffic).
pub fn multicast_ports(domain: u16) -> Option<[u16; 2]> {
    Some([
        port(domain, u32::from(SPDP_MULTICAST_OFFSET))?,
        port(domain, u32::from(USER_MULTICAST_OFFSET))?,
    ])
}

/// What an RTPS port of `domain` is for ("participant 3 user", "discovery multicast"),
/// or `None` if it is not one of the domain's.
pub fn port_role(domain: u16, port: u16) -> Option<String> {
    let off = port.checked_sub(domain_base(domain)?)?;
    if off >= DOMAIN_GAIN {
        return None;
    }
    Some(match off {
        SPDP_MULTICAST_OFFSET => "discovery multicast".to_owned(),
        USER_MULTICAST_OFFSET => "user multicast".to_owned(),
        o if o >= SPDP_UNICAST_OFFSET && (o - SPDP_UNICAST_OFFSET) % 2 == 0 => {
            format!("participant {} discovery", (o - SPDP_UNICAST_OFFSET) / 2)
        }
        o if o >= USER_UNICAST_OFFSET => {
            format!("participant {} user", (o - USER_UNICAST_OFFSET) / 2)
        }
        _ => "unassigned".to_owned(),
    })
}

/// Why no participant id could be claimed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// Every id has at least one of its two unicast ports taken.
    #[error(
        "no free participant id on domain {domain}: every id 0..{MAX_PARTICIPANTS} has its \
         discovery port ({first_spdp}+2·id) or its user port ({first_user}+2·id) taken"
    )]
    NoFreeId {
        /// The domain.
        domain: u16,
        /// Participant 0's discovery port.
        first_spdp: u16,
        /// Participant 0's user port.
        first_user: u16,
    },
    /// The domain's ports do not fit in 16 bits.
    #[error("domain {0} has no valid RTPS ports (they do not fit in 16 bits)")]
    Domain(u16),
    /// Other processes kept taking the ports of the id the participant was given.
    #[error(
        "domain {domain}: after {CLAIM_ATTEMPTS} tries the participant still did not own both \
         unicast ports of its id (last: participant {participant}, ports {spdp} and {user})"
    )]
    Contended {
        /// The domain.
        domain: u16,
        /// The last id tried.
        participant: u16,
        /// Its discovery port.
        spdp: u16,
        /// Its user port.
        user: u16,
    },
}

/// The id chosen for the next participant, with the sockets that steer rustdds to it.
#[derive(Debug)]
pub(crate) struct Reservation {
    /// The id whose two ports were free.
    pub id: u16,
    /// Discovery ports of lower ids held so that rustdds skips them (their user port
    /// is taken, or they are to be avoided); released once the participant exists.
    _blockers: Vec<UdpSocket>,
}

fn bind(port: u16) -> Option<UdpSocket> {
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).ok()
}

/// Finds the lowest id of `domain` whose two unicast ports are free, not in `avoid`,
/// and holds the discovery port of every lower id that rustdds could otherwise take.
/// The chosen id's own ports are left free for rustdds to bind at once.
pub(crate) fn reserve(domain: u16, avoid: &HashSet<u16>) -> Result<Reservation, ClaimError> {
    let mut blockers = Vec::new();
    for id in 0..MAX_PARTICIPANTS {
        let (Some(spdp), Some(user)) =
            (spdp_unicast_port(domain, id), user_unicast_port(domain, id))
        else {
            break; // the ids above this one have no ports on this domain
        };
        let Some(d) = bind(spdp) else {
            continue; // someone holds the discovery port: rustdds skips this id itself
        };
        if !avoid.contains(&id) && bind(user).is_some() {
            // Both free: release them (the probes drop here) for rustdds.
            drop(d);
            return Ok(Reservation {
                id,
                _blockers: blockers,
            });
        }
        blockers.push(d);
    }
    let first = |f: fn(u16, u16) -> Option<u16>| f(domain, 0).unwrap_or(0);
    Err(ClaimError::NoFreeId {
        domain,
        first_spdp: first(spdp_unicast_port),
        first_user: first(user_unicast_port),
    })
}

/// Whether this process holds a UDP socket bound to `port` (from `/proc/net/udp*` and
/// `/proc/self/fd`). `None` where `/proc` cannot tell (not Linux).
pub(crate) fn owned_by_this_process(port: u16) -> Option<bool> {
    let mut inodes = HashSet::new();
    let mut readable = false;
    for file in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        readable = true;
        inodes.extend(
            text.lines()
                .skip(1)
                .filter_map(|line| socket_inode(line, port)),
        );
    }
    if !readable {
        return None;
    }
    if inodes.is_empty() {
        return Some(false);
    }
    let fds = std::fs::read_dir("/proc/self/fd").ok()?;
    Some(fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|target| {
            target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok())
                .is_some_and(|inode: u64| inodes.contains(&inode))
        })
    }))
}

/// The inode of a `/proc/net/udp` line whose local port is `port`.
fn socket_inode(line: &str, port: u16) -> Option<u64> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (_, local_port) = fields.get(1)?.rsplit_once(':')?;
    if u16::from_str_radix(local_port, 16).ok()? != port {
        return None;
    }
    fields.get(9)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_follow_the_rtps_mapping() {
        assert_eq!(spdp_unicast_port(0, 0), Some(7410));
        assert_eq!(user_unicast_port(0, 2), Some(7415));
        assert_eq!(spdp_unicast_port(1, 11), Some(7682));
        assert_eq!(multicast_ports(3), Some([8150, 8151]));
        assert_eq!(spdp_unicast_port(232, 0), Some(65_410));
        assert_eq!(spdp_unicast_port(232, 119), None);
        assert_eq!(user_unicast_port(233, 0), None);
        assert_eq!(port_role(0, 7415).as_deref(), Some("participant 2 user"));
        assert_eq!(
            port_role(0, 7414).as_deref(),
            Some("participant 2 discovery")
        );
        assert_eq!(port_role(0, 7401).as_deref(), Some("user multicast"));
        assert_eq!(port_role(0, 7405).as_deref(), Some("unassigned"));
        assert_eq!(port_role(0, 7650), None);
    }

    #[test]
    fn a_proc_net_udp_line_gives_its_inode_for_its_port() {
        let line = "  712: 00000000:1CF7 00000000:0000 07 00000000:00000000 00:00000000 \
                    00000000     0        0 123456 2 0000000000000000 0";
        assert_eq!(socket_inode(line, 0x1cf7), Some(123_456));
        assert_eq!(socket_inode(line, 7410), None);
    }

    #[test]
    fn this_process_is_seen_owning_the_ports_it_binds() {
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = s.local_addr().expect("addr").port();
        if let Some(owned) = owned_by_this_process(port) {
            assert!(owned);
            drop(s);
            assert_eq!(owned_by_this_process(port), Some(false));
        }
    }
}
