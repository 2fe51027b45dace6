//! `kerbside decode`: detect a message's format and print it as a tree or JSON.
//!
//! Input is a file (raw bytes or hex text), a hex string argument, or `-`
//! for standard input. With `--keytab` (MIT keytab) or `--key ENCTYPE:HEX`
//! every EncryptedData that one of the keys (or a session key found on the
//! way, as tshark does) opens is decrypted and decoded in place.

use std::io::Read as _;
use std::process::ExitCode;

use kerbside_crypto::{EncType, Key};
use kerbside_wire::describe::{Decrypted, Decryptor, Describer};

use super::{CliError, CmdResult};

/// Arguments of `kerbside decode`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A file, a hex string, or `-` for standard input (raw bytes or hex).
    input: String,
    /// Print JSON instead of a tree.
    #[arg(long)]
    json: bool,
    /// MIT keytab whose keys are tried on every encrypted part.
    #[arg(long, value_name = "FILE")]
    keytab: Option<String>,
    /// A key to try, e.g. `18:5a3b...` or `aes256-cts-hmac-sha1-96:5a3b...`
    /// (repeatable).
    #[arg(long, value_name = "ENCTYPE:HEX")]
    key: Vec<String>,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let bytes = read_input(&args.input)?;
    let mut ring = KeyRing::default();
    if let Some(path) = &args.keytab {
        ring.load_keytab(path)?;
    }
    for spec in &args.key {
        ring.add_spec(spec)?;
    }
    let mut describer = if ring.keys.is_empty() {
        Describer::new()
    } else {
        Describer::with_decryptor(&mut ring)
    };
    let (kind, tree) = describer
        .describe(&bytes)
        .map_err(|e| CliError::input(e.to_string()))?;
    let text = if args.json {
        let out = JsonOutput {
            format: kind,
            description: kind.name(),
            length: bytes.len(),
            tree: &tree,
        };
        let mut t = serde_json::to_string_pretty(&out)
            .map_err(|e| CliError::runtime(format!("JSON output: {e}")))?;
        t.push('\n');
        t
    } else {
        format!(
            "{} ({} bytes)\n{}",
            kind.name(),
            bytes.len(),
            tree.render_text()
        )
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `--json` output, fields in this order.
#[derive(serde::Serialize)]
struct JsonOutput<'a> {
    format: kerbside_wire::detect::Detected,
    description: &'static str,
    length: usize,
    tree: &'a kerbside_wire::tree::Node,
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(text: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::runtime(format!("writing output: {e}")))
        }
        _ => Ok(()),
    }
}

/// The bytes to decode: stdin for `-`, a file if one exists at that path,
/// else the argument itself as hex. File and stdin content that is hex text
/// is decoded from hex; anything else is taken as raw bytes.
fn read_input(input: &str) -> Result<Vec<u8>, CliError> {
    let path = std::path::Path::new(input);
    let raw = if input == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| CliError::runtime(format!("reading standard input: {e}")))?;
        buf
    } else if path.is_file() {
        std::fs::read(path).map_err(|e| CliError::input(format!("{input}: {e}")))?
    } else if input.trim().is_empty() {
        return Err(CliError::input(
            "empty input: expected a file, a hex string or -",
        ));
    } else if input.contains(['/', '\\', '.']) {
        // looks like a path: do not try to read it as hex
        return Err(CliError::input(format!("{input}: no such file")));
    } else {
        // not a file: the argument itself is hex (errors name the position)
        return parse_hex(input.as_bytes(), "argument");
    };
    if looks_like_hex(&raw) {
        let from = if input == "-" {
            "standard input"
        } else {
            input
        };
        parse_hex(&raw, from)
    } else {
        Ok(raw)
    }
}

/// Hex text: hex digits with optional whitespace and `:` separators and an
/// optional `0x` prefix; at least one digit.
fn looks_like_hex(b: &[u8]) -> bool {
    let body = strip_0x(b);
    body.iter().any(u8::is_ascii_hexdigit)
        && body
            .iter()
            .all(|c| c.is_ascii_hexdigit() || c.is_ascii_whitespace() || *c == b':')
}

