//! The negotiator's state machine against a real (sans-IO) KDC on a
//! modelled network: order, failover, retries, timeouts, the negative cache,
//! racing, the ticket cache, clock skew, NTLM policy gating and the audit
//! record.

mod negotiator_harness;

use std::time::Duration;

use kerbside_client::audit::{
    AttemptOutcome, AuditDetail, CacheAction, ExchangeKind, LogonOutcome, ids,
};
use kerbside_client::negotiator::{
    AppProtocol, Credential, LogonError, NtlmMode, NtlmVerdict, PathKind, Stage, TransportFailure,
    WhenAllCached,
};
use kerbside_wire::krb::constants::error_code;
use negotiator_harness::*;

fn outcomes(r: &kerbside_client::negotiator::LogonResult) -> Vec<String> {
    r.attempts()
        .map(|a| {
            format!(
                "{} {} {:?} #{} {}",
                a.path,
                a.endpoint,
                a.exchange,
                a.try_no,
                a.outcome.as_str()
            )
        })
        .collect()
}

#[test]
fn native_tcp_first_dc_answers_in_three_round_trips() {
    let mut net = Net::new().route(DC1, up(20));
    let r = net.logon(ticket_request(1), &policy());
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.path, PathKind::NativeTcp);
    assert_eq!(r.endpoint.as_deref(), Some("dc1:88"));
    assert_eq!(
        outcomes(&r),
        [
            "native-tcp dc1:88 As #1 krb-error",
            "native-tcp dc1:88 AsPreauth #1 ok",
            "native-tcp dc1:88 Tgs #1 ok"
        ]
    );
    // AS (PREAUTH_REQUIRED), AS with PA-ENC-TIMESTAMP, TGS: 3 round trips.
    assert_eq!(r.time_to_ticket, Some(ms(60)));
    let first = r.attempts().next().unwrap();
    assert_eq!(first.error_code, Some(error_code::KDC_ERR_PREAUTH_REQUIRED));
    let ticket = r.ticket.unwrap();
    assert_eq!(ticket.server, app_spn());
    // Nothing went anywhere but dc1; no NTLM was considered.
    assert_eq!(net.sent.len(), 3);
    assert!(!r.ntlm_used);
    assert_eq!(r.ntlm_verdict, None);
    let d = r.events.last().unwrap().decision().unwrap().clone();
    assert_eq!(r.events.last().unwrap().id, ids::DECISION);
    assert_eq!(d.outcome, LogonOutcome::Success);
    assert_eq!(d.path, PathKind::NativeTcp);
    assert_eq!(d.total, ms(60));
    assert!(!d.ntlm_used);
}

#[test]
fn dead_first_dc_costs_one_timeout_then_the_negative_cache_skips_it() {
    let mut p = policy();
    p.negative_cache.ttl = Duration::from_secs(60);
    let mut net = Net::new().route(DC1, Behaviour::Silent).route(DC2, up(10));
    let r = net.logon(ticket_request(1), &p);
    assert!(r.is_success());
    assert_eq!(r.endpoint.as_deref(), Some("dc2:88"));
    assert_eq!(
        outcomes(&r)[..2],
        [
            "native-tcp dc1:88 As #1 timeout",
            "native-tcp dc2:88 As #1 krb-error"
        ]
    );
    // One native timeout (3 s) plus three round trips to dc2.
    assert_eq!(r.time_to_ticket, Some(Duration::from_secs(3) + ms(30)));
    assert_eq!(
        net.cancelled.len(),
        1,
        "the timed-out exchange was cancelled"
    );

    // The next logon skips dc1 (event 7002) and pays no timeout.
    net.sleep(Duration::from_secs(10));
    let mut req = ticket_request(2);
    req.service = Some(kerbside_client::krb::Principal::service(
        "host",
        "files.corp.example",
        REALM,
    ));
    let r2 = net.logon(req, &p);
    assert!(r2.is_success());
    let skipped: Vec<_> = r2.events.iter().filter(|e| e.id == ids::SKIPPED).collect();
    assert_eq!(skipped.len(), 1);
    match &skipped[0].detail {
        AuditDetail::Skipped {
            path,
            endpoint,
            remaining,
            deferred,
        } => {
            assert!(*deferred, "default policy probes cached endpoints last");
            assert_eq!(*path, PathKind::NativeTcp);
            assert_eq!(endpoint, "dc1:88");
            // Failed at 4 s, cached until 64 s; this logon starts at 14.03 s.
            assert_eq!(*remaining, ms(49_970));
        }
        other => panic!("{other:?}"),
    }
    // TGT came from the cache: only the TGS went out, to dc2, at once.
    assert_eq!(outcomes(&r2), ["native-tcp dc2:88 Tgs #1 ok"]);
    assert_eq!(r2.time_to_ticket, Some(ms(10)));
    assert_eq!(net.sends_to(DC1), 1, "dc1 was not asked again");

    // After the entry expires dc1 is asked again (and still fails).
    net.sleep(Duration::from_secs(60));
    let mut p2 = p.clone();
    p2.tickets.cache = false;
    let r3 = net.logon(ticket_request(3), &p2);
    assert!(r3.is_success());
    assert_eq!(r3.count(ids::SKIPPED), 0);
    assert_eq!(outcomes(&r3)[0], "native-tcp dc1:88 As #1 timeout");
    assert_eq!(net.sends_to(DC1), 2);
}

