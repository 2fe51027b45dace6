//! spnego-acceptor and ntlm-acceptor suites: initiator conversations (made
//! with kerbside's SPNEGO, Kerberos and NTLM initiators, with a man in the
//! middle editing tokens where the test says so) and the outcome a
//! conforming acceptor gives, step by step.

use std::time::SystemTime;

use kerbside_client::gss_krb::{KrbInitiator, KrbInitiatorOptions};
use kerbside_client::iakerb::{
    ApFraming, IakerbDialect, IakerbInitiator, IakerbOptions, IakerbRequest, IakerbStep,
};
use kerbside_client::krb::Secret;
use kerbside_client::krb::{Credentials, Principal};
use kerbside_client::ntlm::{NtlmClient, NtlmClientConfig, NtlmCredentials};
use kerbside_client::spnego::{OfferedMech, SpnegoInitiator, SpnegoOptions, SpnegoStep};
use kerbside_crypto::Key;
use kerbside_crypto::gss_checksum::FinishedFlavor;
use kerbside_wire::der::BitString;
use kerbside_wire::gss::oid;
use kerbside_wire::iakerb::IakerbProxy;
use kerbside_wire::krb::constants::ticket_flags as tf;
use kerbside_wire::spnego::NegotiationToken;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

use super::{Suite, group, test};
use crate::check::accept::{Conversation, service_key};
use crate::clock;
use crate::model::{
    AcceptExpected, AcceptInput, AcceptParams, Account, ConversationRecipe, IakerbParams,
    ServiceTicketRecipe, Test, TestGroup, TokenEdit, VectorFile, Verdict,
};
use crate::realm::components;
use crate::recipe::principal_name;

type ATest = Test<AcceptInput, AcceptExpected>;

pub(crate) fn params(mode: &str, require_mic: bool) -> AcceptParams {
    AcceptParams {
        realm: "LAB.TEST".to_owned(),
        service: "host/app.lab.test".to_owned(),
        service_password: "apppw".to_owned(),
        service_kvno: 1,
        accounts: vec![Account {
            user: "alice".to_owned(),
            password: "alicepw".to_owned(),
        }],
        mode: mode.to_owned(),
        require_mic,
        clock: super::mit::CLOCK.to_owned(),
        seed: 7,
        iakerb: None,
    }
}

pub(crate) fn good_ticket() -> ServiceTicketRecipe {
    ServiceTicketRecipe {
        start_offset_seconds: -60,
        end_offset_seconds: 36_000,
        sealing_password: None,
        kvno: None,
        server: None,
        client_clock_offset_seconds: 0,
    }
}

pub(crate) fn recipe(
    wrapper: &str,
    mechs: &[&str],
    ticket: Option<ServiceTicketRecipe>,
) -> ConversationRecipe {
    ConversationRecipe {
        wrapper: wrapper.to_owned(),
        mechs: mechs.iter().map(|m| (*m).to_owned()).collect(),
        user: "alice".to_owned(),
        password: "alicepw".to_owned(),
        ticket,
        edits: Vec::new(),
    }
}

fn edit(leg: usize, action: &str) -> TokenEdit {
    TokenEdit {
        leg,
        action: action.to_owned(),
        offset: None,
    }
}

/// A service ticket for alice, sealed with the service key (or another).
fn credentials(
    p: &AcceptParams,
    t: &ServiceTicketRecipe,
    now: SystemTime,
    rng: &mut ChaCha12Rng,
) -> Credentials {
    use kerbside_wire::krb::asn1::{
        Asn1Object, EncTicketPart, EncryptedData, EncryptionKey, PrincipalName, Ticket,
        TicketFlags, TransitedEncoding,
    };
    use kerbside_wire::time::to_kerberos_time;
    let server_name = t.server.clone().unwrap_or_else(|| p.service.clone());
    let key = match &t.sealing_password {
        Some(pw) => {
            let comps = components(&server_name);
            let refs: Vec<&str> = comps.iter().map(String::as_str).collect();
            Key::from_password(
                kerbside_crypto::EncType::Aes256CtsHmacSha196,
                pw,
                &kerbside_crypto::default_salt(&p.realm, &refs),
            )
        }
        None => service_key(p).map_err(|_| kerbside_crypto::CryptoError::IntegrityCheckFailed),
    };
    let key =
        key.unwrap_or_else(|_| Key::random(kerbside_crypto::EncType::Aes256CtsHmacSha196, rng));
    let session = Key::random(kerbside_crypto::EncType::Aes256CtsHmacSha196, rng);
    let start = clock::offset(now, t.start_offset_seconds);
    let end = clock::offset(now, t.end_offset_seconds);
    let flags = tf::INITIAL | tf::PRE_AUTHENT;
    let part = EncTicketPart {
        flags: TicketFlags::from(flags),
        key: EncryptionKey::new(session.etype().id(), session.bytes().to_vec()),
        crealm: p.realm.clone(),
        cname: PrincipalName {
            name_type: 1,
            name_string: vec!["alice".to_owned()],
        },
        transited: TransitedEncoding {
            tr_type: 1,
            contents: Vec::new(),
        },
        authtime: to_kerberos_time(start),
        starttime: Some(to_kerberos_time(start)),
        endtime: to_kerberos_time(end),
        renew_till: None,
        caddr: None,
        authorization_data: None,
    };
    let cipher = key.encrypt(2, &part.build(), rng);
    let comps = components(&server_name);
    Credentials {
        client: Principal::user("alice", &p.realm),
        server: Principal::service(
            comps.first().map_or("", String::as_str),
            comps.get(1).map_or("", String::as_str),
            &p.realm,
        ),
        ticket: Ticket {
            tkt_vno: 5,
            realm: p.realm.clone(),
            sname: principal_name(&server_name),
            enc_part: EncryptedData::new(18, Some(t.kvno.unwrap_or(p.service_kvno)), cipher),
        },
        session_key: session,
        flags,
        auth_time: start,
        start_time: start,
        end_time: end,
        renew_till: None,
    }
}

