//! RFC 4121 tokens and the 0x8003 checksum on MIT's own bytes: MIT
//! `gss-client` talks to MIT `gss-server` through a recording TCP relay in
//! this test. From the recorded exchange we decrypt the AP-REQ (ticket with
//! the service key, authenticator with the session key), decode the GSS
//! authenticator checksum, decrypt the AP-REP, then unwrap the client's
//! Wrap token and verify the server's MIC token with `gss::PerMessage`.
//! The service keytab gss-server reads is written by our keytab writer.
//!
//! Skips when MIT krb5 / krb5-gss-samples are missing, unless
//! KERBSIDE_REQUIRE_PEERS=1.

use kerbside_testsupport::mit as common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kerberos_asn1::{ApRep, ApReq, Asn1Object, Authenticator, EncApRepPart, EncTicketPart};
use kerbside_crypto::gss::{PerMessage, Role};
use kerbside_crypto::gss_checksum::{self, FinishedFlavor};
use kerbside_crypto::keytab::{self, KeytabEntry};
use kerbside_crypto::{EncType, Key, default_salt};
use kerbside_wire::gss::GssChecksum;

const REALM: &str = "GSS.TEST";
/// gss-sample token flags (src/appl/gss-sample/gss-misc.h).
const TOKEN_CONTEXT: u8 = 2;
const TOKEN_DATA: u8 = 4;
const TOKEN_MIC: u8 = 8;
const TOKEN_WRAPPED: u8 = 32;
const TOKEN_ENCRYPTED: u8 = 64;

type Log = Arc<Mutex<Vec<(bool, Vec<u8>)>>>;

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Accept `conns` connections on `listener`, relay each to `upstream`,
/// and record (client_to_server, bytes) chunks per connection.
fn relay(listener: TcpListener, upstream: u16, conns: usize) -> std::thread::JoinHandle<Vec<Log>> {
    std::thread::spawn(move || {
        let mut logs = Vec::new();
        for _ in 0..conns {
            let (client, _) = listener.accept().unwrap();
            let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
            let log: Log = Arc::new(Mutex::new(Vec::new()));
            let pump = |mut from: TcpStream, mut to: TcpStream, c2s: bool, log: Log| {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    loop {
                        match from.read(&mut buf) {
                            Ok(0) | Err(_) => {
                                let _ = to.shutdown(std::net::Shutdown::Write);
                                break;
                            }
                            Ok(n) => {
                                log.lock().unwrap().push((c2s, buf[..n].to_vec()));
                                if to.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                })
            };
            let a = pump(
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                true,
                log.clone(),
            );
            let b = pump(server, client, false, log.clone());
            a.join().unwrap();
            b.join().unwrap();
            logs.push(log);
        }
        logs
    })
}

/// Split one direction of a gss-sample connection into (flags, token).
fn tokens(log: &Log, c2s: bool) -> Vec<(u8, Vec<u8>)> {
    let bytes: Vec<u8> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(d, _)| *d == c2s)
        .flat_map(|(_, b)| b.clone())
        .collect();
    let mut out = Vec::new();
    let mut p = 0;
    while p + 5 <= bytes.len() {
        let flags = bytes[p];
        let len = u32::from_be_bytes(bytes[p + 1..p + 5].try_into().unwrap()) as usize;
        out.push((flags, bytes[p + 5..p + 5 + len].to_vec()));
        p += 5 + len;
    }
    out
}

/// Strip RFC 2743 §3.1 framing (0x60, length, mech OID) and the 2-byte
/// TOK_ID from an initial/AP token; returns (tok_id, inner DER).
fn unframe(t: &[u8]) -> ([u8; 2], &[u8]) {
    assert_eq!(t[0], 0x60);
    let (_len, mut p) = if t[1] < 0x80 {
        (t[1] as usize, 2)
    } else {
        let n = (t[1] & 0x7f) as usize;
        (0, 2 + n)
    };
    assert_eq!(t[p], 0x06, "mech OID");
    let oid_len = t[p + 1] as usize;
    assert_eq!(
        &t[p + 2..p + 2 + oid_len],
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]
    );
    p += 2 + oid_len;
    ([t[p], t[p + 1]], &t[p + 2..])
}

