//! Differential check against picky-krb (Devolutions), an independent
//! Kerberos ASN.1 implementation.
//!
//! * Valid messages (the MIT captures and generated ones): both decoders
//!   accept, agree field by field, and both re-encode the input exactly.
//! * Mutated messages: both accept or both reject. picky-krb is lenient on
//!   some non-DER input (reference/crates.md §2.4); every disagreement must
//!   fall into one of the documented classes in `triage`, otherwise the
//!   test fails and prints the input.

use kerberos_asn1::{Asn1Object, EncryptedData, KerberosTime, PaData, PrincipalName};
use kerbside_wire::ErrorKind;
use kerbside_wire::fuzz::{SplitMix64, corpus, mutate};
use kerbside_wire::krb::{self, KrbMessage};
use picky_asn1::wrapper::IntegerAsn1;
use picky_krb::messages as pk;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// A decoder-neutral summary of a message: every field, in order.
#[derive(Debug, PartialEq, Eq, Default)]
struct Summary(Vec<String>);

impl Summary {
    fn push(&mut self, k: &str, v: impl std::fmt::Display) {
        self.0.push(format!("{k}={v}"));
    }
}

fn int(i: &IntegerAsn1) -> i64 {
    let b = i.as_signed_bytes_be();
    let neg = b.first().is_some_and(|x| x & 0x80 != 0);
    b.iter()
        .fold(if neg { -1 } else { 0 }, |a, &x| (a << 8) | i64::from(x))
}