fn ntlm_client(r: &ConversationRecipe, p: &AcceptParams, send_mic: bool) -> NtlmClient {
    NtlmClient::new(
        NtlmCredentials::password(&r.user, "LAB", &r.password),
        NtlmClientConfig {
            target_spn: Some(p.service.clone()),
            send_mic,
            ..NtlmClientConfig::default()
        },
    )
}

enum Initiator {
    Spnego(Box<SpnegoInitiator>),
    Krb(Box<Option<KrbInitiator>>),
    Ntlm(Box<NtlmClient>),
}

/// Applies the edits for `leg` to a token.
pub(crate) fn apply(edits: &[TokenEdit], leg: usize, token: Vec<u8>) -> Vec<u8> {
    let mut t = token;
    for e in edits.iter().filter(|e| e.leg == leg) {
        t = match e.action.as_str() {
            "strip-krb5" => match NegotiationToken::decode(&t) {
                Ok(NegotiationToken::Init(mut init)) => {
                    let first_krb = init
                        .mech_types
                        .first()
                        .is_some_and(|m| *m == oid::KRB5 || *m == oid::MS_KRB5);
                    init.mech_types
                        .retain(|m| *m != oid::KRB5 && *m != oid::MS_KRB5);
                    if first_krb {
                        init.mech_token = None;
                    }
                    NegotiationToken::Init(init).encode_initial()
                }
                _ => t,
            },
            "reorder" => match NegotiationToken::decode(&t) {
                Ok(NegotiationToken::Init(mut init)) => {
                    init.mech_types.reverse();
                    init.mech_token = None;
                    NegotiationToken::Init(init).encode_initial()
                }
                _ => t,
            },
            "strip-mic" => match NegotiationToken::decode(&t) {
                Ok(NegotiationToken::Resp(mut r)) => {
                    r.mech_list_mic = None;
                    NegotiationToken::Resp(r).encode()
                }
                _ => t,
            },
            "flip-mic" => match NegotiationToken::decode(&t) {
                Ok(NegotiationToken::Resp(mut r)) => {
                    if let Some(m) = r.mech_list_mic.as_mut()
                        && let Some(b) = m.last_mut()
                    {
                        *b ^= 0x01;
                    }
                    NegotiationToken::Resp(r).encode()
                }
                _ => t,
            },
            "flip-byte" => {
                let len = t.len() as i64;
                let off = e.offset.unwrap_or(len / 2);
                let at = if off < 0 { len + off } else { off };
                if let Some(b) = usize::try_from(at).ok().and_then(|i| t.get_mut(i)) {
                    *b ^= 0x01;
                }
                t
            }
            "truncate" => {
                let n = t
                    .len()
                    .saturating_sub(e.offset.and_then(|o| usize::try_from(o).ok()).unwrap_or(1));
                t.truncate(n);
                t
            }
            "replace-with-garbage" => b"not a token".to_vec(),
            "iakerb-strip-message"
            | "iakerb-realm-other"
            | "iakerb-strip-cookie"
            | "iakerb-realm-lowercase" => match IakerbProxy::decode_any(&t) {
                // Either token form; written back in the form it came in.
                Ok((mut p, form)) => {
                    match e.action.as_str() {
                        "iakerb-strip-message" => p.message.clear(),
                        "iakerb-realm-other" => p.header.target_realm = "OTHER.TEST".to_owned(),
                        "iakerb-strip-cookie" => p.header.cookie = None,
                        _ => p.header.target_realm = p.header.target_realm.to_ascii_lowercase(),
                    }
                    p.encode_as(form)
                }
                Err(_) => t,
            },
            _ => t,
        };
    }
    t
}