fn key_of(k: &kerberos_asn1::EncryptionKey) -> Key {
    Key::from_wire(k.keytype, &k.keyvalue).unwrap()
}

fn check_exchange(log: &Log, service_key: &Key, message: &[u8], sealed: bool) {
    let c2s = tokens(log, true);
    let s2c = tokens(log, false);
    // Client: NOOP|CONTEXT_NEXT, CONTEXT (AP-REQ), DATA (wrap), NOOP.
    let ap_req_tok = &c2s
        .iter()
        .find(|t| t.0 & TOKEN_CONTEXT != 0)
        .expect("context token")
        .1;
    let (tok_id, der) = unframe(ap_req_tok);
    assert_eq!(tok_id, [0x01, 0x00], "KRB_AP_REQ token id");
    let (_, ap_req) = ApReq::parse(der).unwrap();
    let etp_bytes = service_key
        .decrypt(2, &ap_req.ticket.enc_part.cipher)
        .unwrap();
    let (_, etp) = EncTicketPart::parse(&etp_bytes).unwrap();
    let session = key_of(&etp.key);
    let auth_bytes = session.decrypt(11, &ap_req.authenticator.cipher).unwrap();
    let (_, auth) = Authenticator::parse(&auth_bytes).unwrap();
    let cksum = auth.cksum.expect("authenticator checksum");
    assert_eq!(cksum.cksumtype, gss_checksum::CKSUMTYPE_GSSAPI);
    let gc = GssChecksum::decode(&cksum.checksum).unwrap();
    // gss-client asks for mutual auth, replay and conf/integ by default.
    assert_ne!(gc.flags & gss_checksum::GSS_C_MUTUAL_FLAG, 0, "{gc:?}");
    assert_eq!(gc.bindings, [0u8; 16], "no channel bindings");
    assert!(gc.delegation.is_none());
    // Re-encoding MIT's checksum gives MIT's bytes.
    assert_eq!(gc.encode(), cksum.checksum);
    let initiator_subkey = auth.subkey.as_ref().map(key_of);
    let initiator_seq = u64::from(auth.seq_number.expect("seq-number"));

    let (tok_id, der) = unframe(
        &s2c.iter()
            .find(|t| t.0 & TOKEN_CONTEXT != 0)
            .expect("AP-REP")
            .1,
    );
    assert_eq!(tok_id, [0x02, 0x00], "KRB_AP_REP token id");
    let (_, ap_rep) = ApRep::parse(der).unwrap();
    let rep_bytes = session.decrypt(12, &ap_rep.enc_part.cipher).unwrap();
    let (_, rep) = EncApRepPart::parse(&rep_bytes).unwrap();
    // kerberos_asn1 0.2.1 models EncAPRepPart subkey and seq-number as
    // required (RFC 4120 has them OPTIONAL); MIT sends both here.
    let acceptor_subkey = Some(key_of(&rep.subkey));
    let acceptor_seq = u64::from(rep.seq_number);

    let ctx_key = initiator_subkey.clone().unwrap_or_else(|| session.clone());
    let acceptor = PerMessage::new(
        Role::Acceptor,
        ctx_key.clone(),
        acceptor_subkey.clone(),
        acceptor_seq,
    )
    .unwrap();
    let initiator =
        PerMessage::new(Role::Initiator, ctx_key, acceptor_subkey, initiator_seq).unwrap();

    let (flags, wrap) = c2s
        .iter()
        .find(|t| t.0 & TOKEN_DATA != 0)
        .expect("data token")
        .clone();
    assert_ne!(flags & TOKEN_WRAPPED, 0);
    assert_eq!(flags & TOKEN_ENCRYPTED != 0, sealed);
    assert_eq!(&wrap[..2], &[0x05, 0x04]);
    // The observation the brief asked for: MIT sends RRC 0 here.
    assert_eq!(&wrap[6..8], &[0, 0], "MIT gss-client RRC");
    let u = acceptor.unwrap(&wrap).unwrap();
    assert_eq!(u.data, message);
    assert_eq!(u.confidential, sealed);
    assert_eq!(u.seq, initiator_seq);

    let mic = &s2c
        .iter()
        .find(|t| t.0 & TOKEN_MIC != 0)
        .expect("server MIC token")
        .1;
    assert_eq!(&mic[..2], &[0x04, 0x04]);
    assert_eq!(initiator.verify_mic(message, mic), Ok(acceptor_seq));
    assert!(initiator.verify_mic(b"other message", mic).is_err());
}

