//! Deterministic simulated world: topology, firewall, faults, clock skew, wire tap, pcap, secret canaries, invariants, scenario files
