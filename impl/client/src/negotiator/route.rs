//! Routes: the concrete endpoints a KDC message can travel over, and the
//! plan that orders them from the policy.
//!
//! A *path* is a kind of route (native TCP, KKDCP, ...); a *route* is one
//! endpoint of it (`dc2:88` over TCP, `https://relay/KdcProxy`). The plan is
//! stage-major in the policy's `order`, and inside native Kerberos
//! transport-major like MIT's `k5_sendto` pass 1 (every DC over the
//! preferred transport, then every DC over the other): a dead first DC then
//! costs one timeout before the second DC is asked, not two.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::policy::{Policy, Stage, parse_host_port};

/// The kind of path a logon took (the same names as the simulation's
/// scenario files use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathKind {
    /// Kerberos over TCP to a KDC (RFC 4120 §7.2.2).
    NativeTcp,
    /// Kerberos over UDP to a KDC (RFC 4120 §7.2.1).
    NativeUdp,
    /// Kerberos through an MS-KKDCP relay.
    Kkdcp,
    /// Kerberos through the target server (IAKERB).
    Iakerb,
    /// A LocalKDC.
    Localkdc,
    /// NTLM (MS-NLMP).
    Ntlm,
    /// Tickets already in the ticket cache: no KDC was asked.
    Cache,
    /// No path worked.
    None,
}

impl PathKind {
    /// The name used in files and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            PathKind::NativeTcp => "native-tcp",
            PathKind::NativeUdp => "native-udp",
            PathKind::Kkdcp => "kkdcp",
            PathKind::Iakerb => "iakerb",
            PathKind::Localkdc => "localkdc",
            PathKind::Ntlm => "ntlm",
            PathKind::Cache => "cache",
            PathKind::None => "none",
        }
    }
}

impl fmt::Display for PathKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// TCP or UDP to a KDC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KdcTransport {
    /// RFC 4120 §7.2.2: 4-octet length prefix, stream.
    Tcp,
    /// RFC 4120 §7.2.1: one datagram each way.
    Udp,
}

/// One endpoint a KDC message can be sent through.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "kebab-case")]
pub enum Route {
    /// A KDC, directly.
    Native {
        /// TCP or UDP.
        transport: KdcTransport,
        /// Host name or address.
        host: String,
        /// Port (88).
        port: u16,
    },
    /// An MS-KKDCP relay.
    Kkdcp {
        /// The relay URL.
        url: String,
    },
    /// IAKERB through the application server (issue 8's handler).
    Iakerb {
        /// The target server's host.
        server: String,
        /// Its application port.
        port: u16,
    },
    /// A LocalKDC (issue 8's handler).
    Localkdc,
}

impl Route {
    /// The path this route belongs to.
    pub fn path(&self) -> PathKind {
        match self {
            Route::Native {
                transport: KdcTransport::Tcp,
                ..
            } => PathKind::NativeTcp,
            Route::Native {
                transport: KdcTransport::Udp,
                ..
            } => PathKind::NativeUdp,
            Route::Kkdcp { .. } => PathKind::Kkdcp,
            Route::Iakerb { .. } => PathKind::Iakerb,
            Route::Localkdc => PathKind::Localkdc,
        }
    }

    /// The policy stage this route belongs to.
    pub fn stage(&self) -> Stage {
        match self {
            Route::Native { .. } => Stage::Native,
            Route::Kkdcp { .. } => Stage::Kkdcp,
            Route::Iakerb { .. } => Stage::Iakerb,
            Route::Localkdc => Stage::Localkdc,
        }
    }

    /// Where, for people and audit records (`dc1:88`,
    /// `https://relay/KdcProxy`, `app.corp.example`, `localkdc`).
    pub fn endpoint(&self) -> String {
        match self {
            Route::Native { host, port, .. } if host.contains(':') => format!("[{host}]:{port}"),
            Route::Native { host, port, .. } => format!("{host}:{port}"),
            Route::Kkdcp { url } => url.clone(),
            Route::Iakerb { server, port } => format!("{server}:{port}"),
            Route::Localkdc => "localkdc".to_owned(),
        }
    }

    /// The negative-cache key: path and endpoint (TCP and UDP to one DC
    /// fail independently, a firewall may block one and not the other).
    pub fn cache_key(&self) -> String {
        format!("{}:{}", self.path(), self.endpoint())
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.path(), self.endpoint())
    }
}

/// Which pluggable stages the driver can carry (IAKERB and LocalKDC are
/// filled in by issue 8; until a driver says it has them, they are
/// reported as not available, never faked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The driver can proxy KDC messages through the target server.
    pub iakerb: bool,
    /// The driver can reach a LocalKDC.
    pub localkdc: bool,
}

/// A stage the policy enables but that cannot be used for this logon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    /// The path.
    pub path: PathKind,
    /// The endpoint it would have used.
    pub endpoint: String,
    /// Why not.
    pub reason: String,
}

/// Every route of a logon in order, plus the stages that cannot be used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Routes in the order the policy wants them tried.
    pub routes: Vec<Route>,
    /// Enabled stages with no usable route.
    pub unavailable: Vec<Unavailable>,
}

