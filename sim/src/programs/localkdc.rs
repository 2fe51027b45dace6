//! LocalKDC in the simulation (issue 8), both placements of DESIGN §3:
//!
//! * **on-client** (`[host.client.localkdc]`): a `kerbside_kdc::localkdc`
//!   on-client KDC inside the client host, the negotiator's LocalKDC
//!   stage. Realm `<HOST>.LOCALKDC`; the computer account `<HOST>$` with
//!   the keys the client realm holds for it (what the LocalKDC cached
//!   while online, stamped with the host's clock at start); the approved
//!   services with their enrolment keys.
//! * **on-target** (`[host.app] local_kdc = "REALM"`): built by the app
//!   program from that realm's principals (the machine's local accounts).
//!
//! Enrolment keys are drawn from the run seed per (client, service), so
//! the laptop and the enrolled server derive the same key independently
//! and nothing outside the run can guess it.
//!
//! Every ticket the on-client LocalKDC issues is opened with its own store
//! (an independent check of the policy) and recorded as a
//! `localkdc-ticket` event: lifetime, cap, and whether the service was
//! approved; its policy decisions become `localkdc` events. The
//! `localkdc-limit` invariant reads them.

use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use kerbside_client::negotiator::Route;
use kerbside_crypto::{EncType, Key};
use kerbside_kdc::localkdc::{
    ClientKinds, Enrolment, LocalKdcAudit, LocalKdcTrust, OnClientCache, OnClientConfig, on_client,
};
use kerbside_kdc::{Kdc, PrincipalKind, PrincipalStore};
use kerbside_net::app_kdc_forward::InProcessKdc;
use kerbside_net::host_rng;
use kerbside_net::negotiator_driver::{StageFuture, StageHandler};
use kerbside_wire::krb::asn1::{EncTicketPart, Ticket};
use kerbside_wire::krb::constants::key_usage;
use kerbside_wire::krb::{KrbMessage, decode, decode_der};
use kerbside_wire::time::unix_seconds;

use crate::clock::SimClock;
use crate::runner::Prepared;
use crate::scenario::{ClientLocalKdc, Host};
use crate::world::World;

/// The on-client LocalKDC's realm for a client host.
pub fn localkdc_realm(client_host: &str) -> String {
    format!("{}.LOCALKDC", client_host.to_ascii_uppercase())
}

/// The default lifetime cap.
fn lifetime(opts: &ClientLocalKdc) -> Duration {
    opts.lifetime
        .map_or(kerbside_kdc::localkdc::ON_CLIENT_LIFETIME, |d| d.0)
}

/// The enrolment of `spn` with `client_host`'s LocalKDC, the same on both
/// ends for one run seed.
pub fn enrolment(seed: u64, client_host: &str, spn: &str) -> Enrolment {
    let comps: Vec<&str> = spn.split('/').collect();
    let mut rng = host_rng(
        seed,
        &format!("enrolment {} {spn}", client_host.to_ascii_lowercase()),
    );
    Enrolment::new(
        &localkdc_realm(client_host),
        &comps,
        EncType::Aes256CtsHmacSha196,
        &mut rng,
    )
}

/// What a server enrolled with `client`'s LocalKDC holds for the services
/// it serves: the enrolment keys and the trust rule.
pub fn server_side(
    prepared: &Prepared,
    seed: u64,
    client: &str,
    served: &[Vec<String>],
) -> Option<(Vec<Enrolment>, LocalKdcTrust)> {
    let host = prepared
        .scenario
        .hosts
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(client))?;
    let opts = host.client.as_ref()?.localkdc.as_ref()?;
    let enrolments = opts
        .services
        .iter()
        .filter(|s| served.iter().any(|c| c.join("/").eq_ignore_ascii_case(s)))
        .map(|s| enrolment(seed, &host.name, s))
        .collect();
    let trust = LocalKdcTrust {
        realm: localkdc_realm(&host.name),
        max_lifetime: lifetime(opts),
        computer_accounts_only: !opts.users,
    };
    Some((enrolments, trust))
}

/// The client host's LocalKDC stage, when it has one.
pub fn client_stage(
    prepared: &Prepared,
    host: &Host,
    clock: &SimClock,
    seed: u64,
    world: &World,
) -> Result<Option<Rc<dyn StageHandler>>, String> {
    let Some(opts) = host.client.as_ref().and_then(|c| c.localkdc.as_ref()) else {
        return Ok(None);
    };
    let realm_name = prepared
        .client_realm(host)
        .ok_or_else(|| format!("{}: LocalKDC needs a client realm", host.name))?;
    let realm = prepared
        .realm(&realm_name)
        .ok_or_else(|| format!("{}: no realm {realm_name}", host.name))?;
    let mut cfg = OnClientConfig::new(&host.name, "");
    cfg.max_lifetime = lifetime(opts);
    if let Some(m) = opts.max_offline {
        cfg.max_offline = m.0;
    }
    let computer = cfg.computer_account();
    // What the LocalKDC cached while online: the computer account's keys
    // (and the users', when it serves them) as the realm holds them.
    cfg.cached_accounts = realm
        .store
        .iter()
        .filter(|e| {
            let name = e.principal.components();
            (name.len() == 1 && name[0] == computer)
                || (opts.users && name.len() == 1 && e.kind == PrincipalKind::User)
        })
        .cloned()
        .collect();
    if opts.users {
        cfg.clients = ClientKinds::users_and_computers();
    }
    cfg.enctypes = vec![EncType::Aes256CtsHmacSha196];
    let enrolments: Vec<Enrolment> = opts
        .services
        .iter()
        .map(|s| enrolment(seed, &host.name, s))
        .collect();
    let approved: BTreeSet<Vec<String>> = enrolments.iter().map(|e| e.service.clone()).collect();
    let mut keys_rng = host_rng(seed, &format!("localkdc {}", host.name));
    let built = on_client(
        &cfg,
        &OnClientCache {
            fetched_at: kerbside_net::Clock::now(clock),
            enrolments,
        },
        &mut keys_rng,
    )
    .map_err(|e| format!("{}: LocalKDC: {e}", host.name))?;
    let store = built.kdc.store().clone();
    let kdc_rng = host_rng(seed, &format!("localkdc-kdc {}", host.name));
    Ok(Some(Rc::new(LocalKdcStage {
        inner: InProcessKdc::new(built.kdc, clock.clone(), kdc_rng),
        audit: built.audit,
        store,
        approved,
        cap: cfg.max_lifetime,
        realm: cfg.realm(),
        world: world.clone(),
        host: host.name.clone(),
    })))
}