fn pk_time(t: &picky_asn1::wrapper::GeneralizedTimeAsn1) -> String {
    let d = &t.0;
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

fn pk_str(s: &picky_krb::data_types::KerberosStringAsn1) -> String {
    String::from_utf8_lossy(s.as_bytes()).into_owned()
}

fn pk_principal(s: &mut Summary, k: &str, p: &picky_krb::data_types::PrincipalName) {
    s.push(&format!("{k}.type"), int(&p.name_type.0));
    let parts: Vec<String> = p.name_string.0.0.iter().map(pk_str).collect();
    s.push(&format!("{k}.name"), parts.join("/"));
}

fn pk_enc(s: &mut Summary, k: &str, e: &picky_krb::data_types::EncryptedData) {
    s.push(&format!("{k}.etype"), int(&e.etype.0));
    if let Some(kv) = &e.kvno.0 {
        s.push(&format!("{k}.kvno"), int(&kv.0) as u32);
    }
    s.push(&format!("{k}.cipher"), hex::encode(&e.cipher.0.0));
}

fn pk_padata(s: &mut Summary, list: &[picky_krb::data_types::PaData]) {
    for p in list {
        s.push("padata.type", int(&p.padata_type.0));
        s.push("padata.value", hex::encode(&p.padata_data.0.0));
    }
}

fn pk_ticket(s: &mut Summary, t: &picky_krb::data_types::Ticket) {
    let t = &t.0;
    s.push("ticket.vno", int(&t.tkt_vno.0));
    s.push("ticket.realm", pk_str(&t.realm.0));
    pk_principal(s, "ticket.sname", &t.sname.0);
    pk_enc(s, "ticket.enc", &t.enc_part.0);
}

fn pk_flags(b: &picky_asn1::wrapper::BitStringAsn1) -> String {
    hex::encode(b.0.payload_view())
}

fn pk_kdc_req(r: &pk::KdcReq) -> Summary {
    let mut s = Summary::default();
    s.push("pvno", int(&r.pvno.0));
    s.push("msg-type", int(&r.msg_type.0));
    if let Some(p) = &r.padata.0 {
        pk_padata(&mut s, &p.0.0);
    }
    let b = &r.req_body.0;
    s.push("kdc-options", pk_flags(&b.kdc_options.0));
    if let Some(c) = &b.cname.0 {
        pk_principal(&mut s, "cname", &c.0);
    }
    s.push("realm", pk_str(&b.realm.0));
    if let Some(c) = &b.sname.0 {
        pk_principal(&mut s, "sname", &c.0);
    }
    if let Some(t) = &b.from.0 {
        s.push("from", pk_time(&t.0));
    }
    s.push("till", pk_time(&b.till.0));
    if let Some(t) = &b.rtime.0 {
        s.push("rtime", pk_time(&t.0));
    }
    s.push("nonce", int(&b.nonce.0) as u32);
    for e in &b.etype.0.0 {
        s.push("etype", int(e));
    }
    s
}

fn pk_kdc_rep(r: &pk::KdcRep) -> Summary {
    let mut s = Summary::default();
    s.push("pvno", int(&r.pvno.0));
    s.push("msg-type", int(&r.msg_type.0));
    if let Some(p) = &r.padata.0 {
        pk_padata(&mut s, &p.0.0);
    }
    s.push("crealm", pk_str(&r.crealm.0));
    pk_principal(&mut s, "cname", &r.cname.0);
    pk_ticket(&mut s, &r.ticket.0);
    pk_enc(&mut s, "enc-part", &r.enc_part.0);
    s
}

fn pk_krb_error(e: &pk::KrbErrorInner) -> Summary {
    let mut s = Summary::default();
    s.push("pvno", int(&e.pvno.0));
    s.push("msg-type", int(&e.msg_type.0));
    if let Some(t) = &e.ctime.0 {
        s.push("ctime", pk_time(&t.0));
    }
    s.push("stime", pk_time(&e.stime.0));
    s.push("susec", int(&e.susec.0));
    s.push("error-code", e.error_code.0);
    if let Some(r) = &e.crealm.0 {
        s.push("crealm", pk_str(&r.0));
    }
    if let Some(c) = &e.cname.0 {
        pk_principal(&mut s, "cname", &c.0);
    }
    s.push("realm", pk_str(&e.realm.0));
    pk_principal(&mut s, "sname", &e.sname.0);
    if let Some(t) = &e.e_text.0 {
        s.push("e-text", pk_str(&t.0));
    }
    if let Some(d) = &e.e_data.0 {
        s.push("e-data", hex::encode(&d.0.0));
    }
    s
}

// ---- the same summaries from kerberos_asn1 ----

fn kt(t: &KerberosTime) -> String {
    kerbside_wire::time::format(t)
}

fn principal(s: &mut Summary, k: &str, p: &PrincipalName) {
    s.push(&format!("{k}.type"), p.name_type);
    s.push(&format!("{k}.name"), p.name_string.join("/"));
}

fn enc(s: &mut Summary, k: &str, e: &EncryptedData) {
    s.push(&format!("{k}.etype"), e.etype);
    if let Some(kv) = e.kvno {
        s.push(&format!("{k}.kvno"), kv);
    }
    s.push(&format!("{k}.cipher"), hex::encode(&e.cipher));
}

fn padata(s: &mut Summary, list: &[PaData]) {
    for p in list {
        s.push("padata.type", p.padata_type);
        s.push("padata.value", hex::encode(&p.padata_value));
    }
}

fn ticket(s: &mut Summary, t: &kerberos_asn1::Ticket) {
    s.push("ticket.vno", t.tkt_vno);
    s.push("ticket.realm", &t.realm);
    principal(s, "ticket.sname", &t.sname);
    enc(s, "ticket.enc", &t.enc_part);
}

fn flags_hex(f: &kerberos_asn1::KerberosFlags) -> String {
    hex::encode(f.flags.to_be_bytes())
}

fn ours(m: &KrbMessage) -> Summary {
    let mut s = Summary::default();
    match m {
        KrbMessage::AsReq(kerberos_asn1::AsReq {
            pvno,
            msg_type,
            padata: pa,
            req_body: b,
        })
        | KrbMessage::TgsReq(kerberos_asn1::TgsReq {
            pvno,
            msg_type,
            padata: pa,
            req_body: b,
        }) => {
            s.push("pvno", pvno);
            s.push("msg-type", msg_type);
            if let Some(p) = pa {
                padata(&mut s, p);
            }
            s.push("kdc-options", flags_hex(&b.kdc_options));
            if let Some(c) = &b.cname {
                principal(&mut s, "cname", c);
            }
            s.push("realm", &b.realm);
            if let Some(c) = &b.sname {
                principal(&mut s, "sname", c);
            }
            if let Some(t) = &b.from {
                s.push("from", kt(t));
            }
            s.push("till", kt(&b.till));
            if let Some(t) = &b.rtime {
                s.push("rtime", kt(t));
            }
            s.push("nonce", b.nonce);
            for e in &b.etypes {
                s.push("etype", e);
            }
        }
        KrbMessage::AsRep(kerberos_asn1::AsRep {
            pvno,
            msg_type,
            padata: pa,
            crealm,
            cname,
            ticket: t,
            enc_part,
        })
        | KrbMessage::TgsRep(kerberos_asn1::TgsRep {
            pvno,
            msg_type,
            padata: pa,
            crealm,
            cname,
            ticket: t,
            enc_part,
        }) => {
            s.push("pvno", pvno);
            s.push("msg-type", msg_type);
            if let Some(p) = pa {
                padata(&mut s, p);
            }
            s.push("crealm", crealm);
            principal(&mut s, "cname", cname);
            ticket(&mut s, t);
            enc(&mut s, "enc-part", enc_part);
        }
        KrbMessage::KrbError(e) => {
            s.push("pvno", e.pvno);
            s.push("msg-type", e.msg_type);
            if let Some(t) = &e.ctime {
                s.push("ctime", kt(t));
            }
            s.push("stime", kt(&e.stime));
            s.push("susec", e.susec);
            s.push("error-code", e.error_code);
            if let Some(r) = &e.crealm {
                s.push("crealm", r);
            }
            if let Some(c) = &e.cname {
                principal(&mut s, "cname", c);
            }
            s.push("realm", &e.realm);
            principal(&mut s, "sname", &e.sname);
            if let Some(t) = &e.e_text {
                s.push("e-text", t);
            }
            if let Some(d) = &e.e_data {
                s.push("e-data", hex::encode(d));
            }
        }
        other => s.push("unsupported", other.name()),
    }
    s
}

/// picky-krb's verdict: summary and its own re-encoding, or Err.
fn picky(bytes: &[u8]) -> Result<(Summary, Vec<u8>), String> {
    let quiet = std::panic::catch_unwind(|| -> Result<(Summary, Vec<u8>), String> {
        let e = |x: picky_asn1_der::Asn1DerError| x.to_string();
        match bytes.first() {
            Some(0x6a) => {
                let m: pk::AsReq = picky_asn1_der::from_bytes(bytes).map_err(e)?;
                Ok((pk_kdc_req(&m.0), picky_asn1_der::to_vec(&m).map_err(e)?))
            }
            Some(0x6c) => {
                let m: pk::TgsReq = picky_asn1_der::from_bytes(bytes).map_err(e)?;
                Ok((pk_kdc_req(&m.0), picky_asn1_der::to_vec(&m).map_err(e)?))
            }
            Some(0x6b) => {
                let m: pk::AsRep = picky_asn1_der::from_bytes(bytes).map_err(e)?;
                Ok((pk_kdc_rep(&m.0), picky_asn1_der::to_vec(&m).map_err(e)?))
            }
            Some(0x6d) => {
                let m: pk::TgsRep = picky_asn1_der::from_bytes(bytes).map_err(e)?;
                Ok((pk_kdc_rep(&m.0), picky_asn1_der::to_vec(&m).map_err(e)?))
            }
            Some(0x7e) => {
                let m: pk::KrbError = picky_asn1_der::from_bytes(bytes).map_err(e)?;
                Ok((pk_krb_error(&m.0), picky_asn1_der::to_vec(&m).map_err(e)?))
            }
            _ => Err("not a message type this test compares".into()),
        }
    });
    quiet.unwrap_or_else(|_| Err("picky-krb panicked".into()))
}

fn kerberos_seeds() -> Vec<Vec<u8>> {
    corpus()
        .into_iter()
        .filter(|s| s.format == "kerberos" && matches!(s.bytes.first(), Some(0x6a..=0x6d | 0x7e)))
        .map(|s| s.bytes)
        .collect()
}

#[test]
fn valid_messages_agree_field_by_field_and_reencode_identically() {
    let seeds = kerberos_seeds();
    assert!(seeds.len() >= 16, "{}", seeds.len());
    for b in &seeds {
        let m = krb::decode(b).unwrap();
        let (theirs, their_bytes) =
            picky(b).unwrap_or_else(|e| panic!("picky rejects a valid {}: {e}", m.name()));
        assert_eq!(ours(&m), theirs, "{}", m.name());
        assert_eq!(&their_bytes, b, "picky re-encodes {} identically", m.name());
        assert_eq!(&m.encode(), b);
    }
}

/// Why the two decoders may disagree on a malformed input. Anything not
/// listed fails the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allowed {
    /// picky-krb accepts the input but its own re-encoding differs from
    /// it, i.e. picky itself shows the input is not the DER of the value it
    /// decoded (e.g. a SET tag where a SEQUENCE belongs, or an overlong
    /// EXPLICIT length): it normalised; we reject non-DER.
    PickyNormalises,
    /// We reject non-DER that picky-krb accepts and re-encodes unchanged:
    /// non-minimal INTEGERs, BIT STRINGs with more than 7 unused bits or
    /// with unused bits in a KerberosFlags (which kerberos_asn1 then
    /// re-encodes differently), KerberosTime with non-digits; picky-krb is
    /// lenient there (reference/crates.md §2.4).
    PickyLenientOnNonDer,
    /// picky-krb decodes values kerberos_asn1's types cannot hold: an
    /// INTEGER wider than 32 bits in an Int32/UInt32 field (kerberos_asn1
    /// limits them to 4 content octets, see krb/mod.rs) or a GeneralString
    /// that is not UTF-8.
    PickyAcceptsWhatKerberosAsn1Types,
}

