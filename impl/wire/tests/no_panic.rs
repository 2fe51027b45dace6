//! No decode entry point panics, on arbitrary bytes or on mutated valid
//! messages of every format (bit flips, truncation, length-field and tag
//! corruption, insertions, deletions, splices: `kerbside_wire::fuzz`).
//! Must pass in debug and in release (`cargo test --release`), where
//! kerberos_asn1 behaves differently (reference/crates.md §2.4).

use kerbside_wire::fuzz::{SplitMix64, check_input, corpus, mutate, random_blob};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

fn assert_clean(input: &[u8]) -> Result<(), TestCaseError> {
    let found = check_input(input, None);
    prop_assert!(
        found.is_empty(),
        "panics {:?} on {}",
        found,
        hex::encode(input)
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        assert_clean(&bytes)?;
    }

    /// Arbitrary bytes behind a plausible first octet of each format.
    #[test]
    fn arbitrary_bytes_behind_format_tags(
        first in prop::sample::select(vec![0x6au8, 0x6b, 0x6c, 0x6d, 0x6e, 0x7e, 0x30, 0x60, 0xa0, 0xa1, 0x00]),
        rest in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut b = vec![first];
        b.extend(rest);
        assert_clean(&b)?;
    }

    /// Structure-aware mutations of every seed (MIT captures and samples
    /// of every format).
    #[test]
    fn mutated_valid_messages(pick in any::<prop::sample::Index>(), other in any::<prop::sample::Index>(), seed in any::<u64>()) {
        let seeds = corpus();
        let base = &seeds[pick.index(seeds.len())];
        let other = &seeds[other.index(seeds.len())];
        let input = mutate(&mut SplitMix64::new(seed), &base.bytes, &other.bytes);
        assert_clean(&input)?;
    }

    /// Every truncation point of a random seed.
    #[test]
    fn truncations(pick in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>()) {
        let seeds = corpus();
        let base = &seeds[pick.index(seeds.len())].bytes;
        assert_clean(&base[..cut.index(base.len() + 1)])?;
    }

    /// One byte replaced by any value, anywhere.
    #[test]
    fn single_byte_substitutions(pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), v in any::<u8>()) {
        let seeds = corpus();
        let mut b = seeds[pick.index(seeds.len())].bytes.clone();
        if !b.is_empty() {
            let i = at.index(b.len());
            b[i] = v;
        }
        assert_clean(&b)?;
    }
}

/// The GeneralizedTime digits of every KerberosTime in the MIT AS-REQ set
/// to every digit and a few non-digits: the chrono panic class.
#[test]
fn every_time_digit_of_an_as_req() {
    let seeds = corpus();
    let as_req = &seeds
        .iter()
        .find(|s| s.name == "tcp-as-req-pa-enc-timestamp")
        .unwrap()
        .bytes;
    let times: Vec<usize> = as_req
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == &[0x18, 0x0f])
        .map(|(i, _)| i + 2)
        .collect();
    assert!(!times.is_empty());
    for &t in &times {
        for i in t..t + 15 {
            for v in b"0123456789Z+-. :".iter().copied() {
                let mut b = as_req.clone();
                b[i] = v;
                assert!(check_input(&b, None).is_empty(), "{}", hex::encode(&b));
            }
        }
    }
}

/// A deterministic block of the fuzzer's own cases (random blobs too).
#[test]
fn fuzzer_cases_block() {
    let seeds = corpus();
    let mut rng = SplitMix64::new(42);
    for i in 0..400u64 {
        let (_, input) = kerbside_wire::fuzz::case_input(&seeds, 7, i);
        assert!(
            check_input(&input, None).is_empty(),
            "{}",
            hex::encode(&input)
        );
        let blob = random_blob(&mut rng);
        assert!(
            check_input(&blob, None).is_empty(),
            "{}",
            hex::encode(&blob)
        );
    }
}
