//! The latency model: why a Kerberos exchange takes about 30 ms natively
//! and 80-120 ms through a fallback path, from link parameters alone
//! (`reference/protocols.md` §7), set beside what the simulation measured.
//!
//! The cost of a path is counted in round trips:
//!
//! * native UDP (RFC 4120 §7.2.1): the request and its reply, `1·RTT`;
//! * native TCP (§7.2.2): a new connection per request (MIT, Windows), so
//!   the handshake adds one, `2·RTT`;
//! * KKDCP (MS-KKDCP §3.1) with a new HTTPS connection per message (MIT's
//!   client): TCP handshake 1 + TLS 1.2 full handshake 2 (RFC 5246 §7.3) +
//!   the HTTP request 1 = `4·RTT_c`, and the relay's own TCP connection to
//!   the KDC, `2·RTT_k`; TLS 1.3 saves one (RFC 8446 §2), 0-RTT early
//!   data (§2.3) one more;
//! * KKDCP over a kept-alive connection (RFC 9112 §9.3): `1·RTT_c` plus the
//!   relay's leg;
//! * IAKERB (draft-ietf-kitten-iakerb-03 §3): every KDC message rides one
//!   application round trip, `1·RTT_c`, and the server's leg to the KDC.
//!
//! A logon is three KDC exchanges (AS, the AS retry with
//! PA-ENC-TIMESTAMP after KDC_ERR_PREAUTH_REQUIRED, TGS); a connection that
//! is kept alive pays its handshake once.

use serde::Serialize;

/// Link and processing parameters, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LinkParams {
    /// Round trip client ↔ KDC (the native path).
    pub rtt_native_ms: f64,
    /// Round trip client ↔ relay or application server.
    pub rtt_client_ms: f64,
    /// Round trip relay or application server ↔ KDC.
    pub rtt_upstream_ms: f64,
    /// KDC processing per request.
    pub kdc_ms: f64,
    /// CPU cost of one full TLS handshake (key exchange, signature).
    pub tls_crypto_ms: f64,
    /// The client's native timeout before it falls back (a dropped port 88).
    pub native_timeout_ms: f64,
    /// Racing: the delay after which the next path starts anyway.
    pub race_delay_ms: f64,
}

impl LinkParams {
    /// The worked example of `reference/protocols.md` §7: a WAN client
    /// 25 ms from everything, the relay next to the DC, 3 ms KDC work.
    pub const WAN: LinkParams = LinkParams {
        rtt_native_ms: 25.0,
        rtt_client_ms: 25.0,
        rtt_upstream_ms: 1.0,
        kdc_ms: 3.0,
        tls_crypto_ms: 1.5,
        native_timeout_ms: 3000.0,
        race_delay_ms: 200.0,
    };
}

/// One way of carrying Kerberos, and what the model says it costs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelRow {
    /// Stable key; a scenario label with this name is measured against it.
    pub key: &'static str,
    /// For people.
    pub description: &'static str,
    /// The formula for one exchange.
    pub formula: &'static str,
    /// One TGS exchange (a cached TGT), ms.
    pub exchange_ms: f64,
    /// A full logon (AS, AS with pre-authentication, TGS), ms.
    pub logon_ms: f64,
    /// Whether the row is the published "about 30 ms native" or "80-120 ms
    /// fallback" case.
    pub published: Option<&'static str>,
}

