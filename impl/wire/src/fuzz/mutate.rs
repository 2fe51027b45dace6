//! Structure-aware mutations of valid messages. Random blobs rarely get
//! past the first tag; the kerberos_asn1 panics need mostly-valid structure
//! (reference/crates.md §2.4), so most mutations aim at DER lengths, tags
//! and GeneralizedTime digits found by walking the original.

use super::rng::SplitMix64;

/// Positions of DER identifier and length octets found by a lenient walk.
#[derive(Debug, Default)]
struct Layout {
    tags: Vec<usize>,
    lengths: Vec<usize>,
    /// Start of each GeneralizedTime's content.
    times: Vec<usize>,
}

fn walk(b: &[u8], start: usize, end: usize, depth: usize, out: &mut Layout) {
    let mut p = start;
    while p < end && depth < 40 {
        let Some(&tag) = b.get(p) else { return };
        let Some(&l0) = b.get(p + 1) else { return };
        let (len, hdr) = if l0 < 0x80 {
            (usize::from(l0), 2)
        } else {
            let n = usize::from(l0 & 0x7f);
            if n == 0 || n > 3 {
                return;
            }
            let Some(octets) = b.get(p + 2..p + 2 + n) else {
                return;
            };
            (
                octets
                    .iter()
                    .fold(0usize, |a, &o| (a << 8) | usize::from(o)),
                2 + n,
            )
        };
        let body = p + hdr;
        if body + len > end {
            return;
        }
        out.tags.push(p);
        out.lengths.push(p + 1);
        if tag == 0x18 {
            out.times.push(body);
        }
        if tag & 0x20 != 0 {
            walk(b, body, body + len, depth + 1, out);
        } else if tag == 0x04 && len > 2 {
            // OCTET STRINGs often carry DER (padata-value, kerb-message)
            walk(b, body, body + len, depth + 1, out);
        }
        p = body + len;
    }
}

/// Finds DER structure anywhere a tag could start a nested encoding (GSS
/// framing, KKDCP prefix, IAKERB header): tries each early offset.
fn layout(b: &[u8]) -> Layout {
    let mut out = Layout::default();
    for start in [0usize, 4, 2] {
        walk(b, start, b.len(), 0, &mut out);
    }
    for v in [&mut out.tags, &mut out.lengths, &mut out.times] {
        v.sort_unstable();
        v.dedup();
    }
    out
}

const INTERESTING: [u8; 12] = [
    0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0x1f, 0x30, 0xa0, 0x18,
];

/// Applies one random mutation to `data` in place.
pub(super) fn mutate_once(rng: &mut SplitMix64, data: &mut Vec<u8>, other: &[u8]) {
    let lay = layout(data);
    let len = data.len();
    match rng.below(12) {
        // bit flip
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        // interesting byte
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = INTERESTING[rng.below(INTERESTING.len())];
        }
        // truncation
        2 if len > 0 => data.truncate(rng.below(len)),
        // length-field corruption by a small delta, or a broken form
        3 | 4 if !lay.lengths.is_empty() => {
            let i = lay.lengths[rng.below(lay.lengths.len())];
            match rng.below(6) {
                0 => data[i] = data[i].wrapping_add(1),
                1 => data[i] = data[i].wrapping_sub(1),
                2 => data[i] = data[i].wrapping_add(2),
                3 => data[i] = 0x80,
                4 => {
                    // non-minimal long form
                    let v = data[i];
                    if v < 0x80 {
                        data.splice(i..=i, [0x81, v]);
                    } else {
                        data[i] = 0xff;
                    }
                }
                _ => data[i] = rng.byte(),
            }
        }
        // tag change
        5 | 6 if !lay.tags.is_empty() => {
            let i = lay.tags[rng.below(lay.tags.len())];
            match rng.below(5) {
                0 => data[i] ^= 0x20,
                1 => data[i] = data[i].wrapping_add(1),
                2 => data[i] |= 0x1f,
                3 => data[i] = INTERESTING[rng.below(INTERESTING.len())],
                _ => data[i] = rng.byte(),
            }
        }
        // GeneralizedTime digit corruption (month 13, hour 25, Feb 30, ...)
        7 if !lay.times.is_empty() => {
            let t = lay.times[rng.below(lay.times.len())];
            let i = t + rng.below(15);
            if i < data.len() {
                data[i] = if rng.chance(3, 4) {
                    b'0' + rng.below(10) as u8
                } else {
                    rng.byte()
                };
            }
        }
        // insertion
        8 => {
            let i = rng.below(len + 1);
            let n = 1 + rng.below(4);
            for _ in 0..n {
                let b = rng.byte();
                data.insert(i, b);
            }
        }
        // deletion
        9 if len > 0 => {
            let i = rng.below(len);
            let n = (1 + rng.below(4)).min(len - i);
            data.drain(i..i + n);
        }
        // splice in a piece of another message
        10 if !other.is_empty() && len > 0 => {
            let a = rng.below(len);
            let b = (a + rng.below(64)).min(len);
            let s = rng.below(other.len());
            let e = (s + rng.below(64)).min(other.len());
            data.splice(a..b, other[s..e].iter().copied());
        }
        // duplicate a region
        _ if len > 0 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(32)).min(len);
            let piece = data[a..b].to_vec();
            let at = rng.below(len + 1);
            data.splice(at..at, piece);
        }
        _ => data.push(rng.byte()),
    }
}

/// 1-3 stacked mutations of `base`.
pub fn mutate(rng: &mut SplitMix64, base: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    let n = 1 + rng.below(3);
    for _ in 0..n {
        mutate_once(rng, &mut v, other);
    }
    v
}

/// A random blob; half start with a plausible first octet.
pub fn random_blob(rng: &mut SplitMix64) -> Vec<u8> {
    let len = rng.below(300);
    let mut v: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
    if !v.is_empty() && rng.chance(1, 2) {
        const FIRST: [u8; 10] = [0x6a, 0x6b, 0x6c, 0x6d, 0x7e, 0x30, 0x60, 0xa0, 0xa1, 0x4e];
        v[0] = FIRST[rng.below(FIRST.len())];
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_finds_lengths_tags_and_times() {
        let b = hex::decode("3013a011180f32303236303130323033303430355a").unwrap();
        let l = layout(&b);
        assert!(l.tags.contains(&0) && l.tags.contains(&2) && l.tags.contains(&4));
        assert!(l.lengths.contains(&1) && l.lengths.contains(&5));
        assert_eq!(l.times, vec![6]);
    }

    #[test]
    fn mutations_are_deterministic_and_change_the_input() {
        let base = hex::decode("3013a011180f32303236303130323033303430355a").unwrap();
        let mut changed = 0;
        for seed in 0..200 {
            let a = mutate(&mut SplitMix64::new(seed), &base, &base);
            let b = mutate(&mut SplitMix64::new(seed), &base, &base);
            assert_eq!(a, b);
            changed += usize::from(a != base);
        }
        assert!(changed > 180, "{changed}");
    }
}
