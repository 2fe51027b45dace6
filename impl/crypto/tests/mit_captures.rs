//! Decrypting real MIT krb5 1.20.1 traffic (/work/shared/vectors/mit) with
//! keys derived from the realm's passwords: usage numbers, the AES-SHA1
//! ciphers and KRB-FX-CF2 (FAST armor and reply-key strengthening) are
//! checked against bytes this project did not produce.

use std::path::PathBuf;

use kerberos_asn1::{AsRep, AsReq, Asn1Object, EncTicketPart, EncryptedData, PaEncTsEnc, TgsRep};
use kerbside_crypto::{EncType, Key, cf2, default_salt};

fn vector(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/mit")
        .join(name);
    hex::decode(std::fs::read_to_string(&p).unwrap().trim()).unwrap()
}

fn key(hexkey: &str) -> Key {
    Key::new(EncType::Aes256CtsHmacSha196, hex::decode(hexkey).unwrap()).unwrap()
}

fn pw_key(pw: &str, realm: &str, comps: &[&str]) -> Key {
    Key::from_password(
        EncType::Aes256CtsHmacSha196,
        pw,
        &default_salt(realm, comps),
    )
    .unwrap()
}

/// TGT session key, as tshark learnt it from the AS-REP (tcp-as-rep.dissect.txt).
const TGT_SESSION: &str = "c8ca7d02bcd6a081a8984805a1cca968f25f5d2ee35583fef46327bb5f0be448";
/// Authenticator subkey of the TGS-REQ's PA-TGS-REQ (tcp-tgs-req.dissect.txt).
const TGS_SUBKEY: &str = "5742e50f3ce9a3365fdb2f70a3e7afd7ec2ce576a8db6a6e544ba1858f83d02b";
/// KrbFastResponse strengthen-key of the TGS-REP (tcp-tgs-rep.dissect.txt).
const STRENGTHEN: &str = "7e233efeafaede5a473a17125abfe548b41b5f4ddf794a2012c9a8eda985a0f9";
/// Service ticket session key (tcp-tgs-rep.dissect.txt).
const SERVICE_SESSION: &str = "d54c694728c27a69c654a081a7b2f091e26507d42062bd3ee16833cc0a8329f3";

#[test]
fn as_req_pa_enc_timestamp_decrypts_with_alice_key_usage_1() {
    for f in [
        "tcp-as-req-pa-enc-timestamp.hex",
        "udp-as-req-pa-enc-timestamp.hex",
    ] {
        let (_, req) = AsReq::parse(&vector(f)).unwrap();
        let pa = req
            .padata
            .unwrap()
            .into_iter()
            .find(|p| p.padata_type == 2)
            .expect("PA-ENC-TIMESTAMP");
        let (_, ed) = EncryptedData::parse(&pa.padata_value).unwrap();
        assert_eq!(ed.etype, 18);
        let alice = pw_key("alicepw", "LAB.TEST", &["alice"]);
        let plain = alice.decrypt(1, &ed.cipher).unwrap();
        let (_, ts) = PaEncTsEnc::parse(&plain).unwrap();
        assert!(ts.patimestamp.to_string().starts_with("20"), "{ts:?}");
        // Wrong usage, wrong key: integrity failure.
        assert!(alice.decrypt(3, &ed.cipher).is_err());
        let other = pw_key("nopreauthpw", "LAB.TEST", &["nopreauth"]);
        assert!(other.decrypt(1, &ed.cipher).is_err());
    }
}

#[test]
fn as_rep_enc_part_and_tgt_decrypt() {
    let (_, rep) = AsRep::parse(&vector("tcp-as-rep.hex")).unwrap();
    // enc-part: alice's aes256 key, usage 3 (RFC 4120 §7.5.1).
    let alice = pw_key("alicepw", "LAB.TEST", &["alice"]);
    let plain = alice.decrypt(3, &rep.enc_part.cipher).unwrap();
    // EncASRepPart is [APPLICATION 25]; MIT may send 26 (EncTGSRepPart).
    assert!(plain[0] == 0x79 || plain[0] == 0x7a, "tag {:#x}", plain[0]);
    // The session key inside is the one tshark learnt.
    let session = hex::decode(TGT_SESSION).unwrap();
    assert!(plain.windows(32).any(|w| w == &session[..]));

    // TGT: krbtgt/LAB.TEST kvno 2, usage 2.
    assert_eq!(rep.ticket.enc_part.kvno, Some(2));
    let krbtgt = pw_key("krbtgtpw", "LAB.TEST", &["krbtgt", "LAB.TEST"]);
    let tkt = krbtgt.decrypt(2, &rep.ticket.enc_part.cipher).unwrap();
    let (_, etp) = EncTicketPart::parse(&tkt).unwrap();
    assert_eq!(etp.key.keytype, 18);
    assert_eq!(etp.key.keyvalue, session);
    assert_eq!(etp.crealm, "LAB.TEST".to_string());
}