/// Runs a recipe against kerbside's acceptor; returns the tokens that
/// reached the acceptor.
pub(crate) fn conversation(p: &AcceptParams, r: &ConversationRecipe, tc: u32) -> Vec<Vec<u8>> {
    let Ok(mut acc) = Conversation::new(p) else {
        return Vec::new();
    };
    let now = clock::parse(&p.clock).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut rng = ChaCha12Rng::seed_from_u64(0x6163_6300 ^ u64::from(tc));
    let client_now = clock::offset(
        now,
        r.ticket
            .as_ref()
            .map_or(0, |t| t.client_clock_offset_seconds),
    );
    let no_mic = r.edits.iter().any(|e| e.action == "client-without-mic");
    let mut init = match r.wrapper.as_str() {
        "spnego" => {
            let mut offered = Vec::new();
            for m in &r.mechs {
                match m.as_str() {
                    "krb5" => {
                        if let Some(t) = &r.ticket {
                            offered.push(OfferedMech::kerberos(credentials(p, t, now, &mut rng)));
                        }
                    }
                    "ntlm" => offered.push(OfferedMech::ntlm(ntlm_client(r, p, !no_mic))),
                    _ => {}
                }
            }
            let legacy = r.edits.iter().any(|e| e.action == "legacy-ms-krb5");
            match SpnegoInitiator::new(
                offered,
                SpnegoOptions {
                    legacy_ms_krb5: legacy,
                },
            ) {
                Ok(i) => Initiator::Spnego(Box::new(i)),
                Err(_) => return Vec::new(),
            }
        }
        "krb5" => Initiator::Krb(Box::new(None)),
        _ => Initiator::Ntlm(Box::new(ntlm_client(r, p, !no_mic))),
    };
    let first = match &mut init {
        Initiator::Spnego(i) => i.initial_token(client_now, &mut rng).ok(),
        Initiator::Krb(k) => {
            let creds = credentials(
                p,
                r.ticket.as_ref().unwrap_or(&good_ticket()),
                now,
                &mut rng,
            );
            KrbInitiator::start(
                &creds,
                &KrbInitiatorOptions::default(),
                client_now,
                &mut rng,
            )
            .ok()
            .map(|(i, t)| {
                **k = Some(i);
                t
            })
        }
        Initiator::Ntlm(n) => n.negotiate().ok(),
    };
    let Some(mut token) = first else {
        return Vec::new();
    };
    let mut sent = Vec::new();
    let mut leg = 0;
    for _ in 0..8 {
        let t = apply(&r.edits, leg, token);
        sent.push(t.clone());
        leg += 1;
        let Some(reply) = acc.feed(&t) else { break };
        if acc.is_done() {
            break;
        }
        let reply = apply(&r.edits, leg, reply);
        leg += 1;
        let next = match &mut init {
            Initiator::Spnego(i) => match i.step(&reply, client_now, &mut rng) {
                Ok(SpnegoStep::Continue(n)) | Ok(SpnegoStep::Complete(Some(n))) => Some(n),
                _ => None,
            },
            Initiator::Krb(_) => None,
            Initiator::Ntlm(n) => n.authenticate(&reply, client_now, &mut rng).ok(),
        };
        match next {
            Some(n) => token = n,
            None => break,
        }
    }
    sent
}

/// kerbside's IAKERB initiator set up as a recipe says, for `realm` and
/// `service` (the edits `realm-discovery`, `client-realm-other`,
/// `finished-draft`, `omit-finished`, `krb5-ap-framing`,
/// `windows-header-flags` choose its options; `mit_dialect` the token
/// form of MIT krb5 <= 1.21).
pub(crate) fn iakerb_initiator(
    r: &ConversationRecipe,
    realm: &str,
    service: &str,
    mit_dialect: bool,
) -> IakerbInitiator {
    let has = |a: &str| r.edits.iter().any(|e| e.action == a);
    let client_realm = if has("realm-discovery") {
        None
    } else if has("client-realm-other") {
        Some("OTHER.TEST".to_owned())
    } else {
        Some(realm.to_owned())
    };
    IakerbInitiator::new(
        IakerbRequest {
            user: vec![r.user.clone()],
            realm: client_realm,
            secret: Secret::Password(r.password.clone()),
            service: components(service),
            service_realm: Some(realm.to_owned()),
            tgt: None,
        },
        IakerbOptions {
            finished: if has("finished-draft") {
                FinishedFlavor::Draft03
            } else {
                FinishedFlavor::MitLegacy
            },
            omit_finished: has("omit-finished"),
            ap_framing: if has("krb5-ap-framing") {
                ApFraming::Krb5
            } else {
                ApFraming::Iakerb
            },
            header_flags: has("windows-header-flags").then(|| BitString {
                unused: 0,
                bytes: vec![0; 4],
            }),
            dialect: if mit_dialect {
                IakerbDialect::Mit
            } else {
                IakerbDialect::Draft03
            },
            ..IakerbOptions::default()
        },
    )
}

/// Runs an IAKERB initiator (kerbside's, MIT-compatible) against
/// kerbside's acceptor and its KDC; returns the tokens that reached the
/// acceptor.
pub(crate) fn iakerb_conversation(
    p: &AcceptParams,
    r: &ConversationRecipe,
    tc: u32,
) -> Vec<Vec<u8>> {
    let Ok(mut acc) = Conversation::new(p) else {
        return Vec::new();
    };
    let now = clock::parse(&p.clock).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut rng = ChaCha12Rng::seed_from_u64(0x6961_6b00 ^ u64::from(tc));
    let mut init = iakerb_initiator(r, &p.realm, &p.service, false);
    let Ok(mut token) = init.initial_token(now, &mut rng) else {
        return Vec::new();
    };
    let mut sent = Vec::new();
    let mut leg = 0;
    for _ in 0..12 {
        let t = apply(&r.edits, leg, token);
        sent.push(t.clone());
        leg += 1;
        let Some(reply) = acc.feed(&t) else { break };
        if acc.is_done() {
            break;
        }
        let reply = apply(&r.edits, leg, reply);
        leg += 1;
        match init.step(&reply, now, &mut rng) {
            Ok(IakerbStep::Continue(n)) | Ok(IakerbStep::Complete(Some(n))) => token = n,
            _ => break,
        }
    }
    sent
}

/// The three NTLM messages of a successful raw exchange (for wire-ntlm).
pub(crate) fn ntlm_messages() -> [Vec<u8>; 3] {
    let p = params("negotiate", true);
    let r = recipe("ntlm", &["ntlm"], None);
    let tokens = conversation(&p, &r, 7000);
    let challenge = Conversation::new(&p)
        .ok()
        .and_then(|mut c| tokens.first().and_then(|t| c.feed(t)))
        .unwrap_or_default();
    [
        tokens.first().cloned().unwrap_or_default(),
        challenge,
        tokens.get(1).cloned().unwrap_or_default(),
    ]
}