#[test]
fn refused_endpoint_is_not_retried_and_fails_over_at_once() {
    let mut p = policy();
    p.native.tcp_tries = 3;
    let mut net = Net::new()
        .route(DC1, Behaviour::Refused { after: ms(1) })
        .route(DC2, up(10));
    let r = net.logon(ticket_request(1), &p);
    assert!(r.is_success());
    assert_eq!(net.sends_to(DC1), 1);
    assert_eq!(outcomes(&r)[0], "native-tcp dc1:88 As #1 refused");
    assert_eq!(r.time_to_ticket, Some(ms(31)));
}

#[test]
fn udp_sends_are_retried_up_to_the_try_count() {
    let mut p = policy();
    p.native.tcp = false;
    p.native.udp = true;
    p.native.udp_tries = 3;
    p.native.timeout = Duration::from_secs(1);
    p.native.kdcs = vec!["dc1".into()];
    let mut net = Net::new()
        .route(DC1_UDP, Behaviour::Silent)
        .route(RELAY, up(40));
    let r = net.logon(ticket_request(1), &p);
    assert!(r.is_success());
    assert_eq!(r.path, PathKind::Kkdcp);
    assert_eq!(
        outcomes(&r)[..3],
        [
            "native-udp dc1:88 As #1 timeout",
            "native-udp dc1:88 As #2 timeout",
            "native-udp dc1:88 As #3 timeout"
        ]
    );
    // Each retry is a fresh request (own nonce): none equals another.
    let udp: Vec<_> = net
        .sent
        .iter()
        .filter(|s| s.route.to_string() == DC1_UDP)
        .collect();
    assert_ne!(udp[0].message, udp[1].message);
    assert_eq!(r.time_to_ticket, Some(Duration::from_secs(3) + ms(120)));
}

#[test]
fn tcp_timeout_is_retried_when_configured() {
    let mut p = policy();
    p.native.tcp_tries = 2;
    let mut net = Net::new()
        .route(
            DC1,
            Behaviour::Fails {
                after: ms(5),
                failure: TransportFailure::Reset("peer closed".into()),
            },
        )
        .route(DC2, up(10));
    let r = net.logon(ticket_request(1), &p);
    assert!(r.is_success());
    assert_eq!(
        outcomes(&r)[..2],
        [
            "native-tcp dc1:88 As #1 error",
            "native-tcp dc1:88 As #2 error"
        ]
    );
    let a = r.attempts().next().unwrap();
    assert_eq!(
        a.error.as_deref(),
        Some("connection reset or closed: peer closed")
    );
}

#[test]
fn only_443_out_means_the_relay_after_native_timeouts() {
    let mut net = Net::new().route(RELAY, up(25));
    let r = net.logon(ticket_request(1), &policy());
    assert!(r.is_success());
    assert_eq!(r.path, PathKind::Kkdcp);
    assert_eq!(r.endpoint.as_deref(), Some("https://relay/KdcProxy"));
    assert_eq!(
        outcomes(&r),
        [
            "native-tcp dc1:88 As #1 timeout",
            "native-tcp dc2:88 As #1 timeout",
            "kkdcp https://relay/KdcProxy As #1 krb-error",
            "kkdcp https://relay/KdcProxy AsPreauth #1 ok",
            "kkdcp https://relay/KdcProxy Tgs #1 ok"
        ]
    );
    assert_eq!(r.time_to_ticket, Some(Duration::from_secs(6) + ms(75)));
}

