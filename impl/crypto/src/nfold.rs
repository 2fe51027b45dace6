//! n-fold (RFC 3961 §5.1): stretch or shrink a constant to the cipher's
//! block size for key derivation.

/// `n-fold(input)` to `out_bits` bits (RFC 3961 §5.1).
///
/// The input is replicated with a 13-bit right rotation per copy up to the
/// least common multiple of the two lengths, and the `out_bits`-sized chunks
/// are added with one's-complement addition. Kerberos only folds to whole
/// bytes: `out_bits` is rounded down to a multiple of 8. An empty input
/// folds to zeros.
pub fn nfold(input: &[u8], out_bits: usize) -> Vec<u8> {
    let outlen = out_bits / 8;
    let mut out = vec![0u8; outlen];
    nfold_into(input, &mut out);
    out
}

/// [`nfold`] into a caller-provided buffer whose length is the output size.
///
/// The lcm-long string is the input followed by copies of it, each rotated
/// 13 bits further right; it is cut into output-sized big-endian numbers
/// that are summed with end-around carry (RFC 3961 §5.1).
pub(crate) fn nfold_into(input: &[u8], out: &mut [u8]) {
    out.fill(0);
    let inlen = input.len();
    let outlen = out.len();
    if inlen == 0 || outlen == 0 {
        return;
    }
    let lcm = inlen / gcd(inlen, outlen) * outlen;
    // Every Kerberos use folds at most a few dozen bytes: keep the working
    // buffers on the stack then (DK runs this twice per message).
    const STACK: usize = 64;
    let (mut copy_s, mut next_s, mut acc_s) = ([0u8; STACK], [0u8; STACK], [0u64; STACK]);
    let (mut copy_h, mut next_h, mut acc_h);
    let (mut copy, mut next, acc): (&mut [u8], &mut [u8], &mut [u64]) =
        if inlen <= STACK && outlen <= STACK {
            (
                &mut copy_s[..inlen],
                &mut next_s[..inlen],
                &mut acc_s[..outlen],
            )
        } else {
            copy_h = vec![0u8; inlen];
            next_h = vec![0u8; inlen];
            acc_h = vec![0u64; outlen];
            (&mut copy_h, &mut next_h, &mut acc_h)
        };
    copy.copy_from_slice(input);
    // Position in the output where the next byte of the lcm string lands.
    let mut pos = 0usize;
    // Per-byte column sums; carries are resolved at the end.
    for _ in 0..lcm / inlen {
        for &byte in copy.iter() {
            acc[pos] += u64::from(byte);
            pos += 1;
            if pos == outlen {
                pos = 0;
            }
        }
        rotate_right_bits(copy, 13, next);
        std::mem::swap(&mut copy, &mut next);
    }
    // Propagate carries from the least significant (last) byte upwards,
    // wrapping the carry out of the top byte around to the bottom
    // (one's-complement addition) until none is left.
    let mut carry = 0u64;
    loop {
        for (o, a) in out.iter_mut().zip(acc.iter_mut()).rev() {
            let v = *a + carry;
            *o = (v & 0xff) as u8;
            carry = v >> 8;
            *a = u64::from(*o);
        }
        if carry == 0 {
            break;
        }
    }
}

/// `out` = `input` (a big-endian bit string) rotated right by `bits`.
fn rotate_right_bits(input: &[u8], bits: usize, out: &mut [u8]) {
    let n = input.len();
    let r = bits % (n * 8);
    let (byte_shift, bit_shift) = (r / 8, r % 8);
    for (k, o) in out.iter_mut().enumerate() {
        // Source byte of bit 0..7 of output byte k before the sub-byte shift.
        let hi = input[(k + n - byte_shift % n) % n];
        if bit_shift == 0 {
            *o = hi;
        } else {
            let lo = input[(k + 2 * n - byte_shift % n - 1) % n];
            *o = (hi >> bit_shift) | (lo << (8 - bit_shift));
        }
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3961 Appendix A.1, every vector.
    #[test]
    fn rfc3961_a1_vectors() {
        let cases: &[(&[u8], usize, &str)] = &[
            (b"012345", 64, "be072631276b1955"),
            (b"password", 56, "78a07b6caf85fa"),
            (b"Rough Consensus, and Running Code", 64, "bb6ed30870b7f0e0"),
            (
                b"password",
                168,
                "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e",
            ),
            (
                b"MASSACHVSETTS INSTITVTE OF TECHNOLOGY",
                192,
                "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b",
            ),
            (b"Q", 168, "518a54a215a8452a518a54a215a8452a518a54a215"),
            (b"ba", 168, "fb25d531ae8974499f52fd92ea9857c4ba24cf297e"),
            (b"kerberos", 64, "6b65726265726f73"),
            (b"kerberos", 128, "6b65726265726f737b9b5b2b93132b93"),
            (
                b"kerberos",
                168,
                "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4",
            ),
            (
                b"kerberos",
                256,
                "6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4",
            ),
        ];
        for (input, bits, want) in cases {
            assert_eq!(
                hex::encode(nfold(input, *bits)),
                *want,
                "{bits}-fold({:?})",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// Straight port of MIT krb5 `krb5int_nfold` (lib/crypto/krb/nfold.c),
    /// bit-index arithmetic and all, as an independent oracle.
    fn nfold_mit(input: &[u8], outlen: usize) -> Vec<u8> {
        let inlen = input.len();
        let mut out = vec![0u8; outlen];
        let lcm = inlen / gcd(inlen, outlen) * outlen;
        let inbits = inlen * 8;
        let mut byte: u32 = 0;
        for i in (0..lcm).rev() {
            let msbit =
                ((inbits - 1) + ((inbits + 13) * (i / inlen)) + ((inlen - (i % inlen)) << 3))
                    % inbits;
            let hi = u32::from(input[((inlen - 1) - (msbit >> 3)) % inlen]);
            let lo = u32::from(input[(inlen - (msbit >> 3)) % inlen]);
            byte += (((hi << 8) | lo) >> ((msbit & 7) + 1)) & 0xff;
            byte += u32::from(out[i % outlen]);
            out[i % outlen] = (byte & 0xff) as u8;
            byte >>= 8;
        }
        if byte != 0 {
            for o in out.iter_mut().rev() {
                byte += u32::from(*o);
                *o = (byte & 0xff) as u8;
                byte >>= 8;
            }
        }
        out
    }

    #[test]
    fn matches_mit_port_on_many_inputs() {
        // Deterministic pseudo-random inputs of every length 1..40 folded
        // to 8..40 bytes.
        let mut x: u32 = 0x1234_5678;
        // Lengths past 64 take the heap path.
        for inlen in (1..40usize).chain([63, 64, 65, 100, 257]) {
            let input: Vec<u8> = (0..inlen)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x >> 24) as u8
                })
                .collect();
            for outlen in [7usize, 8, 16, 21, 24, 32, 40, 65] {
                assert_eq!(
                    nfold(&input, outlen * 8),
                    nfold_mit(&input, outlen),
                    "{inlen}->{outlen}"
                );
            }
        }
        // All-ones input exercises the end-around carry.
        assert_eq!(nfold(&[0xff; 5], 128), nfold_mit(&[0xff; 5], 16));
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        assert_eq!(nfold(b"", 128), vec![0u8; 16]);
        assert_eq!(nfold(b"abc", 0), Vec::<u8>::new());
        assert_eq!(nfold(b"abc", 7), Vec::<u8>::new());
        assert_eq!(nfold(&[0xff; 300], 128).len(), 16);
    }
}
