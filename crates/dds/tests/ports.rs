//! Protects "participants own their ports": whatever another process holds of a
//! domain's unicast ports, a participant of ours runs on an id whose discovery and
//! user ports are both its own, and says so clearly when no id is free.
//! (Opens participants: run inside scripts/isolated, as scripts/test does.)

use std::net::{Ipv4Addr, UdpSocket};

use sustainml_dds::ports::{self, MAX_PARTICIPANTS};
use sustainml_dds::{Error, Participant};

fn hold(port: u16) -> UdpSocket {
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).expect("bind a port of the test domain")
}

fn owned(port: u16) -> bool {
    // The participant is in this process: /proc/self/fd shows whether a socket on the
    // port is ours. Another UdpSocket::bind on it must fail while it is held.
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).is_err()
}

/// Another vendor holding the user port of ids 0 and 1 (as a Fast DDS participant
/// starting beside ours did) must not leave our participant on a fallback port.
#[test]
fn a_participant_skips_ids_whose_user_port_another_process_holds() {
    let domain = 200;
    let _held = [
        hold(ports::user_unicast_port(domain, 0).expect("port")),
        hold(ports::user_unicast_port(domain, 1).expect("port")),
    ];
    let p = Participant::builder()
        .name("ports-test")
        .domain(domain)
        .build()
        .expect("participant");
    let id = p.participant_id();
    assert_eq!(id, 2, "ids 0 and 1 have their user port taken");
    assert!(owned(ports::spdp_unicast_port(domain, id).expect("port")));
    assert!(owned(ports::user_unicast_port(domain, id).expect("port")));
    // The discovery ports of ids 0 and 1 were only held while it started.
    let free_again = UdpSocket::bind((
        Ipv4Addr::UNSPECIFIED,
        ports::spdp_unicast_port(domain, 0).expect("port"),
    ));
    assert!(free_again.is_ok(), "the steering sockets were released");
}

/// With every id's discovery port taken, building a participant fails with an error
/// that names the domain and the ports, instead of a bare rustdds message.
#[test]
fn no_free_participant_id_is_an_error_naming_the_domain_and_ports() {
    let domain = 201;
    let _held: Vec<UdpSocket> = (0..MAX_PARTICIPANTS)
        .map(|id| hold(ports::spdp_unicast_port(domain, id).expect("port")))
        .collect();
    let err = Participant::builder()
        .name("ports-test")
        .domain(domain)
        .build()
        .expect_err("no id is free");
    assert!(matches!(err, Error::Ports(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("domain 201"), "{text}");
    assert!(text.contains("57660") && text.contains("57661"), "{text}");
}