#[test]
fn mit_gss_sample_exchange_verifies_with_our_tokens() {
    if !common::have_tools(&[
        "krb5kdc",
        "kdb5_util",
        "kadmin.local",
        "kinit",
        "gss-client",
        "gss-server",
    ]) {
        return;
    }
    let realm = common::MitRealm::start(
        "gss",
        REALM,
        &["aes256-cts-hmac-sha384-192", "aes256-cts-hmac-sha1-96"],
        &[
            "addprinc -pw alicepw alice".to_string(),
            "addprinc -e aes256-cts-hmac-sha384-192:normal -pw svc20pw host/svc20.test".to_string(),
            "addprinc -e aes256-cts-hmac-sha1-96:normal -pw svc18pw host/svc18.test".to_string(),
        ],
    );
    realm.run("kinit", &["alice"], Some("alicepw\n"));

    // The acceptor's keytab, written by us, with password-derived keys.
    let k20 = Key::from_password(
        EncType::Aes256CtsHmacSha384192,
        "svc20pw",
        &default_salt(REALM, &["host", "svc20.test"]),
    )
    .unwrap();
    let k18 = Key::from_password(
        EncType::Aes256CtsHmacSha196,
        "svc18pw",
        &default_salt(REALM, &["host", "svc18.test"]),
    )
    .unwrap();
    let kt = keytab::write(&[
        KeytabEntry::new(REALM, &["host", "svc20.test"], 3, 0, 1, &k20),
        KeytabEntry::new(REALM, &["host", "svc18.test"], 3, 0, 1, &k18),
    ]);
    std::fs::write(realm.dir.join("service.keytab"), kt).unwrap();

    for (svc, key, extra) in [
        ("svc20.test", &k20, None),
        ("svc18.test", &k18, None),
        ("svc20.test", &k20, Some("-nx")),
    ] {
        let server_port = common::free_port();
        // No -once: the readiness probe below is a connection of its own,
        // which gss-server drops after reading EOF.
        let server = KillOnDrop(
            realm
                .command("gss-server")
                .args(["-port", &server_port.to_string(), &format!("host@{svc}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        for _ in 0..300 {
            if TcpStream::connect(("127.0.0.1", server_port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }

        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let relay_port = listener.local_addr().unwrap().port();
        let relay = relay(listener, server_port, 1);
        let message = format!("hello {svc} {extra:?}");
        let mut args = vec!["-port".to_string(), relay_port.to_string()];
        if let Some(x) = extra {
            args.push(x.to_string());
        }
        args.extend([
            "127.0.0.1".to_string(),
            format!("host@{svc}"),
            message.clone(),
        ]);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        realm.run("gss-client", &argv, None);
        let logs = relay.join().unwrap();
        drop(server);
        check_exchange(&logs[0], key, message.as_bytes(), extra.is_none());
    }
}

/// Read one gss-sample token (flags, body) from `s`.
fn read_token(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut hdr = [0u8; 5];
    s.read_exact(&mut hdr).ok()?;
    let len = u32::from_be_bytes(hdr[1..5].try_into().unwrap()) as usize;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some((hdr[0], body))
}

fn write_token(s: &mut TcpStream, flags: u8, body: &[u8]) {
    let mut out = vec![flags];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    s.write_all(&out).unwrap();
}

/// One KDC exchange over TCP (RFC 4120 §7.2.2 record mark).
fn kdc_exchange(port: u16, req: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(&(req.len() as u32).to_be_bytes()).unwrap();
    s.write_all(req).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut rep = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut rep).unwrap();
    rep
}

/// DER TLV length at `b[1..]`: (header length, content length).
fn der_len(b: &[u8]) -> (usize, usize) {
    if b[1] < 0x80 {
        (2, b[1] as usize)
    } else {
        let n = (b[1] & 0x7f) as usize;
        (
            2 + n,
            b[2..2 + n].iter().fold(0, |a, &x| a << 8 | x as usize),
        )
    }
}

/// Body of a GSS token after the optional RFC 2743 framing (any mech OID)
/// and the 2-byte TOK_ID: (tok_id, rest).
fn token_body(t: &[u8]) -> ([u8; 2], &[u8]) {
    let mut b = t;
    if b[0] == 0x60 {
        let (h, _) = der_len(b);
        b = &b[h..];
        assert_eq!(b[0], 0x06);
        let (h, n) = der_len(b);
        b = &b[h + n..];
    }
    ([b[0], b[1]], &b[2..])
}

/// IAKERB (MIT `gss-client -iakerb`): a minimal IAKERB acceptor in this
/// test proxies the client's KDC requests to an MIT KDC, records the
/// conversation, and takes the final AP-REQ. Its 0x8003 checksum must carry
/// the IAKERB finished extension over every IAKERB token exchanged before
/// it (MIT 1.20: extension type 1, usage 42), and our
/// `verify_iakerb_finished` must accept it with the Authenticator subkey.
/// (MIT's own gss-server does not accept IAKERB with its default
/// credentials, hence the stand-in acceptor.)
#[test]
fn mit_iakerb_finished_checksum_verifies() {
    if !common::have_tools(&["krb5kdc", "kdb5_util", "kadmin.local", "gss-client"]) {
        return;
    }
    let realm = common::MitRealm::start(
        "iakerb",
        REALM,
        &["aes256-cts-hmac-sha1-96"],
        &[
            "addprinc -pw alicepw alice".to_string(),
            "addprinc -pw svcpw host/svc.test".to_string(),
        ],
    );
    let svc_key = Key::from_password(
        EncType::Aes256CtsHmacSha196,
        "svcpw",
        &default_salt(REALM, &["host", "svc.test"]),
    )
    .unwrap();
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let kdc_port = realm.port;
    let acceptor = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut conversation = Vec::new();
        loop {
            let (flags, tok) = read_token(&mut s).expect("client token");
            if flags & TOKEN_CONTEXT == 0 {
                continue; // TOKEN_NOOP | TOKEN_CONTEXT_NEXT
            }
            let (tok_id, body) = token_body(&tok);
            if tok_id == [0x01, 0x00] {
                return (conversation, body.to_vec());
            }
            assert_eq!(tok_id, [0x05, 0x01], "IAKERB proxy token");
            conversation.extend_from_slice(&tok);
            // IAKERB-HEADER (a SEQUENCE), then the KDC request.
            let (h, n) = der_len(body);
            let (header, req) = body.split_at(h + n);
            let rep = kdc_exchange(kdc_port, req);
            let mut reply = vec![0x05, 0x01];
            reply.extend_from_slice(header);
            reply.extend_from_slice(&rep);
            conversation.extend_from_slice(&reply);
            write_token(&mut s, TOKEN_CONTEXT, &reply);
        }
    });
    // The client fails once we hang up after the AP-REQ; only its tokens
    // matter here.
    let _ = realm
        .command("gss-client")
        .args([
            "-port",
            &port.to_string(),
            "-iakerb",
            "-user",
            "alice",
            "-pass",
            "alicepw",
            "127.0.0.1",
            "host@svc.test",
            "iakerb hello",
        ])
        .output()
        .unwrap();
    let (conversation, ap_req_der) = acceptor.join().unwrap();
    assert!(!conversation.is_empty());

    let (_, ap_req) = ApReq::parse(&ap_req_der).unwrap();
    let etp_bytes = svc_key.decrypt(2, &ap_req.ticket.enc_part.cipher).unwrap();
    let (_, etp) = EncTicketPart::parse(&etp_bytes).unwrap();
    let session = key_of(&etp.key);
    let auth_bytes = session.decrypt(11, &ap_req.authenticator.cipher).unwrap();
    let (_, auth) = Authenticator::parse(&auth_bytes).unwrap();
    let cksum = auth.cksum.expect("authenticator checksum");
    assert_eq!(cksum.cksumtype, gss_checksum::CKSUMTYPE_GSSAPI);
    let gc = GssChecksum::decode(&cksum.checksum).unwrap();
    assert_eq!(gc.encode(), cksum.checksum, "re-encodes byte-identically");
    let subkey = key_of(auth.subkey.as_ref().expect("authenticator subkey"));
    // MIT 1.20 sends the legacy flavour: extension type 1, usage 42.
    let (flavor, finished) =
        FinishedFlavor::find(|t| gc.extension(t)).expect("IAKERB finished extension");
    assert_eq!(flavor, FinishedFlavor::MitLegacy, "MIT 1.20.1 numbering");
    gss_checksum::verify_iakerb_finished(&subkey, &conversation, finished, flavor).unwrap();
    assert!(
        gss_checksum::verify_iakerb_finished(
            &subkey,
            &conversation,
            finished,
            FinishedFlavor::Draft03
        )
        .is_err()
    );
    // Any other conversation fails.
    let mut tampered = conversation.clone();
    tampered[20] ^= 1;
    assert!(gss_checksum::verify_iakerb_finished(&subkey, &tampered, finished, flavor).is_err());
    // And ours encodes MIT's bytes exactly (same key, same conversation).
    assert_eq!(
        gss_checksum::iakerb_finished(&subkey, &conversation, flavor),
        finished
    );
}

/// DER length octets.
fn der_length(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else {
        let b = (n as u32).to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        let mut v = vec![0x80 | (4 - skip) as u8];
        v.extend_from_slice(&b[skip..]);
        v
    }
}

/// RFC 2743 §3.1 framing with the krb5 mech OID and a TOK_ID.
fn frame_krb5(tok_id: [u8; 2], body: &[u8]) -> Vec<u8> {
    let oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];
    let inner_len = oid.len() + 2 + body.len();
    let mut t = vec![0x60];
    t.extend_from_slice(&der_length(inner_len));
    t.extend_from_slice(&oid);
    t.extend_from_slice(&tok_id);
    t.extend_from_slice(body);
    t
}

/// The other direction: MIT `gss-client` against a stand-in acceptor that
/// answers with an AP-REP *we* encrypted (usage 12, RFC 8009 enctypes 20
/// and 19, with an acceptor subkey we chose) and a MIC token *we* made over
/// the client's message. `gss-client` exits 0 only if MIT decrypted our
/// AP-REP and verified our MIC ("Signature verified"), so this checks our
/// 19/20 ciphertexts and RFC 4121 tokens with MIT as the verifier.
#[test]
fn mit_gss_client_accepts_our_ap_rep_and_mic() {
    if !common::have_tools(&[
        "krb5kdc",
        "kdb5_util",
        "kadmin.local",
        "kinit",
        "gss-client",
    ]) {
        return;
    }
    let realm = common::MitRealm::start(
        "ours",
        REALM,
        &["aes256-cts-hmac-sha384-192", "aes128-cts-hmac-sha256-128"],
        &[
            "addprinc -pw alicepw alice".to_string(),
            "addprinc -e aes256-cts-hmac-sha384-192:normal -pw s20pw host/s20.test".to_string(),
            "addprinc -e aes128-cts-hmac-sha256-128:normal -pw s19pw host/s19.test".to_string(),
        ],
    );
    realm.run("kinit", &["alice"], Some("alicepw\n"));
    for (svc, etype, pw) in [
        ("s20.test", EncType::Aes256CtsHmacSha384192, "s20pw"),
        ("s19.test", EncType::Aes128CtsHmacSha256128, "s19pw"),
    ] {
        let svc_key = Key::from_password(etype, pw, &default_salt(REALM, &["host", svc])).unwrap();
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = std::thread::spawn(move || {
            use rand_chacha::ChaCha12Rng;
            use rand_chacha::rand_core::SeedableRng;
            let mut rng = ChaCha12Rng::seed_from_u64(42);
            let (mut s, _) = listener.accept().unwrap();
            let ap_req_tok = loop {
                let (flags, tok) = read_token(&mut s).expect("context token");
                if flags & TOKEN_CONTEXT != 0 {
                    break tok;
                }
            };
            let (tok_id, der) = unframe(&ap_req_tok);
            assert_eq!(tok_id, [0x01, 0x00]);
            let (_, ap_req) = ApReq::parse(der).unwrap();
            let etp_bytes = svc_key.decrypt(2, &ap_req.ticket.enc_part.cipher).unwrap();
            let (_, etp) = EncTicketPart::parse(&etp_bytes).unwrap();
            let session = key_of(&etp.key);
            assert_eq!(session.etype(), svc_key.etype(), "session key enctype");
            let (_, auth) =
                Authenticator::parse(&session.decrypt(11, &ap_req.authenticator.cipher).unwrap())
                    .unwrap();
            let initiator_subkey = key_of(auth.subkey.as_ref().expect("subkey"));
            let initiator_seq = u64::from(auth.seq_number.expect("seq"));
            // Our AP-REP: a fresh acceptor subkey and sequence number.
            let acceptor_subkey = Key::random(session.etype(), &mut rng);
            let acceptor_seq: u32 = 0x0102_0304;
            let enc_part = EncApRepPart {
                ctime: auth.ctime.clone(),
                cusec: auth.cusec,
                subkey: kerberos_asn1::EncryptionKey {
                    keytype: acceptor_subkey.etype().id(),
                    keyvalue: acceptor_subkey.bytes().to_vec(),
                },
                seq_number: acceptor_seq,
            };
            let ap_rep = ApRep {
                pvno: 5,
                msg_type: 15,
                enc_part: kerberos_asn1::EncryptedData {
                    etype: session.etype().id(),
                    kvno: None,
                    cipher: session.encrypt(12, &enc_part.build(), &mut rng),
                },
            };
            write_token(
                &mut s,
                TOKEN_CONTEXT,
                &frame_krb5([0x02, 0x00], &ap_rep.build()),
            );
            let mut acceptor = PerMessage::new(
                Role::Acceptor,
                initiator_subkey,
                Some(acceptor_subkey),
                u64::from(acceptor_seq),
            )
            .unwrap();
            let (flags, wrap) = read_token(&mut s).expect("data token");
            assert_ne!(flags & TOKEN_DATA, 0);
            let u = acceptor.unwrap(&wrap).unwrap();
            assert_eq!(u.seq, initiator_seq);
            // gss-client asked for a MIC over the plaintext (TOKEN_SEND_MIC).
            write_token(&mut s, TOKEN_MIC, &acceptor.get_mic(&u.data));
            // The client ends with TOKEN_NOOP, or just closes.
            let _ = read_token(&mut s);
            u.data
        });
        let message = format!("to our acceptor {svc}");
        let out = realm.run(
            "gss-client",
            &[
                "-port",
                &port.to_string(),
                "127.0.0.1",
                &format!("host@{svc}"),
                &message,
            ],
            None,
        );
        assert!(out.contains("Signature verified"), "{out}");
        assert_eq!(acceptor.join().unwrap(), message.as_bytes());
    }
}
