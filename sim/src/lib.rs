//! Deterministic simulated world: topology, firewall, faults, clock skew,
//! wire tap, pcap, secret canaries, invariants and scenario files.
//!
//! The parties run unchanged inside a turmoil simulation: every driver is
//! generic over [`kerbside_net::Net`] and [`kerbside_net::Clock`], and this
//! crate provides the simulated implementations ([`net::SimNet`],
//! [`clock::SimClock`]) plus the world around them.

pub mod abuse_checks;
pub mod canary;
pub mod clock;
pub mod duration;
pub mod firewall;
pub mod invariant;
pub mod load;
pub mod localkdc_checks;
pub mod logon;
pub mod negotiator_checks;
pub mod net;
pub mod pcap;
pub mod programs;
pub mod results;
pub mod runner;
pub mod scenario;
pub mod swarm;
pub mod sweep;
pub mod tls;
pub mod trace;
pub mod warp;
pub mod world;
