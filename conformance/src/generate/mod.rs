//! The vector generator: every test is written here by hand (its tcId, id,
//! comment, flags, verdict and expected outcome), and the generator makes
//! the bytes (requests with the recipe engine at the group clock, tokens
//! with kerbside's initiators, captures from the MIT/kdcproxy files).
//!
//! `kerbside conform generate --out conformance/vectors` writes the files;
//! the result is deterministic (fixed clocks, RNGs seeded from the tcId),
//! and a test checks that the committed files are exactly what this code
//! makes. Expected outcomes are never copied from kerbside's behaviour: they
//! are written here, and the committed files must then pass `conform
//! vectors`, so a disagreement is a failing test, not a silent update.
//!
//! tcIds are explicit and live in per-suite blocks (see [`crate::ids`]);
//! they are never renumbered or reused. A test that is withdrawn keeps its
//! id listed in `retired-ids.json`.

// The table helpers take one argument per field of a test (tcId, id,
// comment, flags, verdict, input, expectation) so each test reads as one
// row; bundling them into a struct would only add noise to the tables.
#![allow(clippy::too_many_arguments)]

mod accept;
mod crypto;
mod kdc;
mod negotiator;
mod notes;
mod relay;
mod wire;

use std::collections::BTreeSet;

use crate::model::{Group, Provenance, SCHEMA_VERSION, Test, TestGroup, VectorFile, Verdict};

pub(crate) use accept::{apply as apply_edits, iakerb_initiator};
pub use kdc::probe_recipe;
pub use notes::note;

/// Every suite, in file order.
pub fn all() -> Vec<VectorFile> {
    let mut v = Vec::new();
    v.extend(wire::suites());
    v.extend(crypto::suites());
    v.extend(kdc::suites());
    v.extend(relay::suites());
    v.extend(accept::suites());
    v.extend(negotiator::suites());
    v
}

/// The principals the kdc-* and kkdcp-relay vectors need, in kerbside's
/// principals-file TOML (`conformance/principals.toml`): create them on a
/// KDC under test and pass the file to `kerbside conform kdc|relay`.
pub fn principals_toml() -> String {
    let realm = crate::realm::Realm::new("LAB.TEST", kdc::lab_principals());
    format!(
        "# The principals the kdc-* and kkdcp-relay vectors use (realm LAB.TEST in the\n\
         # fixed vectors; any realm in a live run). Passwords give the keys: MIT default\n\
         # salt (realm + name components) and string-to-key parameters. Written by\n\
         # `kerbside conform generate`.\n\n{}",
        realm.to_toml()
    )
}

/// One suite being written.
#[derive(Debug)]
pub(crate) struct Suite {
    file: VectorFile,
}

impl Suite {
    pub(crate) fn new(suite: &str, description: &str) -> Suite {
        Suite {
            file: VectorFile {
                schema: SCHEMA_VERSION.to_owned(),
                suite: suite.to_owned(),
                description: description.to_owned(),
                number_of_tests: 0,
                sources: Vec::new(),
                notes: Default::default(),
                test_groups: Vec::new(),
            },
        }
    }

    pub(crate) fn source(&mut self, p: Provenance) {
        self.file.sources.push(p);
    }

    pub(crate) fn group(&mut self, g: TestGroup) {
        self.file.test_groups.push(g);
    }

    /// Fills in the notes of every flag used and the test count.
    pub(crate) fn finish(mut self) -> VectorFile {
        let mut flags = BTreeSet::new();
        for (m, _) in self.file.metas() {
            flags.extend(m.flags.iter().cloned());
        }
        self.file.notes = flags.into_iter().map(|f| (f.clone(), note(&f))).collect();
        self.file.number_of_tests = self.file.metas().len();
        self.file
    }
}

/// A test (input and expectation filled in by the caller).
pub(crate) fn test<I, E>(
    tc_id: u32,
    id: &str,
    comment: &str,
    flags: &[&str],
    result: Verdict,
    input: I,
    expected: E,
) -> Test<I, E> {
    Test {
        tc_id,
        id: id.to_owned(),
        comment: comment.to_owned(),
        flags: flags.iter().map(|f| (*f).to_owned()).collect(),
        result,
        source: None,
        input,
        expected,
    }
}