fn triage(
    input: &[u8],
    ours: &Result<KrbMessage, kerbside_wire::WireError>,
    theirs: &Result<(Summary, Vec<u8>), String>,
) -> Option<Allowed> {
    match (ours, theirs) {
        (Err(_), Ok((_, their_bytes))) if their_bytes != input => Some(Allowed::PickyNormalises),
        (Err(e), Ok(_)) => match &e.kind {
            ErrorKind::NonCanonical { .. }
            | ErrorKind::NonMinimalLength { .. }
            | ErrorKind::InvalidValue { .. } => Some(Allowed::PickyLenientOnNonDer),
            ErrorKind::Rejected { message, .. }
                if message.contains("Too many octets")
                    || message.contains("Utf8Error")
                    || message.contains("IncorrectValue") =>
            {
                Some(Allowed::PickyAcceptsWhatKerberosAsn1Types)
            }
            _ => None,
        },
        // we accept what picky-krb rejects: never seen, never allowed
        _ => None,
    }
}

fn compare(input: &[u8]) -> Result<Option<Allowed>, String> {
    let o = krb::decode(input);
    let t = picky(input);
    match (&o, &t) {
        (Ok(m), Ok((theirs, their_bytes))) => {
            // both accept: they must agree on every field, and since our
            // decode is canonical, picky must re-encode the same bytes
            if ours(m) != *theirs {
                return Err(format!("field disagreement on {}", hex::encode(input)));
            }
            if their_bytes != input {
                return Err(format!(
                    "picky re-encodes differently: {}",
                    hex::encode(input)
                ));
            }
            Ok(None)
        }
        (Err(_), Err(_)) => Ok(None),
        _ => triage(input, &o, &t).map(Some).ok_or_else(|| {
            format!(
                "untriaged disagreement (ours {:?}, picky {:?}) on {}",
                o.as_ref()
                    .map(KrbMessage::name)
                    .map_err(ToString::to_string),
                t.as_ref().map(|_| "accepts"),
                hex::encode(input)
            )
        }),
    }
}

