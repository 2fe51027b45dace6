//! [`LocalKdcPolicy`]: the issue policy that makes the KDC core a LocalKDC.
//!
//! Checked every time the core is about to issue (after the client
//! authenticated), in this order, each refusal KDC_ERR_POLICY with a reason
//! that says which limit:
//! 1. the cached approvals are not stale (on-client: fetched within
//!    `max_offline`);
//! 2. the client's account kind is allowed (on-client: computer accounts
//!    only by default);
//! 3. the service is approved: the TGS itself, or a service on the
//!    allowlist (on-client), or any of the machine's services (on-target);
//!
//! then the lifetime cap (the core takes the minimum of the cap, the
//! request and the TGT, so a ticket never outlives the cap), no renewable
//! and no forwardable tickets: an offline KDC has no business extending or
//! delegating credentials.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::codes::ErrorCode;
use crate::policy::{Exchange, IssueContext, IssueLimits, IssuePolicy, PolicyDenial};
use crate::store::PrincipalKind;

use super::audit::{LocalKdcAudit, LocalKdcDecision, LocalKdcEvent};

/// Where the LocalKDC runs (DESIGN §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// On the application server, reached through IAKERB.
    OnTarget,
    /// On the client, for offline sites.
    OnClient,
}

impl Placement {
    /// `on-target` / `on-client`.
    pub fn name(self) -> &'static str {
        match self {
            Placement::OnTarget => "on-target",
            Placement::OnClient => "on-client",
        }
    }
}

/// Which account kinds may get tickets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientKinds(pub BTreeSet<PrincipalKind>);

impl ClientKinds {
    /// Computer accounts only (the seed's first release).
    pub fn computers() -> Self {
        Self([PrincipalKind::Computer].into_iter().collect())
    }

    /// Users and computers (local accounts on the target).
    pub fn users_and_computers() -> Self {
        Self(
            [PrincipalKind::User, PrincipalKind::Computer]
                .into_iter()
                .collect(),
        )
    }

    fn allows(&self, k: PrincipalKind) -> bool {
        self.0.contains(&k)
    }
}

/// A LocalKDC's limits.
#[derive(Debug)]
pub struct LocalKdcPolicy {
    /// Where it runs.
    pub placement: Placement,
    /// The realm (for audit records).
    pub realm: String,
    /// Longest ticket lifetime.
    pub max_lifetime: Duration,
    /// Approved services (name components); `None` approves every service
    /// in the store (on-target: they are the machine's own).
    pub allowlist: Option<BTreeSet<Vec<String>>>,
    /// Account kinds that may get tickets.
    pub clients: ClientKinds,
    /// Approvals older than this (since `fetched_at`) are stale.
    pub max_offline: Option<(SystemTime, Duration)>,
    /// Where decisions are recorded.
    pub audit: Arc<LocalKdcAudit>,
}

impl LocalKdcPolicy {
    fn check(&self, ctx: &IssueContext<'_>) -> Result<IssueLimits, PolicyDenial> {
        if let Some((fetched, max)) = self.max_offline {
            let age = ctx.now.duration_since(fetched).unwrap_or(Duration::ZERO);
            if age > max {
                return Err(PolicyDenial::policy(format!(
                    "LocalKDC approvals fetched {}s ago are older than the {}s offline limit",
                    age.as_secs(),
                    max.as_secs()
                )));
            }
        }
        let kind = ctx.client_entry.kind;
        if !self.clients.allows(kind) {
            return Err(PolicyDenial::policy(format!(
                "LocalKDC ({}) issues tickets to {} accounts only, not to {} {}",
                self.placement.name(),
                kinds(&self.clients),
                kind.name(),
                ctx.client
            )));
        }
        let server = ctx.server.principal.components();
        let is_tgs = ctx.server.kind == PrincipalKind::Tgs;
        if !is_tgs
            && let Some(list) = &self.allowlist
            && !list.contains(server)
        {
            return Err(PolicyDenial {
                code: ErrorCode::KDC_ERR_POLICY,
                reason: format!(
                    "service {} is not on the LocalKDC allowlist",
                    ctx.server.principal
                ),
            });
        }
        Ok(IssueLimits {
            max_lifetime: self.max_lifetime,
            max_renewable: Duration::ZERO,
            allow_forwardable: false,
        })
    }
}

fn kinds(k: &ClientKinds) -> String {
    k.0.iter().map(|k| k.name()).collect::<Vec<_>>().join("/")
}

fn exchange_name(e: Exchange) -> &'static str {
    match e {
        Exchange::As => "as",
        Exchange::Tgs => "tgs",
        Exchange::Renew => "renew",
    }
}

impl IssuePolicy for LocalKdcPolicy {
    fn limits(&self, ctx: &IssueContext<'_>) -> Result<IssueLimits, PolicyDenial> {
        let result = self.check(ctx);
        let decision = match &result {
            Ok(l) => LocalKdcDecision::Granted {
                max_lifetime_secs: l.max_lifetime.as_secs(),
            },
            Err(d) => LocalKdcDecision::Refused {
                code: d.code.0,
                reason: d.reason.clone(),
            },
        };
        self.audit.record(LocalKdcEvent {
            at: ctx.now,
            placement: self.placement,
            realm: self.realm.clone(),
            exchange: exchange_name(ctx.exchange),
            client: ctx.client.to_string(),
            client_kind: ctx.client_entry.kind.name(),
            service: ctx.server.principal.to_string(),
            decision,
        });
        result
    }
}