/// The LocalKDC stage with its audit trail and ticket checks.
struct LocalKdcStage {
    inner: InProcessKdc<SimClock>,
    audit: Arc<LocalKdcAudit>,
    store: PrincipalStore,
    approved: BTreeSet<Vec<String>>,
    cap: Duration,
    realm: String,
    world: World,
    host: String,
}

impl LocalKdcStage {
    /// Opens the ticket in a reply with the LocalKDC's own keys and records
    /// what it really grants.
    fn inspect(&self, reply: &[u8]) {
        let ticket: Ticket = match decode(reply) {
            Ok(KrbMessage::AsRep(r)) => r.ticket,
            Ok(KrbMessage::TgsRep(r)) => r.ticket,
            _ => return,
        };
        let service = ticket.sname.name_string.clone();
        let opened = self
            .store
            .get(&service)
            .and_then(|e| {
                e.keys
                    .iter()
                    .find(|k| k.etype().id() == ticket.enc_part.etype)
                    .cloned()
            })
            .and_then(|k: Key| {
                k.decrypt(key_usage::KDC_REP_TICKET, &ticket.enc_part.cipher)
                    .ok()
            })
            .and_then(|plain| decode_der::<EncTicketPart>(&plain).ok());
        let detail = match opened {
            Some(part) => {
                let start = part
                    .starttime
                    .as_ref()
                    .map_or_else(|| unix_seconds(&part.authtime), unix_seconds);
                let life = unix_seconds(&part.endtime).saturating_sub(start);
                let is_tgs = service.first().is_some_and(|c| c == "krbtgt");
                serde_json::json!({
                    "host": self.host,
                    "realm": self.realm,
                    "client": format!("{}@{}", part.cname.name_string.join("/"), part.crealm),
                    "service": service.join("/"),
                    "lifetime_secs": life,
                    "cap_secs": self.cap.as_secs(),
                    "approved": is_tgs || self.approved.contains(&service),
                    "renewable": part.renew_till.is_some(),
                })
            }
            None => serde_json::json!({
                "host": self.host,
                "realm": self.realm,
                "service": service.join("/"),
                "opened": false,
            }),
        };
        self.world
            .record_event("localkdc-ticket", detail.to_string());
    }

    fn drain_audit(&self) {
        for d in self.audit.drain() {
            if let Ok(json) = serde_json::to_string(&d) {
                self.world
                    .record_event("localkdc", format!("{} {json}", self.host));
            }
        }
    }
}

impl StageHandler for LocalKdcStage {
    fn exchange<'a>(
        &'a self,
        route: &'a Route,
        realm: &'a str,
        message: &'a [u8],
    ) -> StageFuture<'a> {
        let fut = self.inner.exchange(route, realm, message);
        Box::pin(async move {
            let r = fut.await;
            self.drain_audit();
            if let Ok(reply) = &r {
                self.inspect(reply);
            }
            r
        })
    }
}

/// The on-target LocalKDC of an app host: `realm`'s principals, 10-hour
/// tickets, users and computers (Windows build 29617, protocols.md §3.2).
pub fn on_target_kdc(
    prepared: &Prepared,
    realm: &str,
) -> Result<(Kdc, Arc<LocalKdcAudit>), String> {
    use kerbside_kdc::localkdc::{LocalKdcPolicy, ON_TARGET_LIFETIME, Placement};
    let data = prepared
        .realm(realm)
        .ok_or_else(|| format!("no realm {realm}"))?;
    let audit = Arc::new(LocalKdcAudit::new());
    let mut config = kerbside_kdc::KdcConfig::new(data.store.realm().to_owned());
    config.enctypes = crate::runner::SIM_ENCTYPES.to_vec();
    config.ticket_lifetime = ON_TARGET_LIFETIME;
    let policy = LocalKdcPolicy {
        placement: Placement::OnTarget,
        realm: data.store.realm().to_owned(),
        max_lifetime: ON_TARGET_LIFETIME,
        allowlist: None,
        clients: ClientKinds::users_and_computers(),
        max_offline: None,
        audit: audit.clone(),
    };
    let kdc = Kdc::with_policy(config, data.store.clone(), Arc::new(policy))
        .map_err(|e| format!("LocalKDC {realm}: {e}"))?;
    Ok((kdc, audit))
}
