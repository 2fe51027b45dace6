//! `kerbside load` against `kerbside serve kdc` on loopback: the measured
//! window excludes the warm-up, every AS-REP is counted over UDP and TCP,
//! and `--server-pid` reports the server's CPU per AS-REP and its memory.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const KERBSIDE: &str = env!("CARGO_BIN_EXE_kerbside");

const PRINCIPALS: &str = r#"
[[principal]]
name = "krbtgt/LAB.TEST"
password = "krbtgtpw"
enctypes = ["aes256-cts-hmac-sha1-96"]

[[principal]]
name = "nopreauth"
password = "nopreauthpw"
enctypes = ["aes256-cts-hmac-sha1-96"]

[[principal]]
name = "alice"
password = "alicepw"
requires_preauth = true
enctypes = ["aes256-cts-hmac-sha1-96"]
"#;

/// `kerbside serve kdc` on an ephemeral port; killed on drop.
struct Kdc {
    child: Child,
    addr: String,
    dir: std::path::PathBuf,
}

impl Kdc {
    fn start(name: &str) -> Kdc {
        let dir = std::env::temp_dir().join(format!("kerbside-load-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("principals.toml");
        std::fs::write(&file, PRINCIPALS).unwrap();
        let mut child = Command::new(KERBSIDE)
            .args([
                "serve",
                "kdc",
                "--realm",
                "LAB.TEST",
                "--listen",
                "127.0.0.1:0",
            ])
            .args([
                "--workers",
                "1",
                "--quiet",
                "--enctypes",
                "18",
                "--principals",
            ])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "kerbside kdc listening on 127.0.0.1:PORT (udp+tcp), ..."
        let addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Kdc { child, addr, dir }
    }
}

impl Drop for Kdc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn load(target: &str, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(KERBSIDE)
        .args(["load", "--target", target, "--realm", "LAB.TEST"])
        .args(["--concurrency", "2", "--duration", "1s", "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{target} {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn load_counts_the_measured_window_and_the_servers_cost() {
    let kdc = Kdc::start("window");
    let pid = kdc.child.id().to_string();
    for proto in ["udp", "tcp"] {
        let target = format!("{proto}://{}", kdc.addr);
        let v = load(
            &target,
            &[
                "--user",
                "alice",
                "--password",
                "alicepw",
                "--preauth",
                "--warmup",
                "500ms",
                "--server-pid",
                &pid,
                "--upstream-pid",
                &pid,
            ],
        );
        let n = v["as_rep"].as_u64().unwrap();
        assert!(n > 0, "{v}");
        assert_eq!(v["warmup_s"], 0.5, "{v}");
        assert_eq!(v["duration_s"], 1.0, "{v}");
        assert!(v.get("threads").is_none(), "{v}");
        assert_eq!(v["timeouts"], 0, "{v}");
        assert_eq!(v["bad_replies"], 0, "{v}");
        assert_eq!(v["krb_errors"], serde_json::json!({}), "{v}");
        let lat = &v["latency_us"];
        let p = |k: &str| lat[k].as_u64().unwrap();
        assert!(p("p50") <= p("p90") && p("p90") <= p("p99") && p("p99") <= p("p999"));
        assert!(p("p999") <= p("max"), "{v}");
        // The rate is over the 1 s window, not the 1.5 s run.
        let rate = v["as_rep_per_s"].as_f64().unwrap();
        assert!((rate - n as f64).abs() < 1.0, "{v}");
        let server = &v["server"];
        assert_eq!(server["processes"], 1, "{v}");
        assert!(server["cpu_s"].as_f64().unwrap() > 0.0, "{v}");
        assert!(server["cpu_us_per_as_rep"].as_f64().unwrap() > 0.0, "{v}");
        let (rss, hwm) = (
            server["vm_rss_kib"].as_u64().unwrap(),
            server["vm_hwm_kib"].as_u64().unwrap(),
        );
        assert!(rss > 1000 && hwm >= rss, "{v}");
        // The same process as "upstream": measured alike, reported apart.
        assert_eq!(v["upstream"]["processes"], 1, "{v}");
        assert!(v["upstream"]["cpu_s"].as_f64().unwrap() > 0.0, "{v}");
        assert!(v["client_cpu_us_per_as_rep"].as_f64().unwrap() > 0.0, "{v}");
    }
    // Without --preauth, alice's requests are answered with
    // PREAUTH_REQUIRED: counted as KRB-ERRORs, no AS-REP, exit 1.
    let out = Command::new(KERBSIDE)
        .args(["load", "--target", &format!("udp://{}", kdc.addr)])
        .args([
            "--realm",
            "LAB.TEST",
            "--user",
            "alice",
            "--password",
            "alicepw",
        ])
        .args(["--concurrency", "1", "--duration", "300ms", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["as_rep"], 0, "{v}");
    assert!(
        v["krb_errors"]["KDC_ERR_PREAUTH_REQUIRED(25)"]
            .as_u64()
            .unwrap()
            > 0,
        "{v}"
    );
    // A server PID that does not exist is refused before any load.
    let out = Command::new(KERBSIDE)
        .args(["load", "--target", &format!("udp://{}", kdc.addr)])
        .args([
            "--realm",
            "LAB.TEST",
            "--user",
            "nopreauth",
            "--password",
            "nopreauthpw",
        ])
        .args(["--server-pid", "4294967295"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--server-pid"));
}

/// `--threads` is gone (every client is its own thread): clap refuses it
/// as it refuses any unknown flag, before any load is sent.
#[test]
fn load_refuses_the_removed_threads_flag() {
    let out = Command::new(KERBSIDE)
        .args([
            "load",
            "--target",
            "udp://127.0.0.1:9",
            "--realm",
            "LAB.TEST",
        ])
        .args(["--user", "alice", "--password", "alicepw"])
        .args(["--threads", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unexpected argument '--threads'"), "{err}");
}
