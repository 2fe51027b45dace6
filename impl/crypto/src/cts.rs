//! AES in CBC mode with ciphertext stealing, IV zero (RFC 3962 §5, reused by
//! RFC 8009 §5): CBC over the zero-padded input, then the last two
//! ciphertext blocks swapped and the (now last) block truncated to the
//! length of the final plaintext block. Inputs of exactly one block are
//! plain AES. Callers guarantee at least one block (the confounder).

use crate::primitives::{AES_BLOCK, Aes, xor_in_place};

/// Encrypt `data` in place. `data.len() >= 16` (shorter input is left
/// unchanged; callers never pass it).
pub(crate) fn encrypt(aes: &Aes, data: &mut [u8]) {
    let n = data.len();
    if n < AES_BLOCK {
        return;
    }
    let nblocks = n.div_ceil(AES_BLOCK);
    if nblocks == 1 {
        let mut b = [0u8; AES_BLOCK];
        b.copy_from_slice(data);
        aes.encrypt_block(&mut b);
        data.copy_from_slice(&b);
        return;
    }
    let mut prev = [0u8; AES_BLOCK];
    // Every block but the last: ordinary CBC.
    for chunk in data[..(nblocks - 1) * AES_BLOCK].chunks_exact_mut(AES_BLOCK) {
        xor_in_place(chunk, &prev);
        let mut b = [0u8; AES_BLOCK];
        b.copy_from_slice(chunk);
        aes.encrypt_block(&mut b);
        chunk.copy_from_slice(&b);
        prev = b;
    }
    // Final (possibly partial) block, zero padded, chained to C[n-1].
    let tail_start = (nblocks - 1) * AES_BLOCK;
    let tail_len = n - tail_start;
    let mut last = [0u8; AES_BLOCK];
    last[..tail_len].copy_from_slice(&data[tail_start..]);
    xor_in_place(&mut last, &prev);
    aes.encrypt_block(&mut last);
    // Swap: C[n] takes the second-last slot, C[n-1] truncated goes last.
    let second = tail_start - AES_BLOCK;
    data[second..tail_start].copy_from_slice(&last);
    data[tail_start..].copy_from_slice(&prev[..tail_len]);
}

/// Decrypt `data` in place; the inverse of [`encrypt`].
pub(crate) fn decrypt(aes: &Aes, data: &mut [u8]) {
    let n = data.len();
    if n < AES_BLOCK {
        return;
    }
    let nblocks = n.div_ceil(AES_BLOCK);
    if nblocks == 1 {
        let mut b = [0u8; AES_BLOCK];
        b.copy_from_slice(data);
        aes.decrypt_block(&mut b);
        data.copy_from_slice(&b);
        return;
    }
    let mut prev = [0u8; AES_BLOCK];
    // All blocks before the swapped pair: ordinary CBC decryption.
    for chunk in data[..(nblocks - 2) * AES_BLOCK].chunks_exact_mut(AES_BLOCK) {
        let mut c = [0u8; AES_BLOCK];
        c.copy_from_slice(chunk);
        let mut p = c;
        aes.decrypt_block(&mut p);
        xor_in_place(&mut p, &prev);
        chunk.copy_from_slice(&p);
        prev = c;
    }
    let second = (nblocks - 2) * AES_BLOCK;
    let tail_start = second + AES_BLOCK;
    let tail_len = n - tail_start;
    // D = Dec(C[n]) = (P[n] | zero padding) ^ C[n-1]
    let mut d = [0u8; AES_BLOCK];
    d.copy_from_slice(&data[second..tail_start]);
    aes.decrypt_block(&mut d);
    // C[n-1] = stolen head (sent truncated) | D's tail (padding was zero).
    let mut cn1 = d;
    cn1[..tail_len].copy_from_slice(&data[tail_start..]);
    let mut last_plain = [0u8; AES_BLOCK];
    last_plain[..tail_len].copy_from_slice(&d[..tail_len]);
    xor_in_place(&mut last_plain[..tail_len], &cn1[..tail_len]);
    let mut p = cn1;
    aes.decrypt_block(&mut p);
    xor_in_place(&mut p, &prev);
    data[second..tail_start].copy_from_slice(&p);
    data[tail_start..].copy_from_slice(&last_plain[..tail_len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3962 Appendix B AES-CTS vectors (key "chicken teriyaki", IV 0).
    #[test]
    fn rfc3962_b_cts_vectors() {
        let key = hex::decode("636869636b656e207465726979616b69").unwrap();
        let aes = Aes::new(&key).unwrap();
        // The RFC cuts one sentence at 17, 31, 32, 47, 48 and 64 bytes.
        let plain: &[u8] = b"I would like the General Gau's Chicken, please, and wonton soup.";
        let cases: &[(usize, &str)] = &[
            (17, "c6353568f2bf8cb4d8a580362da7ff7f97"),
            (
                31,
                "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5",
            ),
            (
                32,
                "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584",
            ),
            (
                47,
                "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5",
            ),
            (
                48,
                "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8",
            ),
            (
                64,
                "97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8",
            ),
        ];
        for (len, want) in cases {
            let mut buf = plain[..*len].to_vec();
            encrypt(&aes, &mut buf);
            assert_eq!(hex::encode(&buf), *want, "encrypt {len} bytes");
            decrypt(&aes, &mut buf);
            assert_eq!(buf, plain[..*len], "decrypt {len} bytes");
        }
    }

    #[test]
    fn single_block_is_plain_aes() {
        let aes = Aes::new(&[7u8; 32]).unwrap();
        let mut a = [0x42u8; 16];
        let mut b = a;
        encrypt(&aes, &mut a);
        aes.encrypt_block(&mut b);
        assert_eq!(a, b);
        decrypt(&aes, &mut a);
        assert_eq!(a, [0x42u8; 16]);
    }
}
