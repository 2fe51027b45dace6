//! `kerbside run` and `kerbside replay` as a user runs them: exit codes,
//! JSON lines, replay commands for failures, shards that partition a sweep,
//! and the files replay and `--out` write.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kerbside(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kerbside"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run kerbside")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kerbside-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn run_prints_one_json_object_per_seed_and_exits_zero() {
    let o = kerbside(&[
        "run",
        "office-baseline",
        "--seeds",
        "3",
        "--json",
        "--no-report",
    ]);
    assert!(
        o.status.success(),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 3);
    for (i, v) in lines.iter().enumerate() {
        assert_eq!(v["scenario"], "office-baseline");
        assert_eq!(v["seed"], i as u64 + 1);
        assert_eq!(v["passed"], true);
        assert_eq!(v["trace_hash"].as_str().unwrap().len(), 64);
        assert!(v["violations"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_failing_scenario_exits_non_zero_and_prints_its_replay_command() {
    let dir = tmp("fail");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/office-baseline.toml"),
    )
    .unwrap()
    .replace("path = \"native-tcp\"", "path = \"kkdcp\"");
    let file = dir.join("edited.toml");
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    let report = dir.join("report");
    let o = kerbside(&["run", f, "--seed", "5", "--out", report.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("replay: kerbside replay {f} --seed 5")),
        "{out}"
    );
    assert!(
        out.contains("took path native-tcp, expected kkdcp"),
        "{out}"
    );
    // The failing seed's pcaps and trace are written and linked.
    let pcap = std::fs::read(report.join("failures/office-baseline-seed-5.pcap")).unwrap();
    assert_eq!(&pcap[..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert!(
        report
            .join("failures/office-baseline-seed-5-http.pcap")
            .exists()
    );
    let trace =
        std::fs::read_to_string(report.join("failures/office-baseline-seed-5.trace")).unwrap();
    let summary = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(
        summary.contains("**FAIL**: 1 of 1 scenario-seeds failed"),
        "{summary}"
    );
    assert!(
        summary.contains("(failures/office-baseline-seed-5.pcap)"),
        "{summary}"
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("results.json")).unwrap())
            .unwrap();
    assert_eq!(
        results["runs"][0]["trace_hash"],
        kerbside_sim::trace::hash_text(&trace).as_str(),
        "the trace written is the failing run's, byte for byte"
    );
    let junit = std::fs::read_to_string(report.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<failure message=\"[expectation]"),
        "{junit}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_malformed_scenario_is_an_input_error_naming_file_line_and_field() {
    let dir = tmp("bad");
    let file = dir.join("bad.toml");
    std::fs::write(&file, "name = \"x\"\ndescription = \"d\"\nduration = \"1m\"\nseedz = 3\n[[host]]\nname = \"a\"\nrole = \"echo\"\n").unwrap();
    let o = kerbside(&["run", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml:4:1: field `seedz`: unknown field `seedz`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn shards_split_a_sweep_with_no_overlap_and_no_gap() {
    // Two scenarios, three seeds each, four shards (as the CI matrix in
    // scenarios/README.md): the union of --shard 1/4 .. 4/4 is the
    // unsharded run, job for job and trace hash for trace hash.
    let seeds = |shard: Option<&str>| -> Vec<(String, u64, String)> {
        let mut args = vec![
            "run",
            "office-baseline",
            "clock-skew-6min",
            "--seeds",
            "3",
            "--json",
            "--no-report",
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let o = kerbside(&args);
        assert!(o.status.success());
        json_lines(&o)
            .iter()
            .map(|v| {
                (
                    v["scenario"].as_str().unwrap().to_owned(),
                    v["seed"].as_u64().unwrap(),
                    v["trace_hash"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let mut all = seeds(None);
    assert_eq!(all.len(), 6);
    let mut union = Vec::new();
    for k in 1..=4 {
        let part = seeds(Some(&format!("{k}/4")));
        assert!(!part.is_empty(), "shard {k}/4 is empty");
        union.extend(part);
    }
    union.sort();
    all.sort();
    assert_eq!(union, all, "no job lost, none run twice");
}

#[test]
fn replay_writes_the_trace_its_hash_covers_and_a_pcap() {
    let dir = tmp("replay");
    let trace = dir.join("t.trace");
    let pcap = dir.join("t.pcap");
    let o = kerbside(&[
        "replay",
        "office-baseline",
        "--seed",
        "2",
        "--quiet",
        "--trace",
        trace.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    let text = std::fs::read_to_string(&trace).unwrap();
    let hash = kerbside_sim::trace::hash_text(&text);
    assert!(
        stdout(&o).contains(&format!("trace_hash={hash}")),
        "the printed hash is SHA-256 of the trace file"
    );
    let run = kerbside(&[
        "run",
        "office-baseline",
        "--seed",
        "2",
        "--json",
        "--no-report",
    ]);
    assert_eq!(
        json_lines(&run)[0]["trace_hash"],
        hash.as_str(),
        "run and replay agree"
    );
    let p = std::fs::read(&pcap).unwrap();
    assert_eq!(&p[..4], &0xa1b2_c3d4u32.to_le_bytes());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn out_dir_gets_the_report() {
    let dir = tmp("out");
    let o = kerbside(&[
        "run",
        "office-baseline",
        "--seeds",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains(&format!("report: {}", dir.join("report.html").display())),
        "{}",
        stdout(&o)
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["schema"], 2);
    assert_eq!(results["passed"], true);
    assert_eq!(results["runs"].as_array().unwrap().len(), 2);
    assert_eq!(results["scenarios"][0]["scenario"], "office-baseline");
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.starts_with("# kerbside run\n\n**PASS**"),
        "{summary}"
    );
    assert!(
        summary.contains("| office-baseline | default | 2 | pass |"),
        "{summary}"
    );
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 2);
    assert!(
        std::fs::read_to_string(dir.join("report.html"))
            .unwrap()
            .contains("<svg id=\"chart-matrix\"")
    );
    assert!(!dir.join("failures").exists(), "no failures, no pcaps");
    let _ = std::fs::remove_dir_all(dir);
}