fn strip_0x(b: &[u8]) -> &[u8] {
    let t = b.trim_ascii_start();
    t.strip_prefix(b"0x")
        .or_else(|| t.strip_prefix(b"0X"))
        .unwrap_or(t)
}

/// Decodes hex text, naming the character position of any problem.
fn parse_hex(text: &[u8], from: &str) -> Result<Vec<u8>, CliError> {
    let body = strip_0x(text);
    let skipped = text.len() - body.len();
    let mut digits = Vec::with_capacity(body.len());
    for (i, &c) in body.iter().enumerate() {
        if c.is_ascii_hexdigit() {
            digits.push(c);
        } else if !(c.is_ascii_whitespace() || c == b':') {
            return Err(CliError::input(format!(
                "hex {from}: at character {}: expected a hex digit, found {:?}",
                skipped + i,
                char::from(c)
            )));
        }
    }
    if digits.len() % 2 != 0 {
        return Err(CliError::input(format!(
            "hex {from}: at byte {}: expected a second hex digit, found end of input ({} digits)",
            digits.len() / 2,
            digits.len()
        )));
    }
    hex::decode(&digits).map_err(|e| CliError::input(format!("hex {from}: {e}")))
}

/// Keys from `--keytab`/`--key` plus session keys learned while decoding.
#[derive(Default)]
struct KeyRing {
    keys: Vec<(Key, String)>,
}

impl KeyRing {
    fn load_keytab(&mut self, path: &str) -> Result<(), CliError> {
        let data = std::fs::read(path).map_err(|e| CliError::input(format!("{path}: {e}")))?;
        let entries = kerbside_crypto::keytab::parse(&data)
            .map_err(|e| CliError::input(format!("{path}: {e}")))?;
        for entry in entries {
            // Entries of enctypes we do not implement are skipped, as MIT does.
            if let Ok(key) = entry.key() {
                let label = format!("{} kvno {} from keytab", entry.principal(), entry.kvno);
                self.keys.push((key, label));
            }
        }
        Ok(())
    }

    fn add_spec(&mut self, spec: &str) -> Result<(), CliError> {
        let bad = |why: String| CliError::input(format!("--key {spec}: {why}"));
        let (etype, hex_key) = spec
            .split_once(':')
            .ok_or_else(|| bad("expected ENCTYPE:HEX".into()))?;
        let etype: EncType = etype.parse().map_err(|e| bad(format!("{e}")))?;
        let bytes = hex::decode(hex_key.trim()).map_err(|e| bad(format!("key hex: {e}")))?;
        let key = Key::new(etype, bytes).map_err(|e| bad(format!("{e}")))?;
        self.keys.push((key, format!("--key {}", etype.name())));
        Ok(())
    }
}

impl Decryptor for KeyRing {
    fn decrypt(&mut self, etype: i32, usage: u32, cipher: &[u8]) -> Option<Decrypted> {
        self.keys
            .iter()
            .filter(|(k, _)| k.etype().id() == etype)
            .find_map(|(k, label)| {
                k.decrypt(usage, cipher).ok().map(|plaintext| Decrypted {
                    plaintext,
                    key_label: label.clone(),
                })
            })
    }