#[test]
fn policy_order_puts_the_relay_first() {
    let mut p = policy();
    p.order = vec![Stage::Kkdcp, Stage::Native];
    let mut net = Net::new().route(DC1, up(5)).route(RELAY, up(25));
    let r = net.logon(ticket_request(1), &p);
    assert_eq!(r.path, PathKind::Kkdcp);
    assert_eq!(net.sends_to(DC1), 0);
}

#[test]
fn racing_starts_the_next_path_after_the_delay_and_cancels_the_loser() {
    let mut p = policy();
    p.native.kdcs = vec!["dc1".into()];
    p.racing.enabled = true;
    p.racing.delay = ms(200);
    let mut net = Net::new()
        .route(DC1, Behaviour::Silent)
        .route(RELAY, up(50));
    let r = net.logon(ticket_request(1), &p);
    assert!(r.is_success());
    assert_eq!(r.path, PathKind::Kkdcp);
    // The relay started at 200 ms and answered at 250 ms; dc1 was then
    // cancelled, never timed out.
    let a: Vec<_> = r.attempts().collect();
    assert_eq!(a[0].path, PathKind::Kkdcp);
    assert!(a[0].raced);
    assert_eq!(a[0].started, Duration::from_secs(1) + ms(200));
    assert_eq!(a[1].path, PathKind::NativeTcp);
    assert_eq!(a[1].outcome, AttemptOutcome::Cancelled);
    assert_eq!(a[1].duration, ms(250));
    assert_eq!(net.cancelled.len(), 1);
    // Sticky afterwards: preauth and TGS went straight to the relay.
    assert_eq!(net.sends_to(DC1), 1);
    assert_eq!(net.sends_to(RELAY), 3);
    // 200 ms head start + 3 relay round trips, instead of 3 s + 3 trips.
    assert_eq!(r.time_to_ticket, Some(ms(350)));

    // Without racing the same network costs the full native timeout.
    p.racing.enabled = false;
    net.host = Default::default();
    let slow = net.logon(ticket_request(2), &p);
    assert_eq!(slow.time_to_ticket, Some(Duration::from_secs(3) + ms(150)));
}

#[test]
fn racing_first_answer_wins_even_from_the_earlier_path() {
    let mut p = policy();
    p.native.kdcs = vec!["dc1".into()];
    p.racing.enabled = true;
    p.racing.delay = ms(100);
    // dc1 answers at 300 ms, the relay (started at 100 ms) would at 500 ms.
    let mut net = Net::new().route(DC1, up(300)).route(RELAY, up(400));
    let r = net.logon(ticket_request(1), &p);
    assert_eq!(r.path, PathKind::NativeTcp);
    let a: Vec<_> = r.attempts().collect();
    assert_eq!(a[0].path, PathKind::NativeTcp);
    assert_eq!(a[0].outcome, AttemptOutcome::KrbError);
    assert_eq!(a[1].path, PathKind::Kkdcp);
    assert_eq!(a[1].outcome, AttemptOutcome::Cancelled);
    assert!(a[1].raced);
    // The loser is not put into the negative cache.
    assert!(
        net.host.negative.live(net.now).is_empty(),
        "{:?}",
        net.host.negative.live(net.now)
    );
    // An answer inside the delay starts no racer at all.
    let mut net = Net::new().route(DC1, up(50)).route(RELAY, up(50));
    let r = net.logon(ticket_request(2), &p);
    assert_eq!(r.path, PathKind::NativeTcp);
    assert_eq!(net.sends_to(RELAY), 0);
}

