//! The simulated network seam under turmoil: each firewall action on TCP and
//! UDP, cutting established connections, the wire tap's records, clock
//! skew, and crash/restart semantics.

use std::cell::RefCell;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use kerbside_net::{Clock, Net, TcpListen, UdpSock};
use kerbside_sim::clock::Timebase;
use kerbside_sim::firewall::{Action, HostMatch, PortMatch, ProtoMatch, Rule};
use kerbside_sim::net::SimNet;
use kerbside_sim::trace::{Fate, Packet, TraceEntry};
use kerbside_sim::world::World;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
const ANY: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

fn world() -> World {
    let tb = Timebase::new(UNIX_EPOCH + Duration::from_secs(1_772_438_400));
    let w = World::new(tb, Vec::new(), kerbside_net::host_rng(1, "@net"), true);
    w.add_host("client", "client", CLIENT);
    w.add_host("server", "kdc", SERVER);
    w
}

fn sim() -> turmoil::Sim<'static> {
    turmoil::Builder::new()
        .epoch(UNIX_EPOCH + Duration::from_secs(1_772_438_400))
        .rng_seed(1)
        .min_message_latency(Duration::from_millis(2))
        .max_message_latency(Duration::from_millis(2))
        .simulation_duration(Duration::from_secs(60))
        .build()
}

fn rule(port: u16, proto: ProtoMatch, action: Action) -> Rule {
    Rule {
        id: Some("r".into()),
        from: HostMatch::from_patterns(["client"]),
        to: HostMatch::from_patterns(["server"]),
        proto,
        port: PortMatch::Range(port, port),
        action,
    }
}

