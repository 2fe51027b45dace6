//! MIT `kinit` and `kvno` through our relay (`kdc = https://.../KdcProxy`,
//! `http_anchors = FILE:ca.pem`) to MIT `krb5kdc`.
//!
//! Skips with a message when MIT krb5 or its k5tls plugin is missing, unless
//! `KERBSIDE_REQUIRE_PEERS=1`.

use kerbside_testsupport::mit_lab as mit;
#[path = "support/relay.rs"]
mod relay;

use std::net::SocketAddr;
use std::sync::Arc;

use kerbside_net::https::{self, ClientCertPolicy};
use kerbside_relay::{AuditRecord, MemoryAudit, Outcome, PrefixPolicy, RealmRoute, RelayConfig};
use mit::MitRealm;

fn start_relay(config: RelayConfig, pki: &std::path::Path) -> (SocketAddr, Arc<MemoryAudit>) {
    let files = https::ensure_self_signed(pki, &[]).unwrap();
    let tls = https::server_config(
        https::load_certs(&files.cert).unwrap(),
        https::load_key(&files.key).unwrap(),
        &ClientCertPolicy::None,
    )
    .unwrap();
    relay::start_relay(config, Some(tls))
}

/// (request type, reply type, KRB-ERROR code, HTTP status) of one relayed request.
type Relayed = (Option<&'static str>, Option<&'static str>, Option<i32>, u16);

fn relayed(audit: &[AuditRecord]) -> Vec<Relayed> {
    audit
        .iter()
        .map(|a| (a.msg_type, a.reply_type, a.error_code, a.status))
        .collect()
}

#[test]
fn mit_kinit_and_kvno_through_our_relay_to_mit_krb5kdc() {
    if let Some(why) = mit::missing_peers() {
        eprintln!("SKIP: {why}");
        return;
    }
    let realm = MitRealm::start("relay");
    let mut config = RelayConfig::with_realms([RealmRoute::parse_mapping(&format!(
        "LAB.TEST=tcp://127.0.0.1:{}",
        realm.port
    ))
    .unwrap()])
    .unwrap();
    config.prefix_policy = PrefixPolicy::Reject;
    let pki = realm.dir.join("pki");
    let (relay, audit) = start_relay(config, &pki);
    // MIT checks the certificate against the URL host: an IP literal here.
    let conf = realm.client_conf(
        "via-relay",
        &format!("https://127.0.0.1:{}/KdcProxy", relay.port()),
        Some(&pki.join("ca.pem")),
    );

    let out = realm.client(&conf, "cc", &["kinit", "alice"], "alicepw\n");
    assert!(
        out.status.success(),
        "kinit via relay failed: {}\n--- trace ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        realm.trace("cc")
    );
    let out = realm.client(&conf, "cc", &["kvno", "host/app.lab.test"], "");
    assert!(
        out.status.success(),
        "kvno: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        realm.trace("cc")
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("host/app.lab.test@LAB.TEST: kvno = 1"));
    let out = realm.client(&conf, "cc", &["klist"], "");
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains("krbtgt/LAB.TEST@LAB.TEST") && list.contains("host/app.lab.test@LAB.TEST"),
        "{list}"
    );

    // MIT really went over HTTPS to the relay (not around it).
    let trace = realm.trace("cc");
    assert!(
        trace.contains(&format!("https/127.0.0.1:{}", relay.port())) || trace.contains("HTTPS"),
        "{trace}"
    );
    // What the relay saw: preauth dance, AS-REP, TGS-REP; every one relayed.
    let records = audit.records();
    assert_eq!(
        relayed(&records),
        [
            (Some("AS-REQ"), Some("KRB-ERROR"), Some(25), 200),
            (Some("AS-REQ"), Some("AS-REP"), None, 200),
            (Some("TGS-REQ"), Some("TGS-REP"), None, 200),
        ]
    );
    assert!(
        records
            .iter()
            .all(|a| a.outcome == Outcome::Relayed && a.realm.as_deref() == Some("LAB.TEST"))
    );
    assert_eq!(records[0].cname.as_deref(), Some("alice@LAB.TEST"));
    assert_eq!(
        records[2].sname.as_deref(),
        Some("host/app.lab.test@LAB.TEST")
    );

    // A wrong password still comes back as a Kerberos answer through the relay.
    let out = realm.client(&conf, "cc2", &["kinit", "alice"], "wrong\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Password incorrect") || err.contains("Preauthentication failed"),
        "{err}"
    );
}

#[test]
fn mit_sees_an_untrusted_relay_certificate_as_unreachable() {
    if let Some(why) = mit::missing_peers() {
        eprintln!("SKIP: {why}");
        return;
    }
    let realm = MitRealm::start("untrusted");
    let config = RelayConfig::with_realms([RealmRoute::parse_mapping(&format!(
        "LAB.TEST=tcp://127.0.0.1:{}",
        realm.port
    ))
    .unwrap()])
    .unwrap();
    let (relay, audit) = start_relay(config, &realm.dir.join("pki"));
    // Anchors from another CA: the TLS handshake must fail, nothing relayed.
    let other = https::ensure_self_signed(&realm.dir.join("other-pki"), &[]).unwrap();
    let conf = realm.client_conf(
        "untrusted",
        &format!("https://127.0.0.1:{}/KdcProxy", relay.port()),
        Some(&other.ca),
    );
    let out = realm.client(&conf, "cc", &["kinit", "alice"], "alicepw\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Cannot contact any KDC"), "{err}");
    assert!(
        audit.records().is_empty(),
        "no request passed an untrusted handshake"
    );
}
