//! The captured MIT kinit requests replayed into the core, with the same
//! principals: the KDC answers them as MIT's KDC did (PREAUTH_REQUIRED with
//! alice's salt, then an AS-REP that decrypts with alice's key and names
//! her), over both transports' captures.

mod common;

use common::*;
use kerbside_kdc::{Outcome, Transport};
use kerbside_wire::krb::asn1::{AsRep, EncTicketPart, KrbError};
use kerbside_wire::krb::constants::{error_code, key_usage, padata_type, ticket_flags as tf};
use kerbside_wire::krb::{
    KrbMessage, PaValue, decode, decode_der, decode_enc_rep_part, decode_method_data, decode_padata,
};

fn reply(request: &[u8], transport: Transport) -> KrbMessage {
    let mut kdc = lab_kdc();
    match kdc.handle(request, transport, capture_time(), &mut rng(1)) {
        Outcome::Reply(bytes) => decode(&bytes).unwrap(),
        Outcome::Drop(r) => panic!("dropped: {r:?}"),
    }
}

fn expect_error(m: KrbMessage) -> KrbError {
    match m {
        KrbMessage::KrbError(e) => e,
        other => panic!("expected KRB-ERROR, got {}", other.name()),
    }
}

fn expect_as_rep(m: KrbMessage) -> AsRep {
    match m {
        KrbMessage::AsRep(r) => r,
        KrbMessage::KrbError(e) => panic!("KRB-ERROR {} {:?}", e.error_code, e.e_text),
        other => panic!("expected AS-REP, got {}", other.name()),
    }
}

#[test]
fn first_kinit_request_gets_preauth_required_with_alices_salt() {
    for (name, transport) in [
        ("tcp-as-req-nopreauth", Transport::Tcp),
        ("udp-as-req-nopreauth", Transport::Udp),
    ] {
        let e = expect_error(reply(&vector(name), transport));
        assert_eq!(e.error_code, error_code::KDC_ERR_PREAUTH_REQUIRED, "{name}");
        assert_eq!(e.cname.as_ref().unwrap().name_string, ["alice"]);
        assert_eq!(e.sname.name_string, ["krbtgt", "LAB.TEST"]);
        let md = decode_method_data(e.e_data.as_deref().unwrap()).unwrap();
        let types: Vec<i32> = md.iter().map(|p| p.padata_type).collect();
        // No PA-FX-FAST: advertising it would make MIT clients armor TGS requests.
        assert_eq!(
            types,
            [padata_type::PA_ETYPE_INFO2, padata_type::PA_ENC_TIMESTAMP]
        );
        let PaValue::EtypeInfo2(info) = decode_padata(&md[0]).unwrap() else {
            panic!()
        };
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].etype, 18);
        assert_eq!(info[0].salt.as_deref(), Some("LAB.TESTalice"));
    }
}

#[test]
fn preauthenticated_kinit_request_gets_a_tgt_for_alice() {
    for (name, transport) in [
        ("tcp-as-req-pa-enc-timestamp", Transport::Tcp),
        ("udp-as-req-pa-enc-timestamp", Transport::Udp),
    ] {
        let raw = vector(name);
        let rep = expect_as_rep(reply(&raw, transport));
        assert_eq!(rep.cname.name_string, ["alice"]);
        assert_eq!(rep.crealm, REALM);
        let alice = key_of("alice", AES256);
        assert_eq!(rep.enc_part.etype, 18);
        let plain = alice
            .decrypt(key_usage::AS_REP_ENC_PART, &rep.enc_part.cipher)
            .unwrap();
        let part = decode_enc_rep_part(&plain).unwrap().part;
        let KrbMessage::AsReq(req) = decode(&raw).unwrap() else {
            panic!()
        };
        assert_eq!(part.nonce, req.req_body.nonce);
        assert_eq!(part.sname.name_string, ["krbtgt", "LAB.TEST"]);
        let flags = part.flags.flags;
        assert_ne!(flags & tf::INITIAL, 0);
        assert_ne!(flags & tf::PRE_AUTHENT, 0);
        // kinit sent PA-REQ-ENC-PA-REP: the reply carries a checksum over the
        // request bytes with alice's key, usage 56, which MIT verifies.
        assert_ne!(flags & tf::ENC_PA_REP, 0);
        let pa = part.encrypted_pa_data.as_ref().unwrap();
        let PaValue::ReqEncPaRep(Some(ck)) = decode_padata(&pa[0]).unwrap() else {
            panic!("{pa:?}")
        };
        alice
            .verify_checksum(56, ck.cksumtype, &raw, &ck.checksum)
            .unwrap();
        // The TGT decrypts with krbtgt kvno 2 and names alice.
        assert_eq!(rep.ticket.enc_part.kvno, Some(2));
        let krbtgt = key_of("krbtgt/LAB.TEST", AES256);
        let t = krbtgt
            .decrypt(key_usage::KDC_REP_TICKET, &rep.ticket.enc_part.cipher)
            .unwrap();
        let t: EncTicketPart = decode_der(&t).unwrap();
        assert_eq!(t.cname.name_string, ["alice"]);
        assert_eq!(t.key, part.key);
        assert_eq!(
            t.flags.flags & tf::ENC_PA_REP,
            0,
            "enc-pa-rep is a reply flag, not a ticket flag"
        );
    }
}

#[test]
fn principal_without_preauth_gets_an_as_rep_directly() {
    for (name, transport) in [
        ("tcp-as-req-principal-nopreauth", Transport::Tcp),
        ("udp-as-req-principal-nopreauth", Transport::Udp),
    ] {
        let rep = expect_as_rep(reply(&vector(name), transport));
        assert_eq!(rep.cname.name_string, ["nopreauth"]);
        let plain = key_of("nopreauth", AES256)
            .decrypt(key_usage::AS_REP_ENC_PART, &rep.enc_part.cipher)
            .unwrap();
        let part = decode_enc_rep_part(&plain).unwrap().part;
        assert_eq!(part.flags.flags & tf::PRE_AUTHENT, 0);
        // PA-ETYPE-INFO2 in the reply tells the client which salt to use.
        let pa = rep.padata.as_ref().unwrap();
        let PaValue::EtypeInfo2(info) = decode_padata(&pa[0]).unwrap() else {
            panic!()
        };
        assert_eq!(info[0].salt.as_deref(), Some("LAB.TESTnopreauth"));
    }
}

#[test]
fn captured_timestamp_is_rejected_once_outside_the_skew_window() {
    let mut kdc = lab_kdc();
    let later = capture_time() + std::time::Duration::from_secs(301);
    let Outcome::Reply(bytes) = kdc.handle(
        &vector("tcp-as-req-pa-enc-timestamp"),
        Transport::Tcp,
        later,
        &mut rng(1),
    ) else {
        panic!()
    };
    let e = expect_error(decode(&bytes).unwrap());
    assert_eq!(e.error_code, error_code::KRB_AP_ERR_SKEW);
    assert_eq!(
        kerbside_wire::time::from_kerberos_time_usec(&e.stime, e.susec),
        later
    );
}
