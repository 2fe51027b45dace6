//! String-to-key against MIT: every long-term key MIT krb5 1.20.1 derived
//! for the capture realm (/work/shared/vectors/mit/keys.txt, from
//! `klist -k -t -K -e realm.keytab`) is reproduced from its password and the
//! default salt, for all four AES enctypes.

use std::path::PathBuf;

use kerbside_crypto::{EncType, KeyCache, default_salt};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/mit")
}

/// (principal, kvno, enctype, key) rows of keys.txt.
fn keys_txt() -> Vec<(String, u32, EncType, Vec<u8>)> {
    let text = std::fs::read_to_string(vectors_dir().join("keys.txt")).expect("keys.txt");
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || !t.contains("(0x") {
            continue;
        }
        let f: Vec<&str> = t.split_whitespace().collect();
        let kvno: u32 = f[0].parse().unwrap();
        let princ = f[3].to_string();
        let etype: EncType = f[4].trim_matches(['(', ')']).parse().unwrap();
        let key = hex::decode(f[5].trim_matches(['(', ')']).trim_start_matches("0x")).unwrap();
        out.push((princ, kvno, etype, key));
    }
    out
}

fn password_of(principal: &str) -> &'static str {
    match principal {
        "krbtgt/LAB.TEST@LAB.TEST" => "krbtgtpw",
        "host/app.lab.test@LAB.TEST" => "apppw",
        "WS01$@LAB.TEST" => "ws01pw",
        "alice@LAB.TEST" => "alicepw",
        "nopreauth@LAB.TEST" => "nopreauthpw",
        other => panic!("unknown principal {other}"),
    }
}

fn salt_of(principal: &str) -> Vec<u8> {
    let (name, realm) = principal.split_once('@').unwrap();
    let comps: Vec<&str> = name.split('/').collect();
    default_salt(realm, &comps)
}

#[test]
fn every_keys_txt_key_derives_from_its_password() {
    let rows = keys_txt();
    assert_eq!(rows.len(), 20, "5 principals x 4 enctypes");
    let cache = KeyCache::new();
    for (princ, _kvno, etype, want) in &rows {
        let k = cache
            .from_password(*etype, password_of(princ), &salt_of(princ))
            .unwrap();
        assert_eq!(k.bytes(), &want[..], "{princ} {etype}");
    }
    assert_eq!(cache.len(), 20);
    // A second pass is served from the cache and agrees.
    for (princ, _kvno, etype, want) in &rows {
        let k = cache
            .from_password(*etype, password_of(princ), &salt_of(princ))
            .unwrap();
        assert_eq!(k.bytes(), &want[..]);
    }
    assert_eq!(cache.len(), 20);
}

#[test]
fn default_salt_matches_mit() {
    assert_eq!(default_salt("LAB.TEST", &["alice"]), b"LAB.TESTalice");
    assert_eq!(
        default_salt("LAB.TEST", &["host", "app.lab.test"]),
        b"LAB.TESThostapp.lab.test"
    );
    assert_eq!(
        default_salt("LAB.TEST", &["krbtgt", "LAB.TEST"]),
        b"LAB.TESTkrbtgtLAB.TEST"
    );
}