/// An echo server on TCP and UDP `port` of the server host.
fn echo_server(sim: &mut turmoil::Sim<'static>, w: &World, port: u16) {
    let w = w.clone();
    sim.host(SERVER, move || {
        let net = SimNet::new(w.clone(), SERVER);
        async move {
            let l = net.bind_tcp(SocketAddr::new(ANY, port)).await?;
            let u = net.bind_udp(SocketAddr::new(ANY, port)).await?;
            tokio::task::spawn_local(async move {
                let mut buf = [0u8; 1500];
                while let Ok((n, from)) = u.recv_from(&mut buf).await {
                    let _ = u.send_to(&buf[..n], from).await;
                }
            });
            loop {
                let (mut s, _) = l.accept().await?;
                tokio::task::spawn_local(async move {
                    let mut buf = [0u8; 1500];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        }
    });
}

#[derive(Clone, Debug, PartialEq)]
enum Got {
    Echo(Vec<u8>),
    Refused,
    TimedOut,
    Other(ErrorKind),
}

async fn tcp_try(net: &SimNet, port: u16) -> Got {
    {
        let addr = SocketAddr::new(SERVER, port);
        match tokio::time::timeout(Duration::from_secs(1), net.connect(addr)).await {
            Err(_) => Got::TimedOut,
            Ok(Err(e)) if e.kind() == ErrorKind::ConnectionRefused => Got::Refused,
            Ok(Err(e)) => Got::Other(e.kind()),
            Ok(Ok(mut s)) => {
                s.write_all(b"ping").await.unwrap();
                let mut buf = [0u8; 4];
                match tokio::time::timeout(Duration::from_secs(1), s.read_exact(&mut buf)).await {
                    Err(_) => Got::TimedOut,
                    Ok(Err(e)) => Got::Other(e.kind()),
                    Ok(Ok(_)) => Got::Echo(buf.to_vec()),
                }
            }
        }
    }
}

async fn udp_try(net: &SimNet, port: u16) -> Got {
    {
        let u = net.bind_udp(SocketAddr::new(ANY, 0)).await.unwrap();
        u.send_to(b"ping", SocketAddr::new(SERVER, port))
            .await
            .unwrap();
        let mut buf = [0u8; 16];
        match tokio::time::timeout(Duration::from_secs(1), u.recv_from(&mut buf)).await {
            Err(_) => Got::TimedOut,
            Ok(Err(e)) if e.kind() == ErrorKind::ConnectionRefused => Got::Refused,
            Ok(Err(e)) => Got::Other(e.kind()),
            Ok(Ok((n, _))) => Got::Echo(buf[..n].to_vec()),
        }
    }
}

/// Runs `probe` on the client after installing `rules`; returns what it
/// saw and how long it took in sim time.
fn probe<F, Fut>(rules: Vec<Rule>, probe: F) -> (Got, Duration, World)
where
    F: FnOnce(SimNet) -> Fut + 'static,
    Fut: std::future::Future<Output = Got> + 'static,
{
    let w = world();
    for r in rules {
        w.firewall_set(r, false);
    }
    let mut sim = sim();
    echo_server(&mut sim, &w, 88);
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let net = SimNet::new(w.clone(), CLIENT);
    sim.client(CLIENT, async move {
        // Let the server bind first.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let t = tokio::time::Instant::now();
        let got = probe(net).await;
        *o.borrow_mut() = Some((got, t.elapsed()));
        Ok(())
    });
    sim.run().unwrap();
    let (got, took) = out.borrow_mut().take().unwrap();
    (got, took, w)
}

#[test]
fn tcp_allow_drop_reject() {
    let (got, took, w) = probe(vec![], |n| async move { tcp_try(&n, 88).await });
    assert_eq!(got, Got::Echo(b"ping".to_vec()));
    assert!(took < Duration::from_millis(20), "{took:?}");
    w.with_trace(|t| {
        let syn = t.entries().iter().find_map(|e| match e {
            TraceEntry::Wire(r) if r.packet == Packet::TcpSyn => Some(r.clone()),
            _ => None,
        });
        let syn = syn.expect("SYN recorded");
        assert_eq!(syn.src.host, "client");
        assert_eq!(syn.dst.addr, SocketAddr::new(SERVER, 88));
        assert_eq!(syn.fate, Fate::Sent);
        let data: Vec<_> = t
            .entries()
            .iter()
            .filter_map(|e| match e {
                TraceEntry::Wire(r) if matches!(r.packet, Packet::TcpData(_)) => {
                    Some(r.src.host.clone())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            data,
            vec!["client", "server"],
            "request and echo both captured"
        );
    });

    let (got, took, w) = probe(
        vec![rule(88, ProtoMatch::Tcp, Action::Drop)],
        |n| async move { tcp_try(&n, 88).await },
    );
    assert_eq!(got, Got::TimedOut, "drop: the caller's own timeout fires");
    assert!(took >= Duration::from_secs(1));
    w.with_trace(|t| {
        assert!(t.entries().iter().any(|e| matches!(e,
            TraceEntry::Wire(r) if r.packet == Packet::TcpSyn && matches!(r.fate, Fate::Dropped { .. }))));
    });

    let (got, took, _) = probe(
        vec![rule(88, ProtoMatch::Tcp, Action::Reject)],
        |n| async move { tcp_try(&n, 88).await },
    );
    assert_eq!(got, Got::Refused, "reject: refused at once");
    assert!(took < Duration::from_millis(5), "{took:?}");

    // A rule for another port or protocol does not apply.
    let (got, _, _) = probe(
        vec![
            rule(443, ProtoMatch::Any, Action::Reject),
            rule(88, ProtoMatch::Udp, Action::Reject),
        ],
        |n| async move { tcp_try(&n, 88).await },
    );
    assert_eq!(got, Got::Echo(b"ping".to_vec()));
}

#[test]
fn udp_allow_drop_reject() {
    let (got, _, _) = probe(vec![], |n| async move { udp_try(&n, 88).await });
    assert_eq!(got, Got::Echo(b"ping".to_vec()));

    let (got, took, w) = probe(
        vec![rule(88, ProtoMatch::Udp, Action::Drop)],
        |n| async move { udp_try(&n, 88).await },
    );
    assert_eq!(got, Got::TimedOut);
    assert!(took >= Duration::from_secs(1));
    w.with_trace(|t| {
        assert!(t.entries().iter().any(|e| matches!(e,
            TraceEntry::Wire(r) if matches!(r.packet, Packet::Udp(_)) && matches!(r.fate, Fate::Dropped { .. }))));
    });

    let (got, took, _) = probe(
        vec![rule(88, ProtoMatch::Any, Action::Reject)],
        |n| async move { udp_try(&n, 88).await },
    );
    assert_eq!(
        got,
        Got::Refused,
        "reject on UDP: ICMP port unreachable reaches the receiver"
    );
    assert!(took < Duration::from_millis(5), "{took:?}");
}

#[test]
fn firewall_change_can_cut_established_connections() {
    for (action, expect) in [
        (Action::Reject, Got::Other(ErrorKind::ConnectionReset)),
        (Action::Drop, Got::TimedOut),
    ] {
        let w = world();
        let mut sim = sim();
        echo_server(&mut sim, &w, 88);
        let out = Rc::new(RefCell::new(None));
        let o = out.clone();
        let net = SimNet::new(w.clone(), CLIENT);
        let wc = w.clone();
        sim.client(CLIENT, async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let mut s = net.connect(SocketAddr::new(SERVER, 88)).await?;
            s.write_all(b"one!").await?;
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await?;
            // The rule arrives while the connection is open.
            let cut = wc.firewall_set(rule(88, ProtoMatch::Tcp, action), true);
            assert_eq!(cut.len(), 1);
            let r = tokio::time::timeout(Duration::from_secs(1), async {
                s.write_all(b"two!").await?;
                s.read_exact(&mut buf).await
            })
            .await;
            *o.borrow_mut() = Some(match r {
                Err(_) => Got::TimedOut,
                Ok(Err(e)) => Got::Other(e.kind()),
                Ok(Ok(_)) => Got::Echo(buf.to_vec()),
            });
            Ok(())
        });
        sim.run().unwrap();
        assert_eq!(out.borrow_mut().take().unwrap(), expect, "{action}");
    }
}

#[test]
fn skew_is_per_host_and_adds_to_sim_time() {
    let w = world();
    let client = w.host("client").unwrap().clock;
    let server = w.host("server").unwrap().clock;
    server.set_skew(-360_000_000_000);
    let mut sim = sim();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    sim.client(CLIENT, async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        *o.borrow_mut() = Some((client.now(), server.now()));
        Ok(())
    });
    sim.run().unwrap();
    let (c, s) = out.borrow_mut().take().unwrap();
    let epoch = UNIX_EPOCH + Duration::from_secs(1_772_438_400);
    assert!(
        c >= epoch + Duration::from_secs(2) && c < epoch + Duration::from_millis(2100),
        "{c:?}"
    );
    assert_eq!(
        c.duration_since(s).unwrap(),
        Duration::from_secs(360),
        "server is six minutes behind"
    );
}

#[test]
fn crash_silences_a_host_and_restart_brings_it_back() {
    let w = world();
    let mut sim = sim();
    let starts = Rc::new(RefCell::new(0u32));
    {
        let w = w.clone();
        let starts = starts.clone();
        sim.host(SERVER, move || {
            *starts.borrow_mut() += 1;
            let net = SimNet::new(w.clone(), SERVER);
            async move {
                let l = net.bind_tcp(SocketAddr::new(ANY, 88)).await?;
                loop {
                    let (mut s, _) = l.accept().await?;
                    tokio::task::spawn_local(async move {
                        let mut b = [0u8; 4];
                        if s.read_exact(&mut b).await.is_ok() {
                            let _ = s.write_all(&b).await;
                        }
                    });
                }
            }
        });
    }
    let results = Rc::new(RefCell::new(Vec::new()));
    let r = results.clone();
    let net = SimNet::new(w.clone(), CLIENT);
    sim.client(CLIENT, async move {
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let got = tcp_try(&net, 88).await;
            r.borrow_mut().push(got);
        }
        Ok(())
    });
    // Up for the first probe (t=2s), crashed for the second (t=~4s),
    // restarted before the third (t=~7s).
    while sim.elapsed() < Duration::from_secs(3) {
        sim.step().unwrap();
    }
    sim.crash(SERVER);
    while sim.elapsed() < Duration::from_secs(6) {
        sim.step().unwrap();
    }
    sim.bounce(SERVER);
    sim.run().unwrap();
    let got = results.borrow().clone();
    assert_eq!(got[0], Got::Echo(b"ping".to_vec()));
    assert_eq!(
        got[1],
        Got::TimedOut,
        "a crashed host does not answer (turmoil: connect hangs)"
    );
    assert_eq!(
        got[2],
        Got::Echo(b"ping".to_vec()),
        "a restarted host serves again"
    );
    assert_eq!(*starts.borrow(), 2, "restart re-runs the host's program");
}

#[test]
fn resolve_names_aliases_and_literals() {
    let w = world();
    w.add_alias("server", "dc1.corp.example");
    let mut sim = sim();
    let out = Rc::new(RefCell::new(Vec::new()));
    let o = out.clone();
    let net = SimNet::new(w.clone(), CLIENT);
    sim.client(CLIENT, async move {
        let r = net.resolve("server", 88).await.ok();
        o.borrow_mut().push(r);
        let r = net.resolve("DC1.corp.example", 88).await.ok();
        o.borrow_mut().push(r);
        let r = net.resolve("10.9.9.9", 1).await.ok();
        o.borrow_mut().push(r);
        let r = net.resolve("nosuch", 88).await.ok();
        o.borrow_mut().push(r);
        Ok(())
    });
    sim.run().unwrap();
    let got = out.borrow().clone();
    assert_eq!(got[0], Some(SocketAddr::new(SERVER, 88)));
    assert_eq!(got[1], Some(SocketAddr::new(SERVER, 88)));
    assert_eq!(got[2], Some("10.9.9.9:1".parse().unwrap()));
    assert_eq!(got[3], None);
}