/// Orders the policy's endpoints for a logon to `server` (host and port of
/// the application server, when there is one: IAKERB goes through it).
pub fn plan(policy: &Policy, server: Option<(&str, u16)>, caps: Capabilities) -> Plan {
    let mut out = Plan::default();
    for stage in &policy.order {
        match stage {
            Stage::Native => {
                let mut transports = Vec::new();
                if policy.native.tcp {
                    transports.push(KdcTransport::Tcp);
                }
                if policy.native.udp {
                    if policy.native.udp_first {
                        transports.insert(0, KdcTransport::Udp);
                    } else {
                        transports.push(KdcTransport::Udp);
                    }
                }
                for transport in transports {
                    for kdc in &policy.native.kdcs {
                        // Malformed entries are rejected by Policy::validate;
                        // one that slips through is skipped, not guessed at.
                        if let Some((host, port)) = parse_host_port(kdc, 88) {
                            out.routes.push(Route::Native {
                                transport,
                                host,
                                port,
                            });
                        }
                    }
                }
            }
            Stage::Kkdcp => {
                for url in &policy.kkdcp.relays {
                    out.routes.push(Route::Kkdcp { url: url.clone() });
                }
            }
            Stage::Iakerb if policy.iakerb.enabled => match (server, caps.iakerb) {
                (Some((host, port)), true) => out.routes.push(Route::Iakerb {
                    server: host.to_owned(),
                    port,
                }),
                (s, has) => out.unavailable.push(Unavailable {
                    path: PathKind::Iakerb,
                    endpoint: s.map(|(h, p)| format!("{h}:{p}")).unwrap_or_default(),
                    reason: if !has {
                        "no IAKERB handler in this driver".to_owned()
                    } else {
                        "no target server to proxy through".to_owned()
                    },
                }),
            },
            Stage::Localkdc if policy.localkdc.enabled => {
                if caps.localkdc {
                    out.routes.push(Route::Localkdc);
                } else {
                    out.unavailable.push(Unavailable {
                        path: PathKind::Localkdc,
                        endpoint: "localkdc".to_owned(),
                        reason: "no LocalKDC handler in this driver".to_owned(),
                    });
                }
            }
            Stage::Iakerb | Stage::Localkdc => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        let mut p = Policy::default();
        p.native.kdcs = vec!["dc1".into(), "dc2:1088".into()];
        p.kkdcp.relays = vec!["https://r1/KdcProxy".into(), "https://r2/KdcProxy".into()];
        p
    }

    fn endpoints(plan: &Plan) -> Vec<String> {
        plan.routes.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn default_order_is_tcp_dcs_then_relays() {
        let p = plan(&policy(), Some(("app", 445)), Capabilities::default());
        assert_eq!(
            endpoints(&p),
            [
                "native-tcp dc1:88",
                "native-tcp dc2:1088",
                "kkdcp https://r1/KdcProxy",
                "kkdcp https://r2/KdcProxy"
            ]
        );
        assert!(p.unavailable.is_empty(), "disabled stages are not listed");
    }

    #[test]
    fn udp_is_transport_major_and_can_go_first() {
        let mut pol = policy();
        pol.native.udp = true;
        pol.kkdcp.relays.clear();
        let p = plan(&pol, None, Capabilities::default());
        assert_eq!(
            endpoints(&p),
            [
                "native-tcp dc1:88",
                "native-tcp dc2:1088",
                "native-udp dc1:88",
                "native-udp dc2:1088"
            ]
        );
        pol.native.udp_first = true;
        let p = plan(&pol, None, Capabilities::default());
        assert_eq!(p.routes[0].path(), PathKind::NativeUdp);
        assert_eq!(p.routes[2].path(), PathKind::NativeTcp);
    }

    #[test]
    fn order_is_the_policys() {
        let mut pol = policy();
        pol.order = vec![Stage::Kkdcp, Stage::Native];
        let p = plan(&pol, None, Capabilities::default());
        assert_eq!(p.routes[0].path(), PathKind::Kkdcp);
        assert_eq!(p.routes[3].path(), PathKind::NativeTcp);
        pol.order = vec![Stage::Kkdcp];
        assert_eq!(plan(&pol, None, Capabilities::default()).routes.len(), 2);
    }

    #[test]
    fn pluggable_stages_are_reported_not_faked() {
        let mut pol = policy();
        pol.iakerb.enabled = true;
        pol.localkdc.enabled = true;
        let p = plan(&pol, Some(("app.corp", 445)), Capabilities::default());
        assert_eq!(p.routes.len(), 4);
        assert_eq!(p.unavailable.len(), 2);
        assert_eq!(p.unavailable[0].path, PathKind::Iakerb);
        assert!(p.unavailable[0].reason.contains("no IAKERB handler"));
        assert_eq!(p.unavailable[1].path, PathKind::Localkdc);

        let caps = Capabilities {
            iakerb: true,
            localkdc: true,
        };
        let p = plan(&pol, Some(("app.corp", 445)), caps);
        assert_eq!(
            endpoints(&p)[4..],
            ["iakerb app.corp:445", "localkdc localkdc"]
        );
        let p = plan(&pol, None, caps);
        assert!(p.unavailable[0].reason.contains("no target server"));
    }

    #[test]
    fn cache_keys_separate_transports() {
        let tcp = Route::Native {
            transport: KdcTransport::Tcp,
            host: "dc1".into(),
            port: 88,
        };
        let udp = Route::Native {
            transport: KdcTransport::Udp,
            host: "dc1".into(),
            port: 88,
        };
        assert_ne!(tcp.cache_key(), udp.cache_key());
        assert_eq!(tcp.cache_key(), "native-tcp:dc1:88");
        let v6 = Route::Native {
            transport: KdcTransport::Tcp,
            host: "::1".into(),
            port: 88,
        };
        assert_eq!(v6.endpoint(), "[::1]:88");
    }
}
