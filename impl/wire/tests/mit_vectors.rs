//! Every MIT-captured message decodes and re-encodes byte-identically
//! (tests/data/mit, copied from ../shared/vectors/mit).

use kerbside_wire::kkdcp::{self, KdcProxyMessage};
use kerbside_wire::krb::{self, KrbMessage};

fn vectors() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mit");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "hex"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            (name, hex::decode(text.trim()).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn expected_name(file: &str) -> &'static str {
    for (needle, name) in [
        ("as-req", "AS-REQ"),
        ("as-rep", "AS-REP"),
        ("tgs-req", "TGS-REQ"),
        ("tgs-rep", "TGS-REP"),
        ("krb-error", "KRB-ERROR"),
    ] {
        if file.contains(needle) {
            return name;
        }
    }
    panic!("unknown vector {file}")
}

#[test]
fn all_22_vectors_are_present() {
    assert_eq!(vectors().len(), 22);
}

#[test]
fn bare_messages_decode_and_reencode_identically() {
    for (name, bytes) in vectors().iter().filter(|(n, _)| !n.starts_with("kkdcp")) {
        let msg = krb::decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(msg.name(), expected_name(name), "{name}");
        assert_eq!(msg.header_error(), None, "{name}");
        assert_eq!(&msg.encode(), bytes, "{name} re-encodes identically");
    }
}

#[test]
fn kkdcp_bodies_decode_down_to_the_inner_message() {
    for (name, bytes) in vectors().iter().filter(|(n, _)| n.starts_with("kkdcp")) {
        let (proxy, inner) =
            kkdcp::decode_with_inner(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(inner.name(), expected_name(name), "{name}");
        let is_request = name.contains("as-req") || name.contains("tgs-req");
        assert_eq!(
            proxy.target_domain.as_deref(),
            is_request.then_some("LAB.TEST"),
            "{name}"
        );
        assert_eq!(proxy.dclocator_hint, None);
        assert_eq!(&proxy.encode(), bytes, "{name} re-encodes identically");
        assert_eq!(&inner.encode(), proxy.kerberos_message().unwrap());
        assert_eq!(KdcProxyMessage::decode(bytes).unwrap(), proxy);
    }
}

#[test]
fn padata_and_method_data_decode() {
    let v = vectors();
    let get = |n: &str| v.iter().find(|(name, _)| name == n).unwrap().1.clone();
    let KrbMessage::KrbError(err) = krb::decode(&get("tcp-krb-error-preauth-required")).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        err.error_code,
        krb::constants::error_code::KDC_ERR_PREAUTH_REQUIRED
    );
    let md = krb::decode_method_data(err.e_data.as_deref().unwrap()).unwrap();
    let types: Vec<i32> = md.iter().map(|p| p.padata_type).collect();
    assert_eq!(types, [136, 19, 2, 133]);
    let values: Vec<krb::PaValue> = md.iter().map(|p| krb::decode_padata(p).unwrap()).collect();
    assert_eq!(values[3], krb::PaValue::FxCookie(b"MIT".to_vec()));
    let krb::PaValue::EtypeInfo2(info) = &values[1] else {
        panic!()
    };
    assert_eq!(info[0].etype, 18);
    assert_eq!(info[0].salt.as_deref(), Some("LAB.TESTalice"));

    let KrbMessage::AsReq(req) = krb::decode(&get("tcp-as-req-pa-enc-timestamp")).unwrap() else {
        panic!()
    };
    let pa: Vec<krb::PaValue> = req
        .padata
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| krb::decode_padata(p).unwrap())
        .collect();
    assert!(
        pa.iter()
            .any(|p| matches!(p, krb::PaValue::EncTimestamp(ed) if ed.etype == 18))
    );
    assert!(pa.contains(&krb::PaValue::AsFreshness(Vec::new())));
    assert!(pa.contains(&krb::PaValue::ReqEncPaRep(None)));

    let KrbMessage::TgsReq(tgs) = krb::decode(&get("tcp-tgs-req")).unwrap() else {
        panic!()
    };
    let pa: Vec<krb::PaValue> = tgs
        .padata
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| krb::decode_padata(p).unwrap())
        .collect();
    let krb::PaValue::TgsReq(ap) = &pa[0] else {
        panic!("{pa:?}")
    };
    assert_eq!(ap.ticket.realm, "LAB.TEST");
    assert_eq!(
        krb::principal_to_string(&ap.ticket.sname),
        "krbtgt/LAB.TEST"
    );
}
