//! `Crypto` tests: known answers of RFC 3961/3962/8009/6113 and MIT's
//! rc4-hmac vectors, and invalid inputs that must be refused with a typed
//! error (never a panic, never a wrong plaintext).

use kerbside_crypto::{CryptoError, EncType, Key, cf2, nfold, nt_hash};

use crate::model::{CryptoExpected, CryptoInput};
use crate::observe::Evaluation;

/// The class name of a crypto error (the `error` in vectors).
pub fn error_class(e: &CryptoError) -> &'static str {
    match e {
        CryptoError::UnsupportedEncType(_) | CryptoError::UnknownEncTypeName(_) => {
            "unsupported-enctype"
        }
        CryptoError::UnsupportedChecksumType(_) => "unsupported-checksum",
        CryptoError::InappropriateChecksumType { .. } => "inappropriate-checksum",
        CryptoError::InvalidKeyLength { .. } => "key-length",
        CryptoError::InvalidConfounderLength { .. } => "confounder-length",
        CryptoError::CiphertextTooShort { .. } => "too-short",
        CryptoError::IntegrityCheckFailed => "integrity",
        CryptoError::InvalidChecksumLength { .. } => "checksum-length",
        CryptoError::ChecksumMismatch => "checksum-mismatch",
        CryptoError::InvalidS2kParams { .. } => "s2k-params",
        _ => "other",
    }
}

#[derive(Debug)]
enum Failure {
    Hex(&'static str),
    Crypto(CryptoError),
}

impl From<CryptoError> for Failure {
    fn from(e: CryptoError) -> Self {
        Failure::Crypto(e)
    }
}

fn unhex(s: &str, what: &'static str) -> Result<Vec<u8>, Failure> {
    hex::decode(s).map_err(|_| Failure::Hex(what))
}

fn key(enctype: i32, hex_key: &str) -> Result<Key, Failure> {
    Ok(Key::from_wire(enctype, &unhex(hex_key, "key")?)?)
}

fn etype(id: i32) -> Result<EncType, Failure> {
    Ok(EncType::try_from_id(id)?)
}

/// Runs the operation; `Ok(output)` or the failure.
fn run(input: &CryptoInput) -> Result<Vec<u8>, Failure> {
    match input {
        CryptoInput::StringToKey(s) => {
            let params = s
                .params_hex
                .as_deref()
                .map(|p| unhex(p, "params"))
                .transpose()?;
            let k = Key::from_password_params(
                etype(s.enctype)?,
                &s.password,
                &unhex(&s.salt_hex, "salt")?,
                params.as_deref(),
            )?;
            Ok(k.bytes().to_vec())
        }
        CryptoInput::Encrypt(e) => {
            let k = key(e.enctype, &e.key_hex)?;
            let pt = unhex(&e.plaintext_hex, "plaintext")?;
            let ct =
                k.encrypt_with_confounder(e.usage, &pt, &unhex(&e.confounder_hex, "confounder")?)?;
            // The ciphertext must also decrypt back (RFC 3961 §3).
            if k.decrypt(e.usage, &ct)? != pt {
                return Err(Failure::Hex("round trip"));
            }
            Ok(ct)
        }
        CryptoInput::Decrypt(d) => {
            let k = key(d.enctype, &d.key_hex)?;
            Ok(k.decrypt(d.usage, &unhex(&d.ciphertext_hex, "ciphertext")?)?)
        }
        CryptoInput::Checksum(c) => {
            let k = key(c.enctype, &c.key_hex)?;
            Ok(k.checksum(c.usage, &unhex(&c.data_hex, "data")?))
        }
        CryptoInput::VerifyChecksum(v) => {
            let k = key(v.enctype, &v.key_hex)?;
            k.verify_checksum(
                v.usage,
                v.cksumtype,
                &unhex(&v.data_hex, "data")?,
                &unhex(&v.checksum_hex, "checksum")?,
            )?;
            Ok(Vec::new())
        }
        CryptoInput::Prf(p) => Ok(key(p.enctype, &p.key_hex)?.prf(&unhex(&p.input_hex, "input")?)),
        CryptoInput::Cf2(c) => {
            let k = cf2(
                &key(c.enctype, &c.key1_hex)?,
                &key(c.enctype, &c.key2_hex)?,
                c.pepper1.as_bytes(),
                c.pepper2.as_bytes(),
            )?;
            Ok(k.bytes().to_vec())
        }
        CryptoInput::Nfold(n) => Ok(nfold(&unhex(&n.input_hex, "input")?, n.out_bits)),
        CryptoInput::NtHash(n) => Ok(nt_hash(&n.password).to_vec()),
        CryptoInput::ImportKey(k) => Ok(key(k.enctype, &k.key_hex)?.bytes().to_vec()),
    }
}

/// Grades one test.
pub fn evaluate(input: &CryptoInput, expected: &CryptoExpected) -> Evaluation {
    match (run(input), &expected.error) {
        (Ok(out), None) => {
            let got = hex::encode(&out);
            match &expected.output_hex {
                Some(want) if !want.eq_ignore_ascii_case(&got) => {
                    Evaluation::fail("output", format!("expected {want}, got {got}"))
                }
                _ => Evaluation::pass("output"),
            }
        }
        (Ok(out), Some(e)) => Evaluation::fail(
            "output",
            format!("expected error {e}, got output {}", hex::encode(out)),
        ),
        (Err(Failure::Hex(what)), _) => Evaluation::fail("bad-input", format!("bad {what}")),
        (Err(Failure::Crypto(err)), want) => {
            let class = error_class(&err);
            let observed = format!("error {class}");
            match want {
                Some(w) if w == class => Evaluation::pass(observed),
                Some(w) => Evaluation::fail(observed, format!("expected error {w}, got: {err}")),
                None => Evaluation::fail(observed, format!("expected output, got: {err}")),
            }
        }
    }
}