#[test]
fn racing_respects_the_in_flight_limit_and_a_failure_starts_the_next_at_once() {
    let mut p = policy();
    p.kkdcp.relays = vec![
        "https://relay/KdcProxy".into(),
        "https://relay2/KdcProxy".into(),
    ];
    p.racing.enabled = true;
    p.racing.delay = ms(100);
    p.racing.max_in_flight = 2;
    let mut net = Net::new()
        .route(DC1, Behaviour::Silent)
        .route(DC2, Behaviour::Refused { after: ms(150) })
        .route(RELAY, up(40))
        .route("kkdcp https://relay2/KdcProxy", up(1));
    let r = net.logon(ticket_request(1), &p);
    // t=0 dc1; t=100 dc2 races (2 in flight, no third); t=250 dc2 refused:
    // the relay starts at once and answers at 290.
    assert_eq!(r.path, PathKind::Kkdcp);
    assert_eq!(r.endpoint.as_deref(), Some("https://relay/KdcProxy"));
    let relay_start = net
        .sent
        .iter()
        .find(|s| s.route.to_string() == RELAY)
        .unwrap()
        .at;
    assert_eq!(relay_start, Duration::from_secs(1) + ms(250));
    assert_eq!(net.sends_to("kkdcp https://relay2/KdcProxy"), 0);
}

#[test]
fn everything_down_without_a_server_fails_unreachable_after_every_timeout() {
    let mut net = Net::new();
    let r = net.logon(ticket_request(1), &policy());
    assert_eq!(r.outcome, LogonOutcome::Failure);
    assert_eq!(r.path, PathKind::None);
    match &r.error {
        Some(LogonError::Unreachable { last }) => {
            assert!(last.as_deref().unwrap().contains("relay"), "{last:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.total, Duration::from_secs(3 + 3 + 5));
    assert_eq!(r.count(ids::ATTEMPT), 3);
    assert!(!r.ntlm_used);
    // Every endpoint is now negatively cached.
    assert_eq!(net.host.negative.live(net.now).len(), 3);
}

#[test]
fn probe_tries_cached_endpoints_last_and_skip_fails_fast() {
    let mut p = policy();
    p.kkdcp.relays.clear();
    let mut net = Net::new();
    let r = net.logon(ticket_request(1), &p);
    assert!(!r.is_success());
    // dc1 comes back; both DCs are cached. Probe mode asks them anyway.
    net.set(DC1, up(10));
    net.sleep(Duration::from_secs(5));
    let r = net.logon(ticket_request(2), &p);
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.count(ids::SKIPPED), 2);
    assert_eq!(r.endpoint.as_deref(), Some("dc1:88"));
    // The answer cleared dc1's entry; dc2's stays.
    let live = net.host.negative.live(net.now);
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].0, "native-tcp:dc2:88");

    // Skip mode: with everything cached the logon fails without a send.
    let mut net = Net::new();
    p.negative_cache.when_all_cached = WhenAllCached::Skip;
    let _ = net.logon(ticket_request(3), &p);
    let before = net.sent.len();
    net.set(DC1, up(10));
    let r = net.logon(ticket_request(4), &p);
    assert!(matches!(r.error, Some(LogonError::Unreachable { .. })));
    assert_eq!(net.sent.len(), before);
    assert_eq!(r.total, Duration::ZERO);
}

#[test]
fn logon_budget_bounds_a_logon_whatever_the_network() {
    let mut p = policy();
    p.native.timeout = Duration::from_secs(30);
    p.logon_timeout = Duration::from_secs(20);
    let mut net = Net::new();
    let r = net.logon(ticket_request(1), &p);
    assert_eq!(r.error, Some(LogonError::Timeout(Duration::from_secs(20))));
    assert_eq!(r.total, Duration::from_secs(20));
    let a: Vec<_> = r.attempts().collect();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].outcome, AttemptOutcome::Timeout);
    assert_eq!(a[0].error.as_deref(), Some("logon timeout"));
    assert_eq!(net.cancelled.len(), 1);
}

