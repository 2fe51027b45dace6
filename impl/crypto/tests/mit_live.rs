//! Decrypting tickets that a real MIT KDC (krb5kdc 1.20, run here in a
//! throwaway realm) encrypted with enctypes 17, 19 and 20, using keys we
//! derive from the passwords. picky-krb has no RFC 8009, so this is the
//! independent check of our 19/20 ciphers on bytes we did not produce.
//!
//! Skips when MIT krb5 is not installed, unless KERBSIDE_REQUIRE_PEERS=1.

use kerbside_testsupport::mit as common;

use kerberos_asn1::{Asn1Object, EncTicketPart, Ticket};
use kerbside_crypto::{EncType, Key, default_salt};

const REALM: &str = "SHA2.TEST";

/// Minimal MIT ccache (version 0x0504) reader: (server principal,
/// session key enctype, session key, ticket DER) per credential.
fn read_ccache(b: &[u8]) -> Vec<(String, i32, Vec<u8>, Vec<u8>)> {
    assert_eq!(&b[..2], &[5, 4], "ccache version");
    let hlen = u16::from_be_bytes([b[2], b[3]]) as usize;
    let u32_ = |s: &[u8]| u32::from_be_bytes(s.try_into().unwrap()) as usize;
    let mut out = Vec::new();
    let mut pos = 4 + hlen;
    let rd = |pos: &mut usize, n: usize| -> Vec<u8> {
        let s = b[*pos..*pos + n].to_vec();
        *pos += n;
        s
    };
    let principal = |pos: &mut usize| -> String {
        rd(pos, 4); // name type
        let n = u32_(&rd(pos, 4));
        let rl = u32_(&rd(pos, 4));
        let realm = String::from_utf8(rd(pos, rl)).unwrap();
        let comps: Vec<String> = (0..n)
            .map(|_| {
                let l = u32_(&rd(pos, 4));
                String::from_utf8(rd(pos, l)).unwrap()
            })
            .collect();
        format!("{}@{realm}", comps.join("/"))
    };
    principal(&mut pos); // default principal
    while pos < b.len() {
        principal(&mut pos); // client
        let server = principal(&mut pos);
        let etype = u16::from_be_bytes(rd(&mut pos, 2).try_into().unwrap()) as i32;
        let kl = u32_(&rd(&mut pos, 4));
        let key = rd(&mut pos, kl);
        rd(&mut pos, 16 + 1 + 4); // times, is_skey, flags
        let na = u32_(&rd(&mut pos, 4));
        for _ in 0..na {
            rd(&mut pos, 2);
            let l = u32_(&rd(&mut pos, 4));
            rd(&mut pos, l);
        }
        let nd = u32_(&rd(&mut pos, 4));
        for _ in 0..nd {
            rd(&mut pos, 2);
            let l = u32_(&rd(&mut pos, 4));
            rd(&mut pos, l);
        }
        let tl = u32_(&rd(&mut pos, 4));
        let ticket = rd(&mut pos, tl);
        let sl = u32_(&rd(&mut pos, 4));
        rd(&mut pos, sl);
        out.push((server, etype, key, ticket));
    }
    out
}

fn check_ticket(creds: &[(String, i32, Vec<u8>, Vec<u8>)], server: &str, service_key: &Key) {
    let (_, sk_etype, sk, ticket) = creds.iter().find(|c| c.0 == server).unwrap_or_else(|| {
        panic!(
            "no ticket for {server} in {:?}",
            creds.iter().map(|c| &c.0).collect::<Vec<_>>()
        )
    });
    let (_, t) = Ticket::parse(ticket).unwrap();
    assert_eq!(t.enc_part.etype, service_key.etype().id(), "{server}");
    let plain = service_key.decrypt(2, &t.enc_part.cipher).unwrap();
    let (_, etp) = EncTicketPart::parse(&plain).unwrap();
    assert_eq!(etp.key.keytype, *sk_etype);
    assert_eq!(&etp.key.keyvalue, sk);
    // Wrong usage must fail on MIT's bytes too.
    assert!(service_key.decrypt(3, &t.enc_part.cipher).is_err());
}

#[test]
fn mit_kdc_tickets_decrypt_with_password_derived_keys() {
    if !common::have_tools(&["krb5kdc", "kdb5_util", "kadmin.local", "kinit", "kvno"]) {
        return;
    }
    let realm = common::MitRealm::start(
        "s2k",
        REALM,
        &[
            "aes256-cts-hmac-sha384-192",
            "aes128-cts-hmac-sha256-128",
            "aes128-cts-hmac-sha1-96",
        ],
        &[
            "cpw -pw krbtgtpw krbtgt/SHA2.TEST".to_string(),
            "addprinc -pw alicepw alice".to_string(),
            "addprinc -e aes128-cts-hmac-sha256-128:normal -pw svc19pw host/svc19".to_string(),
            "addprinc -e aes128-cts-hmac-sha1-96:normal -pw svc17pw host/svc17".to_string(),
        ],
    );
    realm.run("kinit", &["alice"], Some("alicepw\n"));
    realm.run("kvno", &["host/svc19", "host/svc17"], None);
    let creds = read_ccache(&std::fs::read(realm.dir.join("cc")).unwrap());

    let krbtgt = Key::from_password(
        EncType::Aes256CtsHmacSha384192,
        "krbtgtpw",
        &default_salt(REALM, &["krbtgt", REALM]),
    )
    .unwrap();
    check_ticket(&creds, "krbtgt/SHA2.TEST@SHA2.TEST", &krbtgt);
    let svc19 = Key::from_password(
        EncType::Aes128CtsHmacSha256128,
        "svc19pw",
        &default_salt(REALM, &["host", "svc19"]),
    )
    .unwrap();
    check_ticket(&creds, "host/svc19@SHA2.TEST", &svc19);
    let svc17 = Key::from_password(
        EncType::Aes128CtsHmacSha196,
        "svc17pw",
        &default_salt(REALM, &["host", "svc17"]),
    )
    .unwrap();
    check_ticket(&creds, "host/svc17@SHA2.TEST", &svc17);
}