    fn learn(&mut self, keytype: i32, key: &[u8], label: String) {
        if let Ok(k) = Key::from_wire(keytype, key) {
            let known = self
                .keys
                .iter()
                .any(|(have, _)| have.etype() == k.etype() && have.bytes() == k.bytes());
            if !known {
                self.keys.push((k, label));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_detection_and_errors() {
        assert!(looks_like_hex(b"6a 81 00\n"));
        assert!(looks_like_hex(b"0x6a:81"));
        assert!(!looks_like_hex(b"\x6a\x81\x00"));
        assert!(!looks_like_hex(b"  \n"));
        assert_eq!(parse_hex(b"0x6a 81:00", "t").unwrap(), [0x6a, 0x81, 0]);
        let e = parse_hex(b"6a8g", "argument").unwrap_err().to_string();
        assert_eq!(
            e,
            "hex argument: at character 3: expected a hex digit, found 'g'"
        );
        let e = parse_hex(b"6a8", "argument").unwrap_err().to_string();
        assert!(
            e.contains("at byte 1") && e.contains("second hex digit"),
            "{e}"
        );
    }

    fn mit(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/impl/wire/tests/data/mit/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        read_input(&path).unwrap()
    }

    fn decrypted_tree(name: &str) -> kerbside_wire::tree::Node {
        let mut ring = KeyRing::default();
        ring.load_keytab(&format!(
            "{}/impl/wire/tests/data/mit/realm.keytab",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let bytes = mit(name);
        Describer::with_decryptor(&mut ring)
            .describe(&bytes)
            .unwrap()
            .1
    }

    fn value<'a>(n: &'a kerbside_wire::tree::Node, path: &str) -> &'a str {
        n.path(path)
            .and_then(|x| x.value.as_deref())
            .unwrap_or_else(|| panic!("no {path} in\n{}", n.render_text()))
    }

    #[test]
    fn as_rep_tgt_and_enc_part_decrypt_with_the_keytab() {
        let t = decrypted_tree("tcp-as-rep.hex");
        // TGT: krbtgt kvno 2, key usage 2
        assert_eq!(
            value(&t, "ticket.enc-part.decrypted"),
            "key usage 2, krbtgt/LAB.TEST@LAB.TEST kvno 2 from keytab"
        );
        assert_eq!(
            value(&t, "ticket.enc-part.decrypted.EncTicketPart.cname"),
            "alice (NT-PRINCIPAL)"
        );
        // enc-part: alice's key, usage 3; MIT tags it [APPLICATION 26]
        assert_eq!(
            value(&t, "enc-part.decrypted"),
            "key usage 3, alice@LAB.TEST kvno 1 from keytab"
        );
        assert_eq!(
            value(&t, "enc-part.decrypted.EncASRepPart.sname"),
            "krbtgt/LAB.TEST (NT-SRV-INST)"
        );
    }

    #[test]
    fn pa_enc_timestamp_decrypts_to_a_timestamp() {
        let t = decrypted_tree("udp-as-req-pa-enc-timestamp.hex");
        let ts = value(
            &t,
            "padata.[1].padata-value (PA-ENC-TIMESTAMP).decrypted.PA-ENC-TS-ENC.patimestamp",
        );
        assert_eq!(ts.len(), 15);
        assert!(ts.starts_with("2026") && ts.ends_with('Z'), "{ts}");
    }

    #[test]
    fn tgs_exchange_service_ticket_and_authenticator_decrypt() {
        let rep = decrypted_tree("tcp-tgs-rep.hex");
        assert_eq!(
            value(&rep, "ticket.enc-part.decrypted"),
            "key usage 2, host/app.lab.test@LAB.TEST kvno 1 from keytab"
        );
        // the authenticator opens with the TGT session key learned from
        // the ticket decrypted just before it (usage 7)
        let req = decrypted_tree("kkdcp-tgs-req.hex");
        let auth = "kerb-message.TGS-REQ.padata.[0].padata-value (AP-REQ).authenticator.decrypted";
        assert_eq!(
            value(&req, auth),
            "key usage 7, session key of alice@LAB.TEST's ticket"
        );
        assert_eq!(
            value(&req, &format!("{auth}.Authenticator.cname")),
            "alice (NT-PRINCIPAL)"
        );
    }

    #[test]
    fn without_keys_nothing_is_decrypted() {
        let bytes = mit("tcp-as-rep.hex");
        let t = Describer::new().describe(&bytes).unwrap().1;
        assert!(t.path("enc-part.decrypted").is_none());
        assert!(!t.render_text().contains("decrypted"));
    }

    #[test]
    fn key_specs() {
        let mut r = KeyRing::default();
        r.add_spec("18:e5487970a89888a5ea5e20eb7b7675cd58510cf7932accc82a6fe37084fa2fb6")
            .unwrap();
        r.add_spec("aes128-cts-hmac-sha1-96:665f60c7d91006fb448c8d93d26a2338")
            .unwrap();
        assert_eq!(r.keys.len(), 2);
        assert!(r.add_spec("18:abcd").is_err(), "wrong key length");
        assert!(r.add_spec("99:abcd").is_err(), "unknown enctype");
        assert!(r.add_spec("18").is_err(), "no colon");
    }
}