#[test]
fn svc_unavailable_moves_on_and_a_definitive_error_ends_kerberos() {
    use kerbside_kdc::ErrorCode;
    let net0 = Net::new();
    let unavailable = net0
        .kdc
        .error_reply(ErrorCode::KDC_ERR_SVC_UNAVAILABLE, "busy", epoch());
    let mut net = Net::new()
        .route(
            DC1,
            Behaviour::Bytes {
                rtt: ms(5),
                reply: unavailable,
            },
        )
        .route(DC2, up(10));
    let r = net.logon(ticket_request(1), &policy());
    assert!(r.is_success());
    let a = r.attempts().next().unwrap();
    assert_eq!(a.outcome, AttemptOutcome::KrbError);
    assert_eq!(a.error_code, Some(error_code::KDC_ERR_SVC_UNAVAILABLE));

    // Unknown user: the KDC answered; no other route is asked, no NTLM.
    let mut net = Net::new().route(DC1, up(10)).route(DC2, up(10));
    let mut req = app_request(2, "app.corp.example");
    req.client = kerbside_client::krb::Principal::user("mallory", REALM);
    let r = net.logon(req, &policy());
    assert_eq!(r.error.as_ref().and_then(LogonError::krb_code), Some(6));
    assert_eq!(net.sends_to(DC2), 0);
    assert!(net.app_tokens.is_empty(), "no NTLM after an unknown user");
    assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED_AUDIT), 0);

    // Wrong password: PREAUTH_FAILED, no fallback either.
    let mut net = Net::new().route(DC1, up(10));
    let mut req = app_request(3, "app.corp.example");
    req.credential = Credential::Password("wrong".into());
    let r = net.logon(req, &policy());
    assert_eq!(
        r.error.as_ref().and_then(LogonError::krb_code),
        Some(error_code::KDC_ERR_PREAUTH_FAILED)
    );
    assert!(net.app_tokens.is_empty());
}

#[test]
fn garbage_from_an_endpoint_is_a_route_failure() {
    let mut net = Net::new()
        .route(
            DC1,
            Behaviour::Bytes {
                rtt: ms(5),
                reply: b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
            },
        )
        .route(DC2, up(10));
    let r = net.logon(ticket_request(1), &policy());
    assert!(r.is_success());
    let a = r.attempts().next().unwrap();
    assert_eq!(a.outcome, AttemptOutcome::Error);
    assert_eq!(a.error_code, None);
    assert!(
        net.host
            .negative
            .live(net.now)
            .iter()
            .any(|(k, _)| k == "native-tcp:dc1:88")
    );
}

#[test]
fn response_too_big_over_udp_moves_to_tcp_on_the_same_kdc() {
    let mut p = policy();
    p.native.udp = true;
    p.native.udp_first = true;
    p.native.kdcs = vec!["dc1".into()];
    let mut net = Net::new().route(DC1_UDP, up(10)).route(DC1, up(10));
    net.kdc = kdc_with(|c| c.udp_max_reply = 256);
    let r = net.logon(ticket_request(1), &p);
    assert!(r.is_success(), "{:?}", r.error);
    let o = outcomes(&r);
    // The PREAUTH_REQUIRED error fits a datagram; the AS-REP does not.
    assert_eq!(o[0], "native-udp dc1:88 As #1 krb-error");
    assert_eq!(o[1], "native-udp dc1:88 AsPreauth #1 krb-error");
    assert_eq!(o[2], "native-tcp dc1:88 AsPreauth #1 ok");
    let a: Vec<_> = r.attempts().collect();
    assert_eq!(a[1].error_code, Some(error_code::KRB_ERR_RESPONSE_TOO_BIG));
    assert_eq!(r.path, PathKind::NativeTcp);
    assert!(
        net.host.negative.live(net.now).is_empty(),
        "the KDC is alive"
    );
}

#[test]
fn clock_skew_is_corrected_once_from_the_kdc_time() {
    let mut net = Net::new().route(DC1, up(10));
    net.client_ahead = Duration::from_secs(600);
    let r = net.logon(ticket_request(1), &policy());
    assert!(r.is_success(), "{:?}", r.error);
    let o = outcomes(&r);
    assert_eq!(
        o,
        [
            "native-tcp dc1:88 As #1 krb-error",
            "native-tcp dc1:88 AsPreauth #1 krb-error",
            "native-tcp dc1:88 As #1 krb-error",
            "native-tcp dc1:88 AsPreauth #1 ok",
            "native-tcp dc1:88 Tgs #1 ok"
        ]
    );
    let a: Vec<_> = r.attempts().collect();
    assert_eq!(a[1].error_code, Some(error_code::KRB_AP_ERR_SKEW));
    assert!(net.host.kdc_offset().behind >= Duration::from_secs(599));

    // With timesync off the skew error ends the logon.
    let mut net = Net::new().route(DC1, up(10));
    net.client_ahead = Duration::from_secs(600);
    let mut p = policy();
    p.tickets.kdc_timesync = false;
    let r = net.logon(ticket_request(2), &p);
    assert_eq!(
        r.error.as_ref().and_then(LogonError::krb_code),
        Some(error_code::KRB_AP_ERR_SKEW)
    );
}

