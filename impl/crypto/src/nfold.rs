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
pub(crate) fn nfold_into(input: &[u8], out: &mut [u8]) {
    out.fill(0);
    let inlen = input.len();
    let outlen = out.len();
    if inlen == 0 || outlen == 0 {
        return;
    }
    let lcm = inlen / gcd(inlen, outlen) * outlen;
    let inbits = inlen * 8;
    // Port of MIT krb5 `krb5int_nfold` (lib/crypto/krb/nfold.c): walk the
    // lcm-long replicated string from its last byte, pulling each byte out
    // of the rotated copy it belongs to and adding it with carry.
    let mut carry: u32 = 0;
    for i in (0..lcm).rev() {
        // Bit index (from the MSB of the input) of this output byte's most
        // significant bit after (i / inlen) rotations by 13 bits.
        let msbit =
            ((inbits - 1) + ((inbits + 13) * (i / inlen)) + ((inlen - (i % inlen)) << 3)) % inbits;
        let hi = input[((inlen - 1) - (msbit >> 3)) % inlen] as u32;
        let lo = input[(inlen - (msbit >> 3)) % inlen] as u32;
        let byte = (((hi << 8) | lo) >> ((msbit & 7) + 1)) & 0xff;
        let idx = i % outlen;
        carry += byte + out[idx] as u32;
        out[idx] = (carry & 0xff) as u8;
        carry >>= 8;
    }
    // One's-complement addition: wrap the final carry around.
    if carry != 0 {
        for b in out.iter_mut().rev() {
            carry += *b as u32;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
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

    #[test]
    fn degenerate_inputs_do_not_panic() {
        assert_eq!(nfold(b"", 128), vec![0u8; 16]);
        assert_eq!(nfold(b"abc", 0), Vec::<u8>::new());
        assert_eq!(nfold(b"abc", 7), Vec::<u8>::new());
        assert_eq!(nfold(&[0xff; 300], 128).len(), 16);
    }
}