#[test]
fn nopreauth_as_rep_decrypts() {
    let (_, rep) = AsRep::parse(&vector("tcp-as-rep-principal-nopreauth.hex")).unwrap();
    let k = pw_key("nopreauthpw", "LAB.TEST", &["nopreauth"]);
    k.decrypt(3, &rep.enc_part.cipher).unwrap();
    let krbtgt = pw_key("krbtgtpw", "LAB.TEST", &["krbtgt", "LAB.TEST"]);
    krbtgt.decrypt(2, &rep.ticket.enc_part.cipher).unwrap();
}

#[test]
fn tgs_rep_ticket_decrypts_with_service_key() {
    let (_, rep) = TgsRep::parse(&vector("tcp-tgs-rep.hex")).unwrap();
    let svc = pw_key("apppw", "LAB.TEST", &["host", "app.lab.test"]);
    let tkt = svc.decrypt(2, &rep.ticket.enc_part.cipher).unwrap();
    let (_, etp) = EncTicketPart::parse(&tkt).unwrap();
    assert_eq!(etp.key.keyvalue, hex::decode(SERVICE_SESSION).unwrap());
}

/// RFC 6113 §5.4.3: the FAST TGS-REP enc-part is encrypted with
/// `KRB-FX-CF2(strengthen-key, reply-key, "strengthenkey", "replykey")`,
/// where the reply key is the authenticator subkey (usage 9, RFC 4120
/// §7.5.1). MIT's real bytes check our CF2 end to end.
#[test]
fn fast_tgs_rep_enc_part_decrypts_with_cf2_strengthened_key() {
    let (_, rep) = TgsRep::parse(&vector("tcp-tgs-rep.hex")).unwrap();
    let reply_key = cf2(
        &key(STRENGTHEN),
        &key(TGS_SUBKEY),
        b"strengthenkey",
        b"replykey",
    )
    .unwrap();
    let plain = reply_key.decrypt(9, &rep.enc_part.cipher).unwrap();
    let svc_session = hex::decode(SERVICE_SESSION).unwrap();
    assert!(plain.windows(32).any(|w| w == &svc_session[..]));
    // The unstrengthened subkey does not decrypt it.
    assert!(key(TGS_SUBKEY).decrypt(9, &rep.enc_part.cipher).is_err());
}

/// RFC 6113 §5.4.1.1: TGS-REQ armor key =
/// `KRB-FX-CF2(subkey, ticket session key, "subkeyarmor", "ticketarmor")`;
/// the armored request (KrbFastArmoredReq.enc-fast-req) uses usage 51
/// (KEY_USAGE_FAST_ENC) and the armored reply usage 52 (KEY_USAGE_FAST_REP).
#[test]
fn fast_armor_key_decrypts_armored_request_and_reply() {
    let armor = cf2(
        &key(TGS_SUBKEY),
        &key(TGT_SESSION),
        b"subkeyarmor",
        b"ticketarmor",
    )
    .unwrap();
    let req_parts = encrypted_data_nodes(&vector("tcp-tgs-req.hex"));
    assert!(
        req_parts.iter().any(|c| armor.decrypt(51, c).is_ok()),
        "no EncryptedData in the TGS-REQ decrypts with the armor key (usage 51)"
    );
    let rep_parts = encrypted_data_nodes(&vector("tcp-tgs-rep.hex"));
    let fast_rep = rep_parts
        .iter()
        .find_map(|c| armor.decrypt(52, c).ok())
        .expect("KrbFastResponse decrypts with the armor key (usage 52)");
    // KrbFastResponse carries the strengthen-key tshark learnt.
    let sk = hex::decode(STRENGTHEN).unwrap();
    assert!(fast_rep.windows(32).any(|w| w == &sk[..]));
}

/// Every DER node shaped like EncryptedData (SEQUENCE { [0] INTEGER, [1]
/// INTEGER OPTIONAL, [2] OCTET STRING }) anywhere in `der`, including inside
/// OCTET STRINGs that hold DER (padata values): returns the cipher bytes.
fn encrypted_data_nodes(der: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    walk(der, &mut out);
    out
}

fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = if l0 < 0x80 {
        (l0 as usize, rest)
    } else {
        let n = (l0 & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, &x| a << 8 | x as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

fn walk(mut b: &[u8], out: &mut Vec<Vec<u8>>) {
    while let Some((tag, val, rest)) = tlv(b) {
        if tag == 0x30
            && let Some(c) = as_encrypted_data(val)
        {
            out.push(c);
        }
        if tag & 0x20 != 0 || tag == 0x04 {
            walk(val, out);
        }
        b = rest;
    }
}

fn as_encrypted_data(seq: &[u8]) -> Option<Vec<u8>> {
    let (t0, v0, mut rest) = tlv(seq)?;
    if t0 != 0xa0 || tlv(v0)?.0 != 0x02 {
        return None;
    }
    let (mut t, mut v, r) = tlv(rest)?;
    rest = r;
    if t == 0xa1 {
        (t, v, rest) = tlv(rest)?;
    }
    if t != 0xa2 || !rest.is_empty() {
        return None;
    }
    let (ot, ov, orest) = tlv(v)?;
    (ot == 0x04 && orest.is_empty()).then(|| ov.to_vec())
}