#[test]
fn ticket_cache_serves_repeat_logons_and_renews_near_expiry() {
    let mut net = Net::new().route(DC1, up(10));
    let p = policy();
    let r1 = net.logon(ticket_request(1), &p);
    assert!(r1.is_success());
    assert_eq!(net.sent.len(), 3);

    // Same service: straight from the cache, nothing sent.
    net.sleep(Duration::from_secs(60));
    let r2 = net.logon(ticket_request(2), &p);
    assert!(r2.is_success());
    assert_eq!(r2.path, PathKind::Cache);
    assert_eq!(r2.time_to_ticket, Some(Duration::ZERO));
    assert_eq!(net.sent.len(), 3);
    let hit = r2
        .events
        .iter()
        .find(|e| e.id == ids::TICKET_CACHE)
        .unwrap();
    assert!(matches!(
        hit.detail,
        AuditDetail::TicketCache {
            action: CacheAction::Hit,
            ..
        }
    ));

    // 9 h 58 min later the TGT (10 h, renewable) is inside the 5 min
    // refresh margin: it is renewed (a TGS-REQ with RENEW), then the new
    // service ticket is fetched; no password needed.
    net.sleep(Duration::from_secs(10 * 3600 - 60 - 120 - 60));
    let mut req = ticket_request(3);
    req.credential = Credential::Cached;
    let r3 = net.logon(req, &p);
    assert!(r3.is_success(), "{:?}", r3.error);
    let kinds: Vec<ExchangeKind> = r3.attempts().map(|a| a.exchange).collect();
    assert_eq!(kinds, [ExchangeKind::Renew, ExchangeKind::Tgs]);
    assert!(r3.events.iter().any(|e| matches!(
        e.detail,
        AuditDetail::TicketCache {
            action: CacheAction::Renewed,
            ..
        }
    )));

    // With only cached credentials and nothing cached: a clear error.
    let mut net = Net::new().route(DC1, up(10));
    let mut req = ticket_request(4);
    req.credential = Credential::Cached;
    let r4 = net.logon(req, &p);
    assert_eq!(r4.error, Some(LogonError::NoCredentials));
    assert!(net.sent.is_empty());
}

#[test]
fn cached_tgt_is_used_stale_when_no_kdc_can_renew_it() {
    let mut net = Net::new().route(DC1, up(10));
    let p = policy();
    assert!(net.logon(ticket_request(1), &p).is_success());
    net.set(DC1, Behaviour::Silent);
    net.sleep(Duration::from_secs(10 * 3600 - 200));
    let mut req = ticket_request(2);
    req.credential = Credential::Cached;
    req.service = Some(kerbside_client::krb::Principal::service(
        "host",
        "files.corp.example",
        REALM,
    ));
    let r = net.logon(req, &p);
    // Renewal finds no KDC; the TGT is still valid so it is used, and the
    // TGS then finds no KDC either.
    assert!(r.events.iter().any(|e| matches!(
        e.detail,
        AuditDetail::TicketCache {
            action: CacheAction::UsedStale,
            ..
        }
    )));
    assert!(matches!(r.error, Some(LogonError::Unreachable { .. })));
}

fn ntlm_policy(mode: NtlmMode, exceptions: &[&str]) -> kerbside_client::negotiator::Policy {
    let mut p = policy();
    p.kkdcp.relays.clear();
    p.ntlm.mode = mode;
    p.ntlm.exceptions = exceptions.iter().map(|s| (*s).to_owned()).collect();
    p
}