/// The model's rows for `p`.
pub fn rows(p: &LinkParams) -> Vec<ModelRow> {
    let (ck, c, k, kdc, tls) = (
        p.rtt_native_ms,
        p.rtt_client_ms,
        p.rtt_upstream_ms,
        p.kdc_ms,
        p.tls_crypto_ms,
    );
    // The relay opens a TCP connection to the KDC per request: 2·RTT_k.
    let relay_leg = 2.0 * k + kdc;
    let per_msg = |client_rtts: f64, crypto: f64| client_rtts * c + relay_leg + crypto;
    let keep_warm = c + relay_leg;
    // Kept alive: the first exchange pays TCP + TLS 1.3 (2·RTT_c) once.
    let keep_logon = 2.0 * c + tls + 3.0 * keep_warm;
    let iakerb_exchange = c + relay_leg;
    vec![
        ModelRow {
            key: "native-udp",
            description: "Native Kerberos over UDP (RFC 4120 §7.2.1)",
            formula: "1·RTT_ck + p",
            exchange_ms: ck + kdc,
            logon_ms: 3.0 * (ck + kdc),
            published: Some("about 30 ms native TGS"),
        },
        ModelRow {
            key: "native-tcp",
            description: "Native Kerberos over TCP, a connection per request (§7.2.2)",
            formula: "2·RTT_ck + p",
            exchange_ms: 2.0 * ck + kdc,
            logon_ms: 3.0 * (2.0 * ck + kdc),
            published: None,
        },
        ModelRow {
            key: "kkdcp-tls12-per-message",
            description: "KKDCP, new TLS 1.2 connection per message (MIT's client)",
            formula: "4·RTT_c + 2·RTT_k + p + tls",
            exchange_ms: per_msg(4.0, tls),
            logon_ms: 3.0 * per_msg(4.0, tls),
            published: Some("80-120 ms through a fallback path"),
        },
        ModelRow {
            key: "kkdcp-tls13-per-message",
            description: "KKDCP, new TLS 1.3 connection per message",
            formula: "3·RTT_c + 2·RTT_k + p + tls",
            exchange_ms: per_msg(3.0, tls),
            logon_ms: 3.0 * per_msg(3.0, tls),
            published: Some("80-120 ms through a fallback path"),
        },
        ModelRow {
            key: "kkdcp-tls13-0rtt",
            description: "KKDCP, TLS 1.3 resumption with 0-RTT early data (RFC 8446 §2.3)",
            formula: "2·RTT_c + 2·RTT_k + p",
            exchange_ms: per_msg(2.0, 0.0),
            logon_ms: 3.0 * per_msg(2.0, 0.0),
            published: None,
        },
        ModelRow {
            key: "kkdcp-keepalive",
            description: "KKDCP over a kept-alive HTTPS connection (RFC 9112 §9.3)",
            formula: "1·RTT_c + 2·RTT_k + p",
            exchange_ms: keep_warm,
            logon_ms: keep_logon,
            published: None,
        },
        ModelRow {
            key: "iakerb",
            description: "IAKERB through the application server",
            formula: "1·RTT_c + 2·RTT_k + p",
            exchange_ms: iakerb_exchange,
            logon_ms: 3.0 * iakerb_exchange,
            published: None,
        },
        ModelRow {
            key: "fallback-timeout",
            description: "Port 88 dropped: native timeout, then KKDCP kept alive",
            formula: "T_native + KKDCP logon",
            exchange_ms: p.native_timeout_ms + 2.0 * c + tls + keep_warm,
            logon_ms: p.native_timeout_ms + keep_logon,
            published: None,
        },
        ModelRow {
            key: "fallback-racing",
            description: "Port 88 dropped, KKDCP raced after a delay",
            formula: "d_race + KKDCP logon",
            exchange_ms: p.race_delay_ms + 2.0 * c + tls + keep_warm,
            logon_ms: p.race_delay_ms + keep_logon,
            published: None,
        },
        ModelRow {
            key: "fallback-negative-cache",
            description: "Port 88 dropped, native path in the negative cache",
            formula: "KKDCP logon",
            exchange_ms: 2.0 * c + tls + keep_warm,
            logon_ms: keep_logon,
            published: None,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(rows: &'a [ModelRow], key: &str) -> &'a ModelRow {
        rows.iter().find(|r| r.key == key).unwrap()
    }

    #[test]
    fn the_model_reproduces_the_published_figures() {
        let r = rows(&LinkParams::WAN);
        // reference/protocols.md §7: native UDP ≈ 28 ms ("about 30 ms").
        assert_eq!(row(&r, "native-udp").exchange_ms, 28.0);
        // MIT-style KKDCP ≈ 4×25 + 2 + 3 (+ TLS crypto): in the 80-120 ms band.
        let mit = row(&r, "kkdcp-tls12-per-message").exchange_ms;
        assert!((100.0..=120.0).contains(&mit), "{mit}");
        let tls13 = row(&r, "kkdcp-tls13-per-message").exchange_ms;
        assert!((80.0..=85.0).contains(&tls13), "{tls13}");
        // Keep-alive brings the relay within a few ms of native.
        let keep = row(&r, "kkdcp-keepalive").exchange_ms;
        assert!(keep < 32.0 && keep > 28.0, "{keep}");
        // Racing saves the timeout minus the race delay.
        let saved = row(&r, "fallback-timeout").logon_ms - row(&r, "fallback-racing").logon_ms;
        assert_eq!(saved, 3000.0 - 200.0);
    }

    #[test]
    fn keys_are_unique() {
        let r = rows(&LinkParams::WAN);
        let mut keys: Vec<&str> = r.iter().map(|r| r.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), r.len());
    }
}
