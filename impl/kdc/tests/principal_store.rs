//! The principal store: TOML principals give MIT's keys, a keytab imports
//! them, and a malformed file is located to file, line and field.

mod common;

use common::*;
use kerbside_crypto::EncType;
use kerbside_kdc::load::{LoadError, Source, load_store};
use kerbside_kdc::{KdcConfig, PrincipalKind};

/// `keys.txt` lines: (kvno, principal, enctype name, key hex).
fn mit_keys() -> Vec<(u32, String, String, String)> {
    let text = std::fs::read_to_string(data("mit/keys.txt")).unwrap();
    text.lines()
        .filter(|l| l.contains("(0x"))
        .map(|l| {
            let mut w = l.split_whitespace();
            let kvno = w.next().unwrap().parse().unwrap();
            let _date = w.next();
            let _time = w.next();
            let princ = w.next().unwrap().to_owned();
            let etype = w
                .next()
                .unwrap()
                .trim_matches(|c| c == '(' || c == ')')
                .to_owned();
            let key = w
                .next()
                .unwrap()
                .trim_matches(|c| c == '(' || c == ')')
                .trim_start_matches("0x")
                .to_owned();
            (kvno, princ, etype, key)
        })
        .collect()
}

#[test]
fn password_keys_equal_the_mit_realm_keys() {
    let store = lab_store_from_passwords();
    let keys = mit_keys();
    assert_eq!(keys.len(), 20);
    for (kvno, princ, etype, key_hex) in keys {
        let name = princ.strip_suffix("@LAB.TEST").unwrap();
        let comps: Vec<String> = name.split('/').map(str::to_owned).collect();
        let entry = store
            .get(&comps)
            .unwrap_or_else(|| panic!("{princ} missing"));
        assert_eq!(entry.kvno, kvno, "{princ}");
        let et: EncType = etype.parse().unwrap();
        assert_eq!(
            hex::encode(entry.key(et).unwrap().bytes()),
            key_hex,
            "{princ} {etype}"
        );
    }
    let alice = store.get(&["alice".to_owned()]).unwrap();
    assert!(alice.requires_preauth);
    assert_eq!(alice.salt, b"LAB.TESTalice");
    assert_eq!(
        store.get(&["WS01$".to_owned()]).unwrap().kind,
        PrincipalKind::Computer
    );
}

#[test]
fn keytab_import_gives_the_same_keys_and_flags_from_the_file() {
    let keytab = std::fs::read(data("mit/realm.keytab")).unwrap();
    let cfg = KdcConfig::new(REALM);
    // Flags only in the file; keys from the keytab.
    let flags = "[[principal]]\nname = \"alice\"\nrequires_preauth = true\n";
    let store = load_store(
        REALM,
        &cfg.enctypes,
        Some(Source {
            data: flags,
            origin: "flags.toml",
        }),
        Some(Source {
            data: keytab.as_slice(),
            origin: "realm.keytab",
        }),
    )
    .unwrap();
    assert_eq!(store.len(), 5);
    // Same keys as the documented key list (password_keys_equal_... checks
    // the passwords give these too).
    let keys = mit_keys();
    for (kvno, princ, etype, key_hex) in keys {
        let comps: Vec<String> = princ
            .strip_suffix("@LAB.TEST")
            .unwrap()
            .split('/')
            .map(str::to_owned)
            .collect();
        let imported = store.get(&comps).unwrap();
        assert_eq!(imported.kvno, kvno);
        let et: EncType = etype.parse().unwrap();
        assert_eq!(hex::encode(imported.key(et).unwrap().bytes()), key_hex);
        let salt = kerbside_crypto::default_salt(
            REALM,
            &comps.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert_eq!(imported.salt, salt);
    }
    assert!(store.get(&["alice".to_owned()]).unwrap().requires_preauth);
    assert!(
        !store
            .get(&["nopreauth".to_owned()])
            .unwrap()
            .requires_preauth
    );
}

#[test]
fn keyless_principal_without_keytab_is_an_error_naming_it() {
    let cfg = KdcConfig::new(REALM);
    let text = "[[principal]]\nname = \"a\"\npassword = \"x\"\n\n[[principal]]\nname = \"bob\"\n";
    let e = load_store(
        REALM,
        &cfg.enctypes[..1],
        Some(Source {
            data: text,
            origin: "p.toml",
        }),
        None,
    )
    .unwrap_err();
    assert!(matches!(e, LoadError::NoKeys { line: 5, .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "p.toml:5: field `password`: principal bob@LAB.TEST has no password and no key in the keytab"
    );
}

#[test]
fn malformed_keytab_is_an_error() {
    let cfg = KdcConfig::new(REALM);
    let e = load_store(
        REALM,
        &cfg.enctypes,
        None,
        Some(Source {
            data: &[5u8, 2, 0][..],
            origin: "bad.keytab",
        }),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("bad.keytab: "), "{e}");
}

#[test]
fn malformed_file_names_file_line_and_field() {
    let cfg = KdcConfig::new(REALM);
    let text = "[[principal]]\nname = \"alice\"\npassword = \"pw\"\nrequires_preauth = \"yes\"\n";
    let e = load_store(
        REALM,
        &cfg.enctypes,
        Some(Source {
            data: text,
            origin: "principals.toml",
        }),
        None,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("principals.toml:4:"), "{msg}");
    assert!(msg.contains("field `requires_preauth`"), "{msg}");
}