fn steps(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn complete(steps_: &[&str], client: &str, mechanism: &str) -> AcceptExpected {
    AcceptExpected {
        steps: steps(steps_),
        outcome: "complete".to_owned(),
        error: None,
        krb_code: None,
        client: Some(client.to_owned()),
        mechanism: Some(mechanism.to_owned()),
    }
}

fn reject(steps_: &[&str], error: &str, krb_code: Option<i32>) -> AcceptExpected {
    AcceptExpected {
        steps: steps(steps_),
        outcome: "reject".to_owned(),
        error: Some(error.to_owned()),
        krb_code,
        client: None,
        mechanism: None,
    }
}

fn at(
    p: &AcceptParams,
    tc: u32,
    id: &str,
    comment: &str,
    flags: &[&str],
    result: Verdict,
    r: ConversationRecipe,
    expected: AcceptExpected,
) -> ATest {
    let made = if r.wrapper == "iakerb" {
        iakerb_conversation(p, &r, tc)
    } else {
        conversation(p, &r, tc)
    };
    let tokens = made.iter().map(hex::encode).collect();
    test(
        tc,
        id,
        comment,
        flags,
        result,
        AcceptInput { tokens, recipe: r },
        expected,
    )
}

fn with_edits(mut r: ConversationRecipe, edits: Vec<TokenEdit>) -> ConversationRecipe {
    r.edits = edits;
    r
}

fn ticket_with(f: fn(&mut ServiceTicketRecipe)) -> Option<ServiceTicketRecipe> {
    let mut t = good_ticket();
    f(&mut t);
    Some(t)
}

pub(crate) fn suites() -> Vec<VectorFile> {
    vec![iakerb_suite(), spnego_suite(), ntlm_suite()]
}

fn iakerb_params(f: fn(&mut IakerbParams)) -> AcceptParams {
    let mut ia = IakerbParams {
        realms: vec!["LAB.TEST".to_owned()],
        require_finished: true,
        issue_cookie: false,
        reply_style: "mit".to_owned(),
        kdc: "answers".to_owned(),
        principals: super::kdc::lab_principals(),
    };
    f(&mut ia);
    AcceptParams {
        mode: "kerberos-only".to_owned(),
        iakerb: Some(ia),
        ..params("kerberos-only", true)
    }
}

fn iakerb_suite() -> VectorFile {
    let mut s = Suite::new(
        "iakerb-acceptor",
        "An IAKERB acceptor (draft-ietf-kitten-iakerb-03 as MIT implements it, with Microsoft's \
         variant): it relays the initiator's AS and TGS exchanges to its KDC inside IAKERB_PROXY \
         tokens, answers realm discovery, refuses defective tokens and unknown realms (85), \
         reports a silent KDC (86), and checks the finished checksum over the transcript.",
    );
    use Verdict::{Acceptable, Invalid, Valid};
    let ia = || recipe("iakerb", &["iakerb"], None);
    let with = |edits: &[(usize, &str)]| {
        with_edits(ia(), edits.iter().map(|(l, a)| edit(*l, a)).collect())
    };
    let p = iakerb_params(|_| {});
    let full = vec![
        "proxy LAB.TEST as-req; continue iakerb realm=LAB.TEST msg=krb-error-25",
        "proxy LAB.TEST as-req; continue iakerb realm=LAB.TEST msg=as-rep",
        "proxy LAB.TEST tgs-req; continue iakerb realm=LAB.TEST msg=tgs-rep",
        "complete ap-rep",
    ];
    let tests = vec![
        at(
            &p,
            17001,
            "iakerb.full-exchange",
            "AS-REQ (PREAUTH_REQUIRED passes through), pre-authenticated AS-REQ, TGS-REQ, each relayed to the KDC; then the AP-REQ with the finished checksum (MIT <= 1.21 flavour: extension 1, usage 42): mutual AP-REP.",
            &["IakerbProxying", "IakerbFinished"],
            Valid,
            ia(),
            complete(&full, ALICE_KRB, "kerberos"),
        ),
        at(
            &p,
            17002,
            "iakerb.realm-discovery",
            "An empty target-realm and no message first: the acceptor answers with its realm (draft §3.1), then the exchange proceeds.",
            &["IakerbRealmDiscovery", "IakerbProxying"],
            Valid,
            with(&[(99, "realm-discovery")]),
            complete(
                &[&["continue iakerb realm=LAB.TEST msg=none"][..], &full[..]].concat(),
                ALICE_KRB,
                "kerberos",
            ),
        ),
        at(
            &p,
            17003,
            "iakerb.finished-draft-03",
            "The finished checksum in the draft-03 flavour (extension 2, usage 41).",
            &["IakerbFinished"],
            Valid,
            with(&[(99, "finished-draft")]),
            complete(&full, ALICE_KRB, "kerberos"),
        ),
        at(
            &p,
            17004,
            "iakerb.ap-req-krb5-oid",
            "The closing AP-REQ framed with the krb5 OID (as scapy's client sent it to Windows).",
            &["IakerbProxying", "MechOid"],
            Valid,
            with(&[(99, "krb5-ap-framing")]),
            complete(&full, ALICE_KRB, "kerberos"),
        ),
        at(
            &p,
            17005,
            "iakerb.windows-header-flags",
            "Initiator tokens carrying Windows' all-zero header-flags [3].",
            &["IakerbHeaderFlags"],
            Valid,
            with(&[(99, "windows-header-flags")]),
            complete(&full, ALICE_KRB, "kerberos"),
        ),
        at(
            &p,
            17006,
            "iakerb.finished-missing",
            "An AP-REQ without the finished checksum after an IAKERB exchange: refused (MIT: GSS_S_BAD_SIG; kerbside answers KRB_AP_ERR_MODIFIED in a KRB-ERROR token).",
            &["IakerbFinished"],
            Invalid,
            with(&[(99, "omit-finished")]),
            reject(
                &full[..3]
                    .iter()
                    .copied()
                    .chain(["reject krb-error-41"])
                    .collect::<Vec<_>>(),
                "kerberos",
                Some(41),
            ),
        ),
        at(
            &p,
            17007,
            "iakerb.transcript-altered",
            "A man in the middle lower-cases the realm in the acceptor's first reply: the initiator's transcript differs and the finished checksum does not verify.",
            &["IakerbFinished"],
            Invalid,
            with(&[(1, "iakerb-realm-lowercase")]),
            reject(
                &full[..3]
                    .iter()
                    .copied()
                    .chain(["reject krb-error-41"])
                    .collect::<Vec<_>>(),
                "kerberos",
                Some(41),
            ),
        ),
        at(
            &p,
            17008,
            "iakerb.unknown-realm",
            "A request for OTHER.TEST, a realm whose KDC the acceptor does not reach: KRB_AP_ERR_IAKERB_KDC_NOT_FOUND (85) in an IAKERB token, nothing forwarded.",
            &["IakerbProxying"],
            Invalid,
            with(&[(99, "client-realm-other")]),
            reject(
                &["reject iakerb realm=OTHER.TEST msg=krb-error-85"],
                "iakerb",
                Some(85),
            ),
        ),
        at(
            &p,
            17009,
            "iakerb.realm-without-message",
            "A target-realm without a KDC message (defective: MIT KRB5_BAD_MSIZE).",
            &["IakerbToken", "MalformedToken"],
            Invalid,
            with(&[(0, "iakerb-strip-message")]),
            reject(&["reject none"], "iakerb", None),
        ),
        at(
            &p,
            17010,
            "iakerb.realm-disagrees",
            "The header routes to OTHER.TEST while the AS-REQ is for LAB.TEST.",
            &["IakerbToken", "MalformedToken"],
            Invalid,
            with(&[(0, "iakerb-realm-other")]),
            reject(&["reject none"], "iakerb", None),
        ),
        at(
            &p,
            17011,
            "iakerb.garbage",
            "A first token that is not a GSS token.",
            &["MalformedToken"],
            Invalid,
            with(&[(0, "replace-with-garbage")]),
            reject(&["reject none"], "malformed", None),
        ),
    ];
    s.group(TestGroup::GssAccept(group("host/app.lab.test relaying to the LAB.TEST KDC (MIT reply style, finished required, no cookies).", p, tests)));
    let silent = iakerb_params(|i| i.kdc = "silent".to_owned());
    let t2 = vec![at(
        &silent,
        17020,
        "iakerb.kdc-silent",
        "The acceptor's KDC does not answer: KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE (86) in an IAKERB token.",
        &["IakerbProxying"],
        Invalid,
        ia(),
        reject(
            &["proxy LAB.TEST as-req; reject iakerb realm=LAB.TEST msg=krb-error-86"],
            "iakerb",
            Some(86),
        ),
    )];
    s.group(TestGroup::GssAccept(group(
        "An acceptor whose KDC is unreachable.",
        silent,
        t2,
    )));
    let cookie = iakerb_params(|i| i.issue_cookie = true);
    let t3 = vec![
        at(
            &cookie,
            17030,
            "iakerb.cookie-echoed",
            "The acceptor issues a cookie in every reply; the initiator echoes it verbatim (draft §3).",
            &["IakerbProxying"],
            Valid,
            ia(),
            complete(
                &[
                    "proxy LAB.TEST as-req; continue iakerb realm=LAB.TEST msg=krb-error-25 cookie",
                    "proxy LAB.TEST as-req; continue iakerb realm=LAB.TEST msg=as-rep cookie",
                    "proxy LAB.TEST tgs-req; continue iakerb realm=LAB.TEST msg=tgs-rep cookie",
                    "complete ap-rep",
                ],
                ALICE_KRB,
                "kerberos",
            ),
        ),
        at(
            &cookie,
            17031,
            "iakerb.cookie-dropped",
            "The second request does not echo the cookie: refused before reaching the KDC.",
            &["IakerbToken"],
            Invalid,
            with(&[(2, "iakerb-strip-cookie")]),
            reject(
                &[
                    "proxy LAB.TEST as-req; continue iakerb realm=LAB.TEST msg=krb-error-25 cookie",
                    "reject none",
                ],
                "iakerb",
                None,
            ),
        ),
    ];
    s.group(TestGroup::GssAccept(group(
        "An acceptor that issues cookies.",
        cookie,
        t3,
    )));
    let windows = iakerb_params(|i| i.reply_style = "windows".to_owned());
    let t4 = vec![at(
        &windows,
        17040,
        "iakerb.windows-reply-style",
        "Replies in Windows' style (target-realm \".\", header-flags 01 00 00 00): an initiator must keep using its own realm.",
        &["IakerbHeaderFlags", "WindowsCapture"],
        Acceptable,
        ia(),
        complete(
            &[
                "proxy LAB.TEST as-req; continue iakerb realm=. msg=krb-error-25",
                "proxy LAB.TEST as-req; continue iakerb realm=. msg=as-rep",
                "proxy LAB.TEST tgs-req; continue iakerb realm=. msg=tgs-rep",
                "complete ap-rep",
            ],
            ALICE_KRB,
            "kerberos",
        ),
    )];
    s.group(TestGroup::GssAccept(group(
        "An acceptor answering like Windows build 29617.",
        windows,
        t4,
    )));
    let off = params("kerberos-only", true);
    let t5 = vec![at(
        &off,
        17050,
        "iakerb.not-configured",
        "An acceptor without IAKERB refuses the token (MIT offers IAKERB only when asked, krb5#303).",
        &["MechanismPolicy"],
        Invalid,
        ia(),
        reject(&["reject none"], "mechanism-not-accepted", None),
    )];
    s.group(TestGroup::GssAccept(group(
        "An acceptor without IAKERB.",
        off,
        t5,
    )));
    s.finish()
}

const ALICE_KRB: &str = "alice@LAB.TEST";
const ALICE_NTLM: &str = "LAB\\alice";

fn spnego_suite() -> VectorFile {
    let mut s = Suite::new(
        "spnego-acceptor",
        "A GSS acceptor speaking SPNEGO (RFC 4178, MS-SPNG) with Kerberos and NTLM, and raw \
         RFC 4121 Kerberos: mechanism selection, the mechListMIC rules, AP-REQ checks, and a \
         man in the middle stripping or reordering mechanisms or tampering with the MIC.",
    );
    let p = params("negotiate", true);
    use Verdict::{Invalid, Valid};
    let krb_ntlm = |t| recipe("spnego", &["krb5", "ntlm"], t);
    let ok_krb = complete(
        &["complete spnego accept-completed mech=krb5 token=ap-rep"],
        ALICE_KRB,
        "kerberos",
    );
    let krb_err = |code: i32| {
        reject(
            &[&format!(
                "reject spnego reject mech=krb5 token=krb-error-{code}"
            )],
            "kerberos",
            Some(code),
        )
    };
    let tests = vec![
        at(
            &p,
            18001,
            "spnego.krb5.optimistic",
            "[krb5, ntlm] with an optimistic AP-REQ: Kerberos is both peers' first choice, one leg, mutual AP-REP, no MIC needed (RFC 4178 §5).",
            &["SpnegoKerberos"],
            Valid,
            krb_ntlm(Some(good_ticket())),
            ok_krb.clone(),
        ),
        at(
            &p,
            18002,
            "spnego.krb5.only",
            "[krb5] alone.",
            &["SpnegoKerberos"],
            Valid,
            recipe("spnego", &["krb5"], Some(good_ticket())),
            ok_krb.clone(),
        ),
        at(
            &p,
            18003,
            "spnego.krb5.legacy-ms-oid",
            "Windows' list [MS-KRB5, KRB5, NTLM] with the AP-REQ under the legacy OID.",
            &["SpnegoKerberos", "MechOid"],
            Valid,
            with_edits(
                krb_ntlm(Some(good_ticket())),
                vec![edit(99, "legacy-ms-krb5")],
            ),
            complete(
                &["complete spnego accept-completed mech=ms-krb5 token=ap-rep"],
                ALICE_KRB,
                "kerberos",
            ),
        ),
        at(
            &p,
            18004,
            "spnego.ntlm.only",
            "[ntlm] alone: NEGOTIATE, CHALLENGE, AUTHENTICATE; NTLM is not the acceptor's first choice, so the MICs are exchanged.",
            &["SpnegoNtlm", "MechListMic"],
            Valid,
            recipe("spnego", &["ntlm"], None),
            complete(
                &[
                    "continue spnego request-mic mech=ntlm token=ntlm-challenge",
                    "complete spnego accept-completed mic",
                ],
                ALICE_NTLM,
                "ntlm",
            ),
        ),
        at(
            &p,
            18005,
            "spnego.downgrade.strip-krb5",
            "A man in the middle removes Kerberos from [krb5, ntlm]: the initiator's mechListMIC over the original list does not verify.",
            &["MechListMic", "DowngradeAttack"],
            Invalid,
            with_edits(krb_ntlm(Some(good_ticket())), vec![edit(0, "strip-krb5")]),
            reject(
                &[
                    "continue spnego request-mic mech=ntlm",
                    "continue spnego accept-incomplete token=ntlm-challenge",
                    "reject spnego reject",
                ],
                "downgrade-detected",
                None,
            ),
        ),
        at(
            &p,
            18006,
            "spnego.downgrade.reorder",
            "A man in the middle reorders [krb5, ntlm] to [ntlm, krb5].",
            &["MechListMic", "DowngradeAttack"],
            Invalid,
            with_edits(krb_ntlm(Some(good_ticket())), vec![edit(0, "reorder")]),
            reject(
                &[
                    "continue spnego request-mic mech=ntlm",
                    "continue spnego accept-incomplete token=ntlm-challenge",
                    "reject spnego reject",
                ],
                "downgrade-detected",
                None,
            ),
        ),
        at(
            &p,
            18007,
            "spnego.ntlm.mic-tampered",
            "[ntlm]: the initiator's mechListMIC has one bit flipped.",
            &["MechListMic"],
            Invalid,
            with_edits(recipe("spnego", &["ntlm"], None), vec![edit(2, "flip-mic")]),
            reject(
                &[
                    "continue spnego request-mic mech=ntlm token=ntlm-challenge",
                    "reject spnego reject",
                ],
                "downgrade-detected",
                None,
            ),
        ),
        at(
            &p,
            18008,
            "spnego.ntlm.mic-stripped",
            "[ntlm]: the initiator's mechListMIC is removed although it is required.",
            &["MechListMic"],
            Invalid,
            with_edits(
                recipe("spnego", &["ntlm"], None),
                vec![edit(2, "strip-mic")],
            ),
            reject(
                &[
                    "continue spnego request-mic mech=ntlm token=ntlm-challenge",
                    "reject spnego reject",
                ],
                "downgrade-detected",
                None,
            ),
        ),
        at(
            &p,
            18009,
            "spnego.krb5.expired-ticket",
            "A service ticket that ended an hour ago: KRB_AP_ERR_TKT_EXPIRED in a KRB-ERROR token.",
            &["ApReqChecks"],
            Invalid,
            krb_ntlm(ticket_with(|t| {
                t.start_offset_seconds = -40_000;
                t.end_offset_seconds = -3600;
            })),
            krb_err(32),
        ),
        at(
            &p,
            18010,
            "spnego.krb5.not-yet-valid",
            "A service ticket that starts in an hour: KRB_AP_ERR_TKT_NYV.",
            &["ApReqChecks"],
            Invalid,
            krb_ntlm(ticket_with(|t| {
                t.start_offset_seconds = 3600;
                t.end_offset_seconds = 7200;
            })),
            krb_err(33),
        ),
        at(
            &p,
            18011,
            "spnego.krb5.wrong-service-key",
            "A ticket sealed with another password: it does not decrypt. kerbside answers KRB_AP_ERR_MODIFIED as Windows does (MIT's krb5_rd_req reports KRB_AP_ERR_BAD_INTEGRITY).",
            &["ApReqChecks"],
            Invalid,
            krb_ntlm(ticket_with(|t| {
                t.sealing_password = Some("not-apppw".into())
            })),
            krb_err(41),
        ),
        at(
            &p,
            18012,
            "spnego.krb5.skew",
            "The initiator's clock 10 minutes ahead: KRB_AP_ERR_SKEW.",
            &["ApReqChecks", "ClockSkew"],
            Invalid,
            krb_ntlm(ticket_with(|t| t.client_clock_offset_seconds = 600)),
            krb_err(37),
        ),
        at(
            &p,
            18013,
            "spnego.krb5.wrong-kvno",
            "A ticket naming kvno 5 of the service key (the acceptor has kvno 1).",
            &["ApReqChecks"],
            Invalid,
            krb_ntlm(ticket_with(|t| t.kvno = Some(5))),
            krb_err(44),
        ),
        at(
            &p,
            18014,
            "spnego.krb5.other-service",
            "A ticket for host/other.lab.test presented to host/app.lab.test.",
            &["ApReqChecks"],
            Invalid,
            krb_ntlm(ticket_with(|t| {
                t.server = Some("host/other.lab.test".into());
                t.sealing_password = Some("otherpw".into());
            })),
            krb_err(35),
        ),
        at(
            &p,
            18015,
            "spnego.ntlm.wrong-password",
            "[ntlm] with the wrong password.",
            &["SpnegoNtlm", "NtlmAuth"],
            Invalid,
            ConversationRecipe {
                password: "not-alicepw".into(),
                ..recipe("spnego", &["ntlm"], None)
            },
            reject(
                &[
                    "continue spnego request-mic mech=ntlm token=ntlm-challenge",
                    "reject spnego reject",
                ],
                "ntlm",
                None,
            ),
        ),
        at(
            &p,
            18016,
            "spnego.malformed.garbage-first-token",
            "A first token that is not a GSS token.",
            &["MalformedToken"],
            Invalid,
            with_edits(
                krb_ntlm(Some(good_ticket())),
                vec![edit(0, "replace-with-garbage")],
            ),
            reject(&["reject none"], "malformed", None),
        ),
        at(
            &p,
            18017,
            "spnego.malformed.truncated-init",
            "The NegTokenInit cut short by one byte.",
            &["MalformedToken", "Truncated"],
            Invalid,
            with_edits(krb_ntlm(Some(good_ticket())), vec![edit(0, "truncate")]),
            reject(&["reject none"], "malformed", None),
        ),
        at(
            &p,
            18018,
            "raw.krb5.ap-req",
            "A raw RFC 4121 AP-REQ token (no SPNEGO): mutual AP-REP.",
            &["ApReqChecks"],
            Valid,
            recipe("krb5", &["krb5"], Some(good_ticket())),
            complete(&["complete ap-rep"], ALICE_KRB, "kerberos"),
        ),
        at(
            &p,
            18019,
            "raw.krb5.expired",
            "A raw AP-REQ with an expired ticket: a KRB-ERROR token.",
            &["ApReqChecks"],
            Invalid,
            recipe(
                "krb5",
                &["krb5"],
                ticket_with(|t| {
                    t.start_offset_seconds = -40_000;
                    t.end_offset_seconds = -3600;
                }),
            ),
            reject(&["reject krb-error-32"], "kerberos", Some(32)),
        ),
    ];
    s.group(TestGroup::GssAccept(group(
        "host/app.lab.test (aes256 key from apppw, kvno 1) accepting Kerberos and NTLM (alice/alicepw), MIC required.",
        p,
        tests,
    )));
    let krb_only = params("kerberos-only", true);
    let t2 = vec![at(
        &krb_only,
        18030,
        "spnego.kerberos-only.ntlm-offered",
        "A Kerberos-only acceptor offered [ntlm]: no common mechanism.",
        &["MechanismPolicy"],
        Invalid,
        recipe("spnego", &["ntlm"], None),
        reject(&["reject spnego reject"], "no-common-mechanism", None),
    )];
    s.group(TestGroup::GssAccept(group(
        "A Kerberos-only acceptor.",
        krb_only,
        t2,
    )));
    let ntlm_only = params("ntlm-only", true);
    let t3 = vec![at(
        &ntlm_only,
        18031,
        "spnego.ntlm-only.krb5-first",
        "An NTLM-only acceptor (a printer) offered [krb5, ntlm]: it selects NTLM; the MICs protect the choice.",
        &["MechanismPolicy", "SpnegoNtlm"],
        Valid,
        krb_ntlm(Some(good_ticket())),
        complete(
            &[
                "continue spnego request-mic mech=ntlm",
                "continue spnego accept-incomplete token=ntlm-challenge",
                "complete spnego accept-completed mic",
            ],
            ALICE_NTLM,
            "ntlm",
        ),
    )];
    s.group(TestGroup::GssAccept(group(
        "An NTLM-only acceptor.",
        ntlm_only,
        t3,
    )));
    s.finish()
}

fn ntlm_suite() -> VectorFile {
    let mut s = Suite::new(
        "ntlm-acceptor",
        "A raw NTLMSSP acceptor (MS-NLMP): NTLMv2 against a local account, MIC, wrong \
         passwords, unknown users, tampered responses, messages out of order.",
    );
    let p = params("negotiate", true);
    use Verdict::{Acceptable, Invalid, Valid};
    let ntlm = || recipe("ntlm", &["ntlm"], None);
    let challenged = "continue ntlm-challenge";
    let tests = vec![
        at(
            &p,
            19001,
            "ntlm.success",
            "NEGOTIATE, CHALLENGE, AUTHENTICATE with NTLMv2 and MIC: accepted.",
            &["NtlmMessage", "NtlmAuth"],
            Valid,
            ntlm(),
            complete(&[challenged, "complete none"], ALICE_NTLM, "ntlm"),
        ),
        at(
            &p,
            19002,
            "ntlm.wrong-password",
            "The NTLMv2 response made with the wrong password.",
            &["NtlmAuth"],
            Invalid,
            ConversationRecipe {
                password: "not-alicepw".into(),
                ..ntlm()
            },
            reject(&[challenged, "reject none"], "ntlm", None),
        ),
        at(
            &p,
            19003,
            "ntlm.unknown-user",
            "A user the acceptor has no account for.",
            &["NtlmAuth"],
            Invalid,
            ConversationRecipe {
                user: "mallory".into(),
                ..ntlm()
            },
            reject(&[challenged, "reject none"], "ntlm", None),
        ),
        at(
            &p,
            19004,
            "ntlm.mic-tampered",
            "The MIC (bytes 72..88 of AUTHENTICATE) with one bit flipped.",
            &["NtlmAuth"],
            Invalid,
            with_edits(
                ntlm(),
                vec![TokenEdit {
                    leg: 2,
                    action: "flip-byte".into(),
                    offset: Some(80),
                }],
            ),
            reject(&[challenged, "reject none"], "ntlm", None),
        ),
        at(
            &p,
            19005,
            "ntlm.mic-absent",
            "No MIC although the CHALLENGE carried a timestamp and the acceptor requires it.",
            &["NtlmAuth"],
            Invalid,
            with_edits(ntlm(), vec![edit(99, "client-without-mic")]),
            reject(&[challenged, "reject none"], "ntlm", None),
        ),
        at(
            &p,
            19006,
            "ntlm.response-tampered",
            "The last byte of AUTHENTICATE (inside the payload) flipped.",
            &["NtlmAuth"],
            Invalid,
            with_edits(
                ntlm(),
                vec![TokenEdit {
                    leg: 2,
                    action: "flip-byte".into(),
                    offset: Some(-1),
                }],
            ),
            reject(&[challenged, "reject none"], "ntlm", None),
        ),
        at(
            &p,
            19007,
            "ntlm.user-case",
            "The user name in upper case: NTOWFv2 upper-cases it (MS-NLMP §3.3.2), so it verifies.",
            &["NtlmAuth"],
            Acceptable,
            ConversationRecipe {
                user: "ALICE".into(),
                ..ntlm()
            },
            complete(&[challenged, "complete none"], "LAB\\alice", "ntlm"),
        ),
        at(
            &p,
            19008,
            "ntlm.malformed-negotiate",
            "A NEGOTIATE with a wrong signature.",
            &["NtlmMessage", "BadConstant"],
            Invalid,
            with_edits(
                ntlm(),
                vec![TokenEdit {
                    leg: 0,
                    action: "flip-byte".into(),
                    offset: Some(1),
                }],
            ),
            reject(&["reject none"], "malformed", None),
        ),
        at(
            &p,
            19009,
            "ntlm.truncated-authenticate",
            "AUTHENTICATE cut at half its length.",
            &["NtlmMessage", "Truncated"],
            Invalid,
            with_edits(
                ntlm(),
                vec![TokenEdit {
                    leg: 2,
                    action: "truncate".into(),
                    offset: Some(150),
                }],
            ),
            reject(&[challenged, "reject none"], "ntlm", None),
        ),
    ];
    s.group(TestGroup::GssAccept(group(
        "A raw NTLM acceptor with alice/alicepw, MIC required.",
        p,
        tests,
    )));
    let krb_only = params("kerberos-only", true);
    let t2 = vec![at(
        &krb_only,
        19020,
        "ntlm.refused-by-kerberos-only",
        "A Kerberos-only acceptor refuses raw NTLMSSP.",
        &["MechanismPolicy"],
        Invalid,
        ntlm(),
        reject(&["reject none"], "mechanism-not-accepted", None),
    )];
    s.group(TestGroup::GssAccept(group(
        "A Kerberos-only acceptor.",
        krb_only,
        t2,
    )));
    s.finish()
}