/// A group.
pub(crate) fn group<P, I, E>(comment: &str, params: P, tests: Vec<Test<I, E>>) -> Group<P, I, E> {
    Group {
        comment: comment.to_owned(),
        params,
        tests,
    }
}

/// The MIT/kdcproxy capture files (copied into the repository by the wire
/// crate's tests; originals in the shared `vectors/mit/`).
pub(crate) mod mit {
    /// Provenance of the MIT krb5 1.20.1 / kdcproxy 1.0.0 captures.
    pub(crate) fn provenance() -> crate::model::Provenance {
        crate::model::Provenance {
            id: "mit-lab-test".to_owned(),
            description: "Captured on loopback from unmodified Debian bookworm packages: MIT krb5 \
                          1.20.1 (krb5kdc, kinit, kvno) and FreeIPA python3-kdcproxy 1.0.0 under \
                          gunicorn; realm LAB.TEST, KDC 127.0.0.1:28888; alice/alicepw (requires \
                          pre-authentication), nopreauth/nopreauthpw, host/app.lab.test/apppw, \
                          krbtgt/LAB.TEST/krbtgtpw kvno 2; clock 2026-11-24T18:00:35Z. Files: \
                          vectors/mit/*.hex (MANIFEST.tsv names the pcap frame of each)."
                .to_owned(),
            files: vec![
                "vectors/mit/pcap/native-tcp.pcap".to_owned(),
                "vectors/mit/pcap/native-udp.pcap".to_owned(),
                "vectors/mit/pcap/kkdcp.pcap".to_owned(),
            ],
        }
    }

    macro_rules! capture {
        ($name:literal) => {
            include_str!(concat!("../../../impl/wire/tests/data/mit/", $name, ".hex"))
        };
    }

    /// A capture's bytes as lowercase hex (no whitespace).
    pub(crate) fn hex(name: &str) -> String {
        let text = match name {
            "tcp-as-req-nopreauth" => capture!("tcp-as-req-nopreauth"),
            "tcp-krb-error-preauth-required" => capture!("tcp-krb-error-preauth-required"),
            "tcp-as-req-pa-enc-timestamp" => capture!("tcp-as-req-pa-enc-timestamp"),
            "tcp-as-rep" => capture!("tcp-as-rep"),
            "tcp-tgs-req" => capture!("tcp-tgs-req"),
            "tcp-tgs-rep" => capture!("tcp-tgs-rep"),
            "tcp-as-req-principal-nopreauth" => capture!("tcp-as-req-principal-nopreauth"),
            "tcp-as-rep-principal-nopreauth" => capture!("tcp-as-rep-principal-nopreauth"),
            "udp-as-req-nopreauth" => capture!("udp-as-req-nopreauth"),
            "udp-krb-error-preauth-required" => capture!("udp-krb-error-preauth-required"),
            "udp-as-req-pa-enc-timestamp" => capture!("udp-as-req-pa-enc-timestamp"),
            "udp-as-rep" => capture!("udp-as-rep"),
            "udp-tgs-req" => capture!("udp-tgs-req"),
            "udp-tgs-rep" => capture!("udp-tgs-rep"),
            "udp-as-req-principal-nopreauth" => capture!("udp-as-req-principal-nopreauth"),
            "udp-as-rep-principal-nopreauth" => capture!("udp-as-rep-principal-nopreauth"),
            "kkdcp-as-req-nopreauth" => capture!("kkdcp-as-req-nopreauth"),
            "kkdcp-krb-error-preauth-required" => capture!("kkdcp-krb-error-preauth-required"),
            "kkdcp-as-req-pa-enc-timestamp" => capture!("kkdcp-as-req-pa-enc-timestamp"),
            "kkdcp-as-rep" => capture!("kkdcp-as-rep"),
            "kkdcp-tgs-req" => capture!("kkdcp-tgs-req"),
            "kkdcp-tgs-rep" => capture!("kkdcp-tgs-rep"),
            _ => "",
        };
        text.trim().to_ascii_lowercase()
    }

    /// A capture's bytes.
    pub(crate) fn bytes(name: &str) -> Vec<u8> {
        hex::decode(hex(name)).unwrap_or_default()
    }

    /// The capture clock (the KRB-ERROR's stime).
    pub(crate) const CLOCK: &str = "2026-11-24T18:00:35Z";
}
