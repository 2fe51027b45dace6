//! The wire fuzzer behind `kerbside fuzz wire` and the no-panic proptests:
//! seeded random blobs and structure-aware mutations of a corpus of valid
//! messages of every format, fed to every decode entry point. A finding is
//! a panic that escaped a decoder, or one the `catch_unwind` fence caught
//! (which means the DER validator let through something `kerberos_asn1`
//! chokes on).

mod corpus;
mod mutate;
mod rng;
mod targets;

use std::collections::BTreeMap;

pub use corpus::{Seed, corpus};
pub use mutate::{mutate, random_blob};
pub use rng::SplitMix64;
pub use targets::{TARGETS, Target};

use crate::fence::fenced;

/// How a finding showed itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum FindingKind {
    /// The panic escaped the decoder.
    Panic,
    /// The fence inside the decoder caught it (still a validator bug).
    FencedPanic,
}

/// One distinct panic (same target and message), with the first input.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// Entry point.
    pub target: &'static str,
    /// Escaped or fenced.
    pub kind: FindingKind,
    /// Panic message and location.
    pub message: String,
    /// The first input that triggered it, hex.
    pub input_hex: String,
    /// How many cases hit it.
    pub count: u64,
}

/// Per-entry-point outcome counts.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TargetStats {
    /// Inputs accepted.
    pub ok: u64,
    /// Inputs rejected with a typed error.
    pub rejected: u64,
    /// Inputs that panicked (escaped or fenced).
    pub panicked: u64,
}

/// What a run found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Cases run (each through every entry point).
    pub cases: u64,
    /// Cases per source family (`random`, `kerberos`, `kkdcp`, ...).
    pub per_format: BTreeMap<&'static str, u64>,
    /// Outcomes per entry point.
    pub per_target: BTreeMap<&'static str, TargetStats>,
    /// Distinct panics.
    pub findings: Vec<Finding>,
}

impl Report {
    /// True when nothing panicked.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The input of case `index` of a run with `seed`: cases are independent,
/// so any one can be regenerated (and sharded) from (seed, index).
pub fn case_input(seeds: &[Seed], seed: u64, index: u64) -> (&'static str, Vec<u8>) {
    let mut rng = SplitMix64::new(seed ^ index.wrapping_mul(0xa076_1d64_78bd_642f));
    if seeds.is_empty() || rng.chance(1, 10) {
        return ("random", random_blob(&mut rng));
    }
    let base = &seeds[rng.below(seeds.len())];
    let other = &seeds[rng.below(seeds.len())];
    (base.format, mutate(&mut rng, &base.bytes, &other.bytes))
}

/// Runs one input through every entry point; returns (target, kind,
/// message) for each panic.
pub fn check_input(
    input: &[u8],
    stats: Option<&mut BTreeMap<&'static str, TargetStats>>,
) -> Vec<(&'static str, FindingKind, String)> {
    let mut found = Vec::new();
    let mut local = BTreeMap::new();
    let stats = stats.unwrap_or(&mut local);
    for t in TARGETS {
        let s = stats.entry(t.name).or_default();
        match fenced(|| (t.run)(input)) {
            Ok(Ok(())) => s.ok += 1,
            Ok(Err(e)) if e.is_decoder_panic() => {
                s.panicked += 1;
                let msg = match &e.kind {
                    crate::ErrorKind::DecoderPanic { message, .. } => message.clone(),
                    _ => e.to_string(),
                };
                found.push((t.name, FindingKind::FencedPanic, msg));
            }
            Ok(Err(_)) => s.rejected += 1,
            Err(msg) => {
                s.panicked += 1;
                found.push((t.name, FindingKind::Panic, msg));
            }
        }
    }
    found
}

/// Runs cases `0..cases` for `seed`, calling `progress(done)` every 4096
/// cases.
pub fn run(cases: u64, seed: u64, mut progress: impl FnMut(u64)) -> Report {
    let seeds = corpus();
    let mut report = Report::default();
    let mut index_of: BTreeMap<(&'static str, String), usize> = BTreeMap::new();
    for i in 0..cases {
        let (format, input) = case_input(&seeds, seed, i);
        *report.per_format.entry(format).or_default() += 1;
        for (target, kind, message) in check_input(&input, Some(&mut report.per_target)) {
            let key = (target, message.clone());
            match index_of.get(&key) {
                Some(&at) => {
                    if let Some(f) = report.findings.get_mut(at) {
                        f.count += 1;
                    }
                }
                None => {
                    index_of.insert(key, report.findings.len());
                    report.findings.push(Finding {
                        target,
                        kind,
                        message,
                        input_hex: hex::encode(&input),
                        count: 1,
                    });
                }
            }
        }
        report.cases = i + 1;
        if (i + 1) % 4096 == 0 {
            progress(i + 1);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_run_is_clean_and_covers_every_family() {
        let r = run(300, 1, |_| {});
        assert_eq!(r.cases, 300);
        assert!(r.is_clean(), "{:#?}", r.findings);
        for fam in [
            "random", "kerberos", "kkdcp", "gss", "iakerb", "spnego", "ntlm",
        ] {
            assert!(
                r.per_format.get(fam).copied().unwrap_or(0) > 0,
                "{fam}: {:?}",
                r.per_format
            );
        }
        assert_eq!(r.per_target.len(), TARGETS.len());
        // mutated inputs are mostly rejected, but some still decode
        let kd = &r.per_target["krb::decode"];
        assert!(kd.ok > 0 && kd.rejected > 0, "{kd:?}");
    }

    #[test]
    fn cases_are_reproducible_from_seed_and_index() {
        let seeds = corpus();
        assert_eq!(case_input(&seeds, 9, 1234), case_input(&seeds, 9, 1234));
        assert_ne!(
            case_input(&seeds, 9, 1234).1,
            case_input(&seeds, 10, 1234).1
        );
    }

    #[test]
    fn a_raw_kerberos_asn1_panic_would_be_reported() {
        // Prove the detector works: call kerberos_asn1 directly (no
        // validator) on the known month-13 trigger through the fence.
        let bad = hex::decode("3013a011180f32303236313330323033303430355a").unwrap();
        let r = fenced(|| {
            use kerberos_asn1::Asn1Object;
            kerberos_asn1::PaEncTsEnc::parse(&bad).map(drop)
        });
        assert!(r.is_err(), "kerberos_asn1 itself panics on month 13");
        // and our safe entry point does not
        assert!(check_input(&bad, None).is_empty());
    }
}

#[cfg(test)]
mod power {
    use super::*;
    use kerberos_asn1::Asn1Object;

    /// Without the validator, the same mutations crash kerberos_asn1
    /// quickly: evidence that a clean run means something.
    #[test]
    fn mutations_find_raw_kerberos_asn1_panics_when_unprotected() {
        let seeds: Vec<Seed> = corpus()
            .into_iter()
            .filter(|s| s.name.contains("as-req"))
            .collect();
        let mut panics = 0;
        for i in 0..3000u64 {
            let mut rng = SplitMix64::new(i);
            let s = &seeds[rng.below(seeds.len())];
            let input = mutate(&mut rng, &s.bytes, &s.bytes);
            if fenced(|| kerberos_asn1::AsReq::parse(&input).map(drop)).is_err() {
                panics += 1;
                // and the safe entry point survives the same input
                assert!(check_input(&input, None).is_empty());
            }
        }
        eprintln!("raw kerberos_asn1 panics: {panics}/3000");
        assert!(panics > 0);
    }
}