#[test]
fn deny_fails_closed_with_event_4001_and_no_ntlm_byte() {
    let mut net = Net::new();
    let r = net.logon(
        app_request(1, "app.corp.example"),
        &ntlm_policy(NtlmMode::Deny, &[]),
    );
    assert_eq!(
        r.error,
        Some(LogonError::NtlmDenied {
            server: "app.corp.example".into()
        })
    );
    assert!(net.app_tokens.is_empty(), "nothing was sent to the server");
    assert!(!r.ntlm_used);
    assert_eq!(r.ntlm_verdict, Some(NtlmVerdict::Denied));
    let blocked: Vec<_> = r
        .events
        .iter()
        .filter(|e| e.id == ids::NTLM_CLIENT_BLOCKED)
        .collect();
    assert_eq!(blocked.len(), 1);
    match &blocked[0].detail {
        AuditDetail::Ntlm {
            server,
            verdict,
            mechanism,
            sent,
        } => {
            assert_eq!(server, "app.corp.example");
            assert_eq!(*verdict, NtlmVerdict::Denied);
            assert_eq!(mechanism, "1.3.6.1.4.1.311.2.2.10");
            assert!(!sent);
        }
        other => panic!("{other:?}"),
    }
    let d = r.events.last().unwrap().decision().unwrap();
    assert_eq!(d.ntlm_verdict, Some(NtlmVerdict::Denied));
    assert!(!d.ntlm_used);
    assert!(d.error.as_deref().unwrap().contains("denied by policy"));
}

/// The first token of a SPNEGO NegTokenInit offering only NTLMSSP, with an
/// NTLM NEGOTIATE_MESSAGE as the optimistic token.
fn is_spnego_ntlm_negotiate(token: &[u8]) -> bool {
    let ntlm_oid = [
        0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
    ];
    let krb_oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];
    let has = |needle: &[u8]| token.windows(needle.len()).any(|w| w == needle);
    token.starts_with(&[0x60]) && has(&ntlm_oid) && !has(&krb_oid) && has(b"NTLMSSP\0\x01\0\0\0")
}

#[test]
fn audit_and_allow_send_ntlm_and_record_it_first() {
    for (mode, id, verdict) in [
        (
            NtlmMode::Audit,
            ids::NTLM_CLIENT_BLOCKED_AUDIT,
            NtlmVerdict::Audited,
        ),
        (NtlmMode::Allow, ids::NTLM_USED, NtlmVerdict::Allowed),
        (NtlmMode::Deny, ids::NTLM_USED, NtlmVerdict::Excepted),
    ] {
        let mut net = Net::new();
        let r = net.logon(
            app_request(1, "app.corp.example"),
            &ntlm_policy(mode, &["*.corp.example"]),
        );
        assert_eq!(net.app_tokens.len(), 1, "{mode:?}");
        assert!(is_spnego_ntlm_negotiate(&net.app_tokens[0]), "{mode:?}");
        assert!(r.ntlm_used);
        assert_eq!(r.ntlm_verdict, Some(verdict));
        assert_eq!(r.count(id), 1, "{mode:?}");
        assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED), 0);
        // The NTLM event precedes the failed application attempt.
        let pos = |want: u32| r.events.iter().position(|e| e.id == want).unwrap();
        let app_attempt = r
            .events
            .iter()
            .position(|e| e.attempt().is_some_and(|a| a.exchange == ExchangeKind::App))
            .unwrap();
        assert!(pos(id) < app_attempt);
        // The server was down: failure, but NTLM bytes did leave.
        assert_eq!(r.error, Some(LogonError::App(TransportFailure::Refused)));
        let d = r.events.last().unwrap().decision().unwrap();
        assert!(d.ntlm_used);
    }
}

#[test]
fn unknown_service_principal_falls_back_to_ntlm_under_policy() {
    // The KDC has no SPN for the printer: KDC_ERR_S_PRINCIPAL_UNKNOWN, the
    // classic silent fallback. Under audit it is sent and recorded.
    let mut net = Net::new().route(DC1, up(10));
    let mut req = app_request(1, "printer.corp.example");
    req.service = Some(kerbside_client::krb::Principal::service(
        "HTTP",
        "printer.corp.example",
        REALM,
    ));
    let r = net.logon(req.clone(), &ntlm_policy(NtlmMode::Audit, &[]));
    let tgs = r
        .attempts()
        .find(|a| a.exchange == ExchangeKind::Tgs)
        .unwrap();
    assert_eq!(
        tgs.error_code,
        Some(error_code::KDC_ERR_S_PRINCIPAL_UNKNOWN)
    );
    assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED_AUDIT), 1);
    assert!(is_spnego_ntlm_negotiate(&net.app_tokens[0]));

    // Under deny: blocked, nothing sent.
    let mut net = Net::new().route(DC1, up(10));
    let r = net.logon(req, &ntlm_policy(NtlmMode::Deny, &[]));
    assert!(matches!(r.error, Some(LogonError::NtlmDenied { .. })));
    assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED), 1);
    assert!(net.app_tokens.is_empty());
}

