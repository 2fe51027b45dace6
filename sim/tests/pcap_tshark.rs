//! The pcap export read back by Wireshark's dissectors: Kerberos AS and TGS
//! exchanges decode on port 88, the relay hop decodes as TLS (or as HTTP
//! with --plaintext-http), and tshark reports no malformed packet and no
//! error-level expert info.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use kerbside_sim::pcap::{PcapOptions, write_pcap};
use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_file;

fn tshark_available() -> bool {
    let ok = Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("KERBSIDE_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!("tshark is required (KERBSIDE_REQUIRE_PEERS=1) but not installed");
        }
        eprintln!("SKIP: tshark not installed");
    }
    ok
}

fn dissect(plaintext_http: bool) -> (String, String) {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/monday-firewall-change.toml");
    let p =
        Arc::new(Prepared::new(load_file(&path).unwrap(), "monday-firewall-change.toml").unwrap());
    let out = run(
        &p,
        &RunOptions {
            seed: 3,
            keep_trace: true,
            ..RunOptions::default()
        },
    );
    assert!(out.result.passed, "{:#?}", out.result.violations);
    let pcap = write_pcap(out.trace.entries(), p.epoch, PcapOptions { plaintext_http });
    let file = std::env::temp_dir().join(format!(
        "kerbside-pcap-{}-{plaintext_http}.pcap",
        std::process::id()
    ));
    std::fs::write(&file, pcap).unwrap();
    let summary = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .output()
        .unwrap();
    // Checksum validation is off by default in Wireshark: turn it on so the
    // synthesised IPv4/TCP/UDP checksums are checked too.
    let verbose = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
        ])
        .arg("-V")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        summary.status.success() && verbose.status.success(),
        "{}",
        String::from_utf8_lossy(&verbose.stderr)
    );
    (
        String::from_utf8_lossy(&summary.stdout).into_owned(),
        String::from_utf8_lossy(&verbose.stdout).into_owned(),
    )
}

fn no_errors(verbose: &str) {
    assert!(
        verbose.contains("[Checksum Status: Good]"),
        "checksums were validated"
    );
    for bad in ["Malformed", "Expert Info (Error", "Checksum Status: Bad"] {
        let hits: Vec<&str> = verbose
            .lines()
            .filter(|l| l.contains(bad))
            .take(3)
            .collect();
        assert!(hits.is_empty(), "tshark reports `{bad}`: {hits:?}");
    }
}

#[test]
fn tshark_decodes_kerberos_and_tls_without_warnings() {
    if !tshark_available() {
        return;
    }
    let (summary, verbose) = dissect(false);
    for msg in [
        "AS-REQ",
        "AS-REP",
        "TGS-REQ",
        "TGS-REP",
        "KRB5KDC_ERR_PREAUTH_REQUIRED",
    ] {
        assert!(summary.contains(msg), "no {msg} in:\n{summary}");
    }
    assert!(
        summary.contains("Client Hello") && summary.contains("Server Hello"),
        "TLS on the relay hop"
    );
    assert!(
        verbose.contains("Kerberos") && verbose.contains("Record Mark"),
        "RFC 4120 §7.2.2 framing decoded"
    );
    no_errors(&verbose);
}

#[test]
fn tshark_decodes_the_relay_hop_as_http_with_plaintext_option() {
    if !tshark_available() {
        return;
    }
    let (summary, verbose) = dissect(true);
    assert!(summary.contains("POST /KdcProxy HTTP/1.1"), "{summary}");
    assert!(summary.contains("HTTP/1.1 200 OK"), "{summary}");
    assert!(
        !summary.contains("Client Hello"),
        "TLS records replaced by plaintext"
    );
    assert!(
        summary.contains("TGS-REP"),
        "the relay's upstream hop is still Kerberos"
    );
    no_errors(&verbose);
}