#[test]
fn mutated_messages_disagree_only_in_documented_ways() {
    let seeds = kerberos_seeds();
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for i in 0..1500u64 {
        let mut rng = SplitMix64::new(0xd1ff ^ i);
        let base = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base, other);
        match compare(&input) {
            Ok(class) => *counts.entry(format!("{class:?}")).or_default() += 1,
            Err(e) => panic!("{e}"),
        }
    }
    eprintln!("differential classes over 1500 mutants: {counts:?}");
    assert!(
        counts.get("None").copied().unwrap_or(0) > 1000,
        "{counts:?}"
    );
}

fn time_strategy() -> impl Strategy<Value = KerberosTime> {
    (0u64..253_402_300_799).prop_map(|s| {
        kerbside_wire::time::to_kerberos_time(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(s),
        )
    })
}

fn name_strategy() -> impl Strategy<Value = PrincipalName> {
    (
        -3i32..12,
        proptest::collection::vec("[A-Za-z0-9.$_-]{1,12}", 1..3),
    )
        .prop_map(|(t, parts)| PrincipalName {
            name_type: t,
            name_string: parts,
        })
}

prop_compose! {
    fn as_req_strategy()(
        cname in name_strategy(),
        sname in name_strategy(),
        realm in "[A-Z.]{1,16}",
        till in time_strategy(),
        nonce in 0u32..=0x7fff_ffff,
        opts in any::<u32>(),
        etypes in proptest::collection::vec(-200i32..200, 0..8),
        pa in proptest::collection::vec((1i32..200, proptest::collection::vec(any::<u8>(), 0..16)), 0..3),
    ) -> kerberos_asn1::AsReq {
        let mut r = kerberos_asn1::AsReq {
            padata: (!pa.is_empty()).then(|| pa.into_iter().map(|(t, v)| PaData::new(t, v)).collect()),
            ..Default::default()
        };
        r.req_body.kdc_options = opts.into();
        r.req_body.cname = Some(cname);
        r.req_body.sname = Some(sname);
        r.req_body.realm = realm;
        r.req_body.till = till;
        r.req_body.nonce = nonce;
        r.req_body.etypes = etypes;
        r
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    /// Generated AS-REQs: both decoders accept and agree.
    #[test]
    fn generated_as_reqs_agree(req in as_req_strategy()) {
        let b = req.build();
        prop_assert_eq!(compare(&b), Ok(None));
        prop_assert_eq!(krb::decode(&b).unwrap(), KrbMessage::AsReq(req));
    }
}