#[test]
fn ntlm_only_device_gets_raw_ntlm_without_any_kdc_traffic() {
    let mut net = Net::new().route(DC1, up(10));
    let mut req = app_request(1, "printer.corp.example");
    if let Some(s) = req.server.as_mut() {
        s.protocol = AppProtocol::Ntlm;
    }
    let r = net.logon(req.clone(), &ntlm_policy(NtlmMode::Audit, &[]));
    assert!(
        net.sent.is_empty(),
        "no KDC traffic for an NTLM-only device"
    );
    assert!(net.app_tokens[0].starts_with(b"NTLMSSP\0\x01\0\0\0"));
    assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED_AUDIT), 1);

    let mut net = Net::new().route(DC1, up(10));
    let r = net.logon(req, &ntlm_policy(NtlmMode::Deny, &[]));
    assert!(matches!(r.error, Some(LogonError::NtlmDenied { .. })));
    assert!(net.app_tokens.is_empty());
}

#[test]
fn keytab_keys_without_rc4_cannot_do_ntlm() {
    let mut net = Net::new();
    let mut req = app_request(1, "app.corp.example");
    let key = kerbside_crypto::Key::from_password(
        kerbside_crypto::EncType::Aes256CtsHmacSha196,
        ALICE_PW,
        &kerbside_crypto::default_salt(REALM, &["alice"]),
    )
    .unwrap();
    req.credential = Credential::Keys(vec![key]);
    let r = net.logon(req, &ntlm_policy(NtlmMode::Allow, &[]));
    assert_eq!(r.error, Some(LogonError::NoNtlmCredential));
    assert!(net.app_tokens.is_empty());

    // The same keys get Kerberos tickets.
    let mut net = Net::new().route(DC1, up(10));
    let mut req = ticket_request(2);
    req.credential = Credential::Keys(vec![
        kerbside_crypto::Key::from_password(
            kerbside_crypto::EncType::Aes256CtsHmacSha196,
            ALICE_PW,
            &kerbside_crypto::default_salt(REALM, &["alice"]),
        )
        .unwrap(),
    ]);
    assert!(net.logon(req, &policy()).is_success());
}

#[test]
fn unavailable_stages_are_recorded_not_faked() {
    let mut p = policy();
    p.iakerb.enabled = true;
    p.localkdc.enabled = true;
    let mut net = Net::new().route(DC1, up(10));
    let r = net.logon(app_request(1, "app.corp.example"), &p);
    let na: Vec<_> = r
        .events
        .iter()
        .filter(|e| e.id == ids::NOT_AVAILABLE)
        .collect();
    assert_eq!(na.len(), 2);
    match &na[0].detail {
        AuditDetail::NotAvailable { path, reason, .. } => {
            assert_eq!(*path, PathKind::Iakerb);
            assert!(reason.contains("no IAKERB handler"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_event_carries_the_logon_and_serialises() {
    let mut net = Net::new().route(DC1, up(10));
    let r = net.logon(ticket_request(42), &policy());
    assert!(r.events.iter().all(|e| e.logon == 42));
    assert!(r.events.iter().all(|e| e.client == "alice@CORP.EXAMPLE"));
    assert!(
        r.events
            .iter()
            .all(|e| e.target == "host/app.corp.example@CORP.EXAMPLE")
    );
    let json = serde_json::to_string(&r.events).unwrap();
    let back: Vec<kerbside_client::audit::AuditEvent> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r.events);
    assert_eq!(r.count(ids::DECISION), 1);
}

#[test]
fn an_invalid_policy_fails_the_logon_cleanly() {
    let mut p = policy();
    p.native.timeout = Duration::ZERO;
    let mut net = Net::new().route(DC1, up(10));
    let r = net.logon(ticket_request(1), &p);
    assert!(matches!(r.error, Some(LogonError::Policy(_))));
    assert!(net.sent.is_empty());
    assert_eq!(r.count(ids::DECISION), 1);
}
