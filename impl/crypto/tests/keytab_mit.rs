//! MIT keytab: /work/shared/vectors/mit/realm.keytab (written by MIT
//! kadmin.local) parses to exactly the keys `klist -k -t -K -e` listed in
//! keys.txt, re-encodes byte-identically, and arbitrary or mutated bytes
//! give typed errors, never panics.

use std::path::PathBuf;

use kerbside_crypto::keytab::{self, KeytabEntry};
use kerbside_crypto::{EncType, Key};
use proptest::prelude::*;

fn mit_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/mit")
}

fn mit_keytab() -> Vec<u8> {
    std::fs::read(mit_dir().join("realm.keytab")).unwrap()
}

/// (principal, kvno, enctype, key) rows of keys.txt in file order.
fn keys_txt() -> Vec<(String, u32, i32, Vec<u8>)> {
    let text = std::fs::read_to_string(mit_dir().join("keys.txt")).unwrap();
    text.lines()
        .filter(|l| l.contains("(0x"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let etype: EncType = f[4].trim_matches(['(', ')']).parse().unwrap();
            let key = hex::decode(f[5].trim_matches(['(', ')']).trim_start_matches("0x")).unwrap();
            (f[3].to_string(), f[0].parse().unwrap(), etype.id(), key)
        })
        .collect()
}

#[test]
fn realm_keytab_has_exactly_the_keys_txt_keys() {
    let entries = keytab::parse(&mit_keytab()).unwrap();
    let got: Vec<(String, u32, i32, Vec<u8>)> = entries
        .iter()
        .map(|e| (e.principal(), e.kvno, e.etype, e.key_bytes.clone()))
        .collect();
    assert_eq!(got, keys_txt());
    for e in &entries {
        let k = e.key().unwrap();
        assert_eq!(k.bytes(), &e.key_bytes[..]);
        // MIT: "host/..." service principals are NT-SRV-HST (3) only when
        // created so; kadmin.local addprinc gives NT-PRINCIPAL (1).
        assert!(
            e.name_type == 1 || e.name_type == 2 || e.name_type == 3,
            "{e:?}"
        );
    }
    let krbtgt = keytab::find_key(&entries, "LAB.TEST", &["krbtgt", "LAB.TEST"], 18, None).unwrap();
    assert_eq!(
        hex::encode(krbtgt.bytes()),
        "857150ccdc994247eb6bd735a749eb7a90581bfc11c80e74b23c8233d4b00c4b"
    );
}

#[test]
fn realm_keytab_re_encodes_byte_identically() {
    let bytes = mit_keytab();
    let entries = keytab::parse(&bytes).unwrap();
    assert_eq!(keytab::write(&entries), bytes);
}

/// MIT `klist -k` reads what we write (skipped when MIT is not installed,
/// unless KERBSIDE_REQUIRE_PEERS=1).
#[test]
fn mit_klist_reads_our_keytab() {
    let Some(klist) = kerbside_testsupport::peers::find_tool("klist") else {
        assert!(
            !kerbside_testsupport::peers::required(),
            "klist required (KERBSIDE_REQUIRE_PEERS=1)"
        );
        eprintln!("SKIP: MIT klist not installed");
        return;
    };
    let k = Key::new(EncType::Aes256CtsHmacSha384192, [0x5a; 32]).unwrap();
    let r = Key::new(EncType::Rc4Hmac, [0x11; 16]).unwrap();
    let entries = vec![
        KeytabEntry::new(
            "EXAMPLE.ORG",
            &["HTTP", "web.example.org"],
            3,
            1_000_000_000,
            300,
            &k,
        ),
        KeytabEntry::new("EXAMPLE.ORG", &["bob"], 1, 1_000_000_000, 2, &r),
    ];
    let dir = std::env::temp_dir().join(format!("kerbside-keytab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("test.keytab");
    std::fs::write(&path, keytab::write(&entries)).unwrap();
    let out = std::process::Command::new(klist)
        .args(["-k", "-K", "-e"])
        .arg(format!("FILE:{}", path.display()))
        .env("KRB5_CONFIG", "/dev/null")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("300 HTTP/web.example.org@EXAMPLE.ORG (aes256-cts-hmac-sha384-192)"),
        "{text}"
    );
    assert!(text.contains(&format!("(0x{})", "5a".repeat(32))), "{text}");
    assert!(text.contains("2 bob@EXAMPLE.ORG"), "{text}");
    assert!(text.contains(&format!("(0x{})", "11".repeat(16))), "{text}");
}

fn arb_entry() -> impl Strategy<Value = KeytabEntry> {
    (
        "[A-Z.]{0,12}",
        prop::collection::vec("[a-z0-9./$-]{0,12}", 0..4),
        any::<i32>(),
        any::<u32>(),
        1u32..,
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(
            |(realm, components, name_type, timestamp, kvno, etype, key_bytes)| KeytabEntry {
                realm,
                components,
                name_type,
                timestamp,
                kvno,
                etype: i32::from(etype),
                key_bytes,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn write_then_parse_round_trips(entries in prop::collection::vec(arb_entry(), 0..6)) {
        let bytes = keytab::write(&entries);
        prop_assert_eq!(keytab::parse(&bytes).unwrap(), entries);
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..300), v1 in any::<bool>()) {
        let mut f = vec![5, if v1 { 1 } else { 2 }];
        f.extend_from_slice(&body);
        let _ = keytab::parse(&f);
        let _ = keytab::parse(&body);
    }

    #[test]
    fn mutated_mit_keytab_never_panics(
        at in any::<prop::sample::Index>(),
        val in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = mit_keytab();
        let i = at.index(bytes.len());
        bytes[i] = val;
        let _ = keytab::parse(&bytes);
        let n = cut.index(bytes.len());
        let r = keytab::parse(&bytes[..n]);
        // Cutting inside an entry is always an error; at an entry boundary
        // it is a shorter keytab.
        if let Ok(es) = r {
            prop_assert!(es.len() <= 20);
        }
    }
}
