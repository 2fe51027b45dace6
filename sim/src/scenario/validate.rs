//! Semantic checks of a parsed scenario: every reference resolves, every
//! number is in range, and nothing is asked of a role this build cannot
//! simulate. Each problem names the field it concerns.

use std::collections::BTreeSet;
use std::fmt;

use super::model::{Action, Host, OneOrMany, Role, RuleSpec, Scenario};
use crate::canary::MIN_SECRET_LEN;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A field path such as `timeline[3].client`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    fn key(mut self, k: &str) -> Self {
        self.0.push(Seg::Key(k.to_owned()));
        self
    }
    fn idx(mut self, i: usize) -> Self {
        self.0.push(Seg::Index(i));
        self
    }
}

fn p(k: &str) -> FieldPath {
    FieldPath::default().key(k)
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

type Problem = (FieldPath, String);

/// Violation kinds a scenario may expect (negative tests).
pub const VIOLATION_KINDS: &[&str] = &[
    "canary",
    "hang",
    "panic",
    "host-error",
    "expectation",
    "audit",
    "ntlm-under-deny",
];

/// Failure kinds a logon expectation may name (`LogonError::kind` of the
/// negotiator, plus `setup` for a logon the agent could not even start).
pub const ERROR_KINDS: &[&str] = &[
    "policy",
    "unreachable",
    "kerberos",
    "integrity",
    "ntlm-denied",
    "no-credentials",
    "no-ntlm-credential",
    "downgrade",
    "server-authentication",
    "rejected",
    "app-protocol",
    "app",
    "app-timeout",
    "timeout",
    "setup",
];

/// Attempt outcomes `attempts_max` may bound.
pub const ATTEMPT_OUTCOMES: &[&str] = &[
    "ok",
    "krb-error",
    "refused",
    "timeout",
    "cancelled",
    "rejected",
    "error",
];

/// Roles that have a simulated program in this build.
fn simulated(role: Role) -> bool {
    matches!(
        role,
        Role::Client
            | Role::Kdc
            | Role::Relay
            | Role::Echo
            | Role::Leaker
            | Role::App
            | Role::Printer
            | Role::Attacker
            | Role::Hostile
            | Role::Balancer
    )
}

/// Parses the scenario's epoch.
pub fn parse_epoch(text: &str) -> Result<std::time::SystemTime, String> {
    let dt = chrono::DateTime::parse_from_rfc3339(text).map_err(|e| {
        format!("`{text}`: expected an RFC 3339 date-time such as 2026-03-02T08:00:00Z ({e})")
    })?;
    let secs =
        u64::try_from(dt.timestamp()).map_err(|_| format!("`{text}`: must not be before 1970"))?;
    Ok(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Checks a scenario; the first problem found is returned.
pub fn validate(s: &Scenario) -> Result<(), Problem> {
    Checker { s }.run()
}

struct Checker<'a> {
    s: &'a Scenario,
}

impl Checker<'_> {
    fn host(&self, name: &str) -> Option<&Host> {
        self.s.hosts.iter().find(|h| {
            h.name.eq_ignore_ascii_case(name)
                || h.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    }

    fn need_host(&self, path: FieldPath, name: &str) -> Result<&Host, Problem> {
        self.host(name)
            .ok_or_else(|| (path, format!("no host named `{name}`")))
    }

    fn need_hosts(
        &self,
        path: FieldPath,
        names: &OneOrMany,
        allow_patterns: bool,
    ) -> Result<(), Problem> {
        for n in names.names() {
            if allow_patterns && n == "*" {
                continue;
            }
            if allow_patterns && let Some(role) = n.strip_prefix("role:") {
                let known = [
                    "client", "kdc", "relay", "app", "localkdc", "printer", "attacker", "echo",
                    "leaker", "hostile", "balancer",
                ];
                if !known.contains(&role) {
                    return Err((
                        path,
                        format!(
                            "unknown role `{role}` (expected one of {})",
                            known.join(", ")
                        ),
                    ));
                }
                continue;
            }
            self.need_host(path.clone(), n)?;
        }
        Ok(())
    }

    /// IAKERB, LocalKDC and replay options (issue 8).
    fn issue8_checks(&self, i: usize, h: &Host) -> Result<(), Problem> {
        let s = self.s;
        let hp = p("host").idx(i);
        if let Some(a) = &h.attacker {
            for (k, t) in a.replay_to.iter().enumerate() {
                let tp = hp.clone().key("attacker").key("replay_to").idx(k);
                let th = self.need_host(tp.clone(), t)?;
                if !matches!(th.role, Role::App | Role::Printer) {
                    return Err((tp, format!("`{t}` is a {}, not an app server", th.role)));
                }
            }
        }
        if let Some(a) = &h.app {
            if let Some(r) = &a.local_kdc {
                let Some(realm) = s.realms.iter().find(|x| x.name.eq_ignore_ascii_case(r)) else {
                    return Err((
                        hp.key("app").key("local_kdc"),
                        format!("no realm named `{r}`"),
                    ));
                };
                if !realm.kdcs.is_empty() {
                    return Err((
                        hp.key("app").key("local_kdc"),
                        format!(
                            "realm `{r}` lists KDC hosts: an on-target LocalKDC's realm has none (it is reached through IAKERB)"
                        ),
                    ));
                }
            }
            for (k, c) in a.trust_localkdc_of.iter().enumerate() {
                let cp = hp.clone().key("app").key("trust_localkdc_of").idx(k);
                let ch = self.need_host(cp.clone(), c)?;
                if ch
                    .client
                    .as_ref()
                    .and_then(|o| o.localkdc.as_ref())
                    .is_none()
                {
                    return Err((cp, format!("`{c}` has no `[host.client.localkdc]`")));
                }
            }
        }
        if let Some(lk) = h.client.as_ref().and_then(|c| c.localkdc.as_ref()) {
            let lp = hp.clone().key("client").key("localkdc");
            let name = h.name.to_ascii_uppercase();
            if name.is_empty() || name.len() > 15 || name.contains(['.', ' ']) {
                return Err((
                    lp,
                    format!(
                        "host `{}` cannot name a LocalKDC realm (1-15 characters, no dots)",
                        h.name
                    ),
                ));
            }
            let computer = format!("{name}$");
            if !self.user_exists(h, &computer) {
                return Err((
                    lp,
                    format!(
                        "the client realm has no computer account `{computer}` for the LocalKDC"
                    ),
                ));
            }
            for (k, svc) in lk.services.iter().enumerate() {
                if svc.split('/').count() != 2 || svc.contains('@') {
                    return Err((
                        lp.clone().key("services").idx(k),
                        format!("`{svc}` is not a service/host name"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn loss(&self, path: FieldPath, v: Option<f64>) -> Result<(), Problem> {
        match v {
            Some(x) if !(0.0..=1.0).contains(&x) || x.is_nan() => {
                Err((path, format!("{x} is not a probability (0.0 to 1.0)")))
            }
            _ => Ok(()),
        }
    }

    /// The realm a principal name refers to from a client's realm.
    fn user_exists(&self, client: &Host, user: &str) -> bool {
        let (name, realm) = match user.rsplit_once('@') {
            Some((n, r)) => (n, Some(r)),
            None => (user, None),
        };
        let realm = realm
            .map(str::to_owned)
            .or_else(|| self.client_realm(client));
        self.s
            .realms
            .iter()
            .filter(|r| {
                realm
                    .as_deref()
                    .is_none_or(|x| x.eq_ignore_ascii_case(&r.name))
            })
            .any(|r| r.principals.iter().any(|pr| pr.name == name))
    }

    fn client_realm(&self, client: &Host) -> Option<String> {
        client
            .client
            .as_ref()
            .and_then(|c| c.realm.clone())
            .or_else(|| (self.s.realms.len() == 1).then(|| self.s.realms[0].name.clone()))
    }

    fn rule(&self, path: FieldPath, r: &RuleSpec) -> Result<(), Problem> {
        self.need_hosts(path.clone().key("from"), &r.from, true)?;
        self.need_hosts(path.key("to"), &r.to, true)
    }

    fn run(&self) -> Result<(), Problem> {
        let s = self.s;
        if s.name.trim().is_empty() {
            return Err((p("name"), "must not be empty".into()));
        }
        if s.description.trim().is_empty() {
            return Err((p("description"), "must say what the scenario checks".into()));
        }
        if s.seeds == 0 {
            return Err((p("seeds"), "must be at least 1".into()));
        }
        parse_epoch(&s.epoch).map_err(|m| (p("epoch"), m))?;
        if s.tick.0.is_zero() || s.tick.0 > std::time::Duration::from_secs(1) {
            return Err((p("tick"), "must be between 1ns and 1s".into()));
        }
        if s.duration.0.is_zero() {
            return Err((p("duration"), "must be positive".into()));
        }
        if s.hosts.is_empty() {
            return Err((p("host"), "a scenario needs at least one host".into()));
        }

        // Hosts.
        let mut names = BTreeSet::new();
        let mut addrs = BTreeSet::new();
        for (i, h) in s.hosts.iter().enumerate() {
            let hp = p("host").idx(i);
            if h.name.is_empty()
                || !h
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                return Err((
                    hp.key("name"),
                    "host names use letters, digits, '-' and '.'".into(),
                ));
            }
            for n in std::iter::once(&h.name).chain(h.aliases.iter()) {
                if !names.insert(n.to_ascii_lowercase()) {
                    return Err((hp.key("name"), format!("`{n}` is defined twice")));
                }
            }
            if let Some(a) = h.address {
                if a.is_unspecified() || a.is_loopback() || a.is_broadcast() || a.is_multicast() {
                    return Err((hp.key("address"), format!("{a} cannot be a host address")));
                }
                if !addrs.insert(a) {
                    return Err((hp.key("address"), format!("{a} is used twice")));
                }
            }
            if h.role == Role::Localkdc {
                return Err((
                    hp.key("role"),
                    "a LocalKDC runs inside the host that uses it: `[host.client.localkdc]` on \
                     a client, `[host.app] local_kdc` on an application server"
                        .into(),
                ));
            }
            if !simulated(h.role) {
                return Err((
                    hp.key("role"),
                    format!(
                        "role `{}` has no simulated program yet in this build",
                        h.role
                    ),
                ));
            }
            let opts = [
                ("kdc", h.kdc.is_some(), Role::Kdc),
                ("relay", h.relay.is_some(), Role::Relay),
                ("client", h.client.is_some(), Role::Client),
                ("echo", h.echo.is_some(), Role::Echo),
                ("leaker", h.leaker.is_some(), Role::Leaker),
                ("attacker", h.attacker.is_some(), Role::Attacker),
                ("hostile", h.hostile.is_some(), Role::Hostile),
                ("balancer", h.balancer.is_some(), Role::Balancer),
            ];
            if h.app.is_some() && !matches!(h.role, Role::App | Role::Printer) {
                return Err((
                    hp.key("app"),
                    format!("`[host.app]` options on a host whose role is `{}`", h.role),
                ));
            }
            for (key, present, role) in opts {
                if present && h.role != role {
                    return Err((
                        hp.key(key),
                        format!(
                            "`[host.{key}]` options on a host whose role is `{}`",
                            h.role
                        ),
                    ));
                }
            }
            if h.role == Role::Attacker && h.attacker.is_none() {
                return Err((
                    hp.key("attacker"),
                    "an attacker needs `[host.attacker]` options (target, strip_kerberos)".into(),
                ));
            }
            if h.role == Role::Balancer && h.balancer.is_none() {
                return Err((
                    hp.key("balancer"),
                    "a balancer needs `[host.balancer]` options (backends)".into(),
                ));
            }
            if h.role == Role::Hostile && h.hostile.is_none() {
                return Err((
                    hp.key("hostile"),
                    "a hostile client needs `[host.hostile]` options (mode, targets)".into(),
                ));
            }
            if h.role == Role::Leaker && h.leaker.is_none() {
                return Err((
                    hp.key("leaker"),
                    "a leaker needs `[host.leaker]` options".into(),
                ));
            }
        }

        // Realms.
        let mut realm_names = BTreeSet::new();
        for (i, r) in s.realms.iter().enumerate() {
            let rp = p("realm").idx(i);
            if r.name.is_empty() || !realm_names.insert(r.name.to_ascii_uppercase()) {
                return Err((
                    rp.key("name"),
                    format!("realm `{}` is empty or defined twice", r.name),
                ));
            }
            for (k, kdc) in r.kdcs.iter().enumerate() {
                let h = self.need_host(rp.clone().key("kdcs").idx(k), kdc)?;
                if h.role != Role::Kdc {
                    return Err((
                        rp.key("kdcs").idx(k),
                        format!("`{kdc}` is a {}, not a kdc", h.role),
                    ));
                }
            }
            let mut pn = BTreeSet::new();
            for (j, pr) in r.principals.iter().enumerate() {
                let pp = rp.clone().key("principal").idx(j);
                if !pn.insert(pr.name.clone()) {
                    return Err((pp.key("name"), format!("`{}` is defined twice", pr.name)));
                }
                if pr.password.chars().count() < MIN_SECRET_LEN.max(8) {
                    return Err((
                        pp.key("password"),
                        "passwords are at least 8 characters: shorter ones cannot be told apart from chance \
                         matches when the wire is scanned for secrets"
                            .into(),
                    ));
                }
            }
        }
        for (i, h) in s.hosts.iter().enumerate() {
            let hp = p("host").idx(i);
            match h.role {
                Role::Kdc => {
                    let own = h.kdc.as_ref().and_then(|k| k.realm.as_ref());
                    let listed = s
                        .realms
                        .iter()
                        .any(|r| r.kdcs.iter().any(|k| k.eq_ignore_ascii_case(&h.name)));
                    match own {
                        Some(r) if !s.realms.iter().any(|x| x.name.eq_ignore_ascii_case(r)) => {
                            return Err((
                                hp.key("kdc").key("realm"),
                                format!("no realm named `{r}`"),
                            ));
                        }
                        None if !listed => {
                            return Err((
                                hp.key("role"),
                                format!(
                                    "kdc `{}` serves no realm: list it in a realm's `kdcs`",
                                    h.name
                                ),
                            ));
                        }
                        _ => {}
                    }
                }
                Role::Relay => {
                    if let Some(o) = &h.relay {
                        for (k, r) in o.realms.iter().enumerate() {
                            if !s.realms.iter().any(|x| x.name.eq_ignore_ascii_case(r)) {
                                return Err((
                                    hp.key("relay").key("realms").idx(k),
                                    format!("no realm named `{r}`"),
                                ));
                            }
                        }
                    }
                }
                Role::Client => {
                    if self.client_realm(h).is_none() {
                        return Err((
                            hp.key("client").key("realm"),
                            "say which realm this client logs on to".into(),
                        ));
                    }
                    if let Some(r) = h.client.as_ref().and_then(|c| c.realm.as_ref())
                        && !s.realms.iter().any(|x| x.name.eq_ignore_ascii_case(r))
                    {
                        return Err((
                            hp.key("client").key("realm"),
                            format!("no realm named `{r}`"),
                        ));
                    }
                }
                Role::Leaker => {
                    if let Some(l) = &h.leaker {
                        self.need_host(hp.clone().key("leaker").key("to"), &l.to)?;
                        let user = l.user.split('@').next().unwrap_or(&l.user);
                        if !s
                            .realms
                            .iter()
                            .any(|r| r.principals.iter().any(|x| x.name == user))
                        {
                            return Err((
                                hp.key("leaker").key("user"),
                                format!("no principal named `{}`", l.user),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }

        // Network.
        self.loss(p("network").key("udp_loss"), s.network.udp_loss)?;
        self.loss(p("network").key("tcp_loss"), s.network.tcp_loss)?;
        for (i, l) in s.links.iter().enumerate() {
            let lp = p("link").idx(i);
            self.need_host(lp.clone().key("between"), &l.between[0])?;
            self.need_host(lp.clone().key("between"), &l.between[1])?;
            if l.between[0].eq_ignore_ascii_case(&l.between[1]) {
                return Err((lp.key("between"), "a link joins two different hosts".into()));
            }
            self.loss(lp.clone().key("udp_loss"), l.udp_loss)?;
            self.loss(lp.key("tcp_loss"), l.tcp_loss)?;
        }
        for (i, r) in s.firewall.iter().enumerate() {
            self.rule(p("firewall").idx(i), r)?;
        }

        // Policy: the scenario's, and each client's with its overrides.
        self.relays(p("policy").key("kkdcp").key("relays"), &s.policy.negotiator)?;
        for (i, h) in s.hosts.iter().enumerate() {
            let overrides = h.client.as_ref().and_then(|c| c.policy.as_ref());
            if overrides.is_none() {
                continue;
            }
            let cp = p("host").idx(i).key("client").key("policy");
            let merged = s.policy.merged(overrides).map_err(|m| (cp.clone(), m))?;
            self.relays(cp.key("kkdcp").key("relays"), &merged)?;
            for (k, kdc) in merged.native.kdcs.iter().enumerate() {
                let kp = p("host")
                    .idx(i)
                    .key("client")
                    .key("policy")
                    .key("native")
                    .key("kdcs")
                    .idx(k);
                let name = kdc.rsplit_once(':').map_or(kdc.as_str(), |(h, _)| h);
                self.need_host(kp, name)?;
            }
        }
        for (k, kdc) in s.policy.negotiator.native.kdcs.iter().enumerate() {
            let kp = p("policy").key("native").key("kdcs").idx(k);
            let name = kdc.rsplit_once(':').map_or(kdc.as_str(), |(h, _)| h);
            self.need_host(kp, name)?;
        }
        for (i, h) in s.hosts.iter().enumerate() {
            if let Some(a) = &h.attacker {
                let ap = p("host").idx(i).key("attacker").key("target");
                let t = self.need_host(ap.clone(), &a.target)?;
                if !matches!(t.role, Role::App | Role::Printer) {
                    return Err((
                        ap,
                        format!("`{}` is a {}, not an app server", t.name, t.role),
                    ));
                }
            }
            if let Some(a) = &h.app
                && let Some(r) = &a.realm
                && !s.realms.iter().any(|x| x.name.eq_ignore_ascii_case(r))
            {
                return Err((
                    p("host").idx(i).key("app").key("realm"),
                    format!("no realm named `{r}`"),
                ));
            }
            self.issue8_checks(i, h)?;
            if let Some(b) = &h.balancer {
                for (k, t) in b.backends.iter().enumerate() {
                    self.need_host(p("host").idx(i).key("balancer").key("backends").idx(k), t)?;
                }
            }
            if let Some(o) = &h.hostile {
                for (k, t) in o.targets.iter().enumerate() {
                    let tp = p("host").idx(i).key("hostile").key("targets").idx(k);
                    let th = self.need_host(tp.clone(), t)?;
                    if !matches!(th.role, Role::Kdc | Role::Relay | Role::App | Role::Printer) {
                        return Err((
                            tp,
                            format!(
                                "`{t}` is a {}: hostile clients attack KDCs, relays and app servers",
                                th.role
                            ),
                        ));
                    }
                }
            }
        }

        // Timeline.
        let mut labels = BTreeSet::new();
        for (i, ev) in s.timeline.iter().enumerate() {
            let ep = p("timeline").idx(i);
            match &ev.action {
                Action::Logon(l) => {
                    let h = self.need_host(ep.clone().key("client"), &l.client)?;
                    self.logon_checks(&ep, h, &l.user)?;
                    self.server_checks(&ep, l.server.as_deref())?;
                    if let Some(lb) = &l.label {
                        labels.insert(lb.clone());
                    }
                }
                Action::LogonMany(l) => {
                    if l.count == 0 {
                        return Err((ep.key("count"), "must be at least 1".into()));
                    }
                    if l.batch == Some(0) {
                        return Err((ep.key("batch"), "must be at least 1".into()));
                    }
                    if l.user.names().is_empty() {
                        return Err((ep.key("user"), "name at least one user".into()));
                    }
                    for c in l.client.names() {
                        let h = self.need_host(ep.clone().key("client"), c)?;
                        for u in l.user.names() {
                            self.logon_checks(&ep, h, u)?;
                        }
                    }
                    self.server_checks(&ep, l.server.as_deref())?;
                    if let Some(lb) = &l.label {
                        labels.insert(lb.clone());
                    }
                }
                Action::FirewallSet(f) => self.rule(ep.key("rule"), &f.rule)?,
                Action::FirewallClear(_) | Action::Warp(_) => {}
                Action::Partition(pa) => {
                    self.need_hosts(ep.clone().key("a"), &pa.a, false)?;
                    self.need_hosts(ep.key("b"), &pa.b, false)?;
                }
                Action::Heal(h) => {
                    if h.a.is_some() != h.b.is_some() {
                        return Err((
                            ep.key("a"),
                            "give both `a` and `b`, or neither to heal everything".into(),
                        ));
                    }
                    if let (Some(a), Some(b)) = (&h.a, &h.b) {
                        self.need_hosts(ep.clone().key("a"), a, false)?;
                        self.need_hosts(ep.key("b"), b, false)?;
                    }
                }
                Action::Crash(h) | Action::Restart(h) => {
                    self.need_host(ep.key("host"), &h.host)?;
                }
                Action::Skew(k) => {
                    self.need_host(ep.clone().key("host"), &k.host)?;
                    if k.set.is_some() == k.step.is_some() {
                        return Err((ep.key("set"), "give exactly one of `set` and `step`".into()));
                    }
                }
                Action::Delay(d) => {
                    self.need_host(ep.key("host"), &d.host)?;
                }
                Action::Errors(e) => {
                    let h = self.need_host(ep.clone().key("host"), &e.host)?;
                    if h.role != Role::Kdc {
                        return Err((
                            ep.key("host"),
                            format!("`{}` is a {}, not a kdc", h.name, h.role),
                        ));
                    }
                    if let Some(c) = e.code
                        && !(1..=127).contains(&c)
                    {
                        return Err((
                            ep.key("code"),
                            format!("{c} is not a Kerberos error code (1-127)"),
                        ));
                    }
                }
            }
        }

        // Expectations.
        for (i, v) in s.expect.violations.iter().enumerate() {
            if !VIOLATION_KINDS.contains(&v.as_str()) {
                return Err((
                    p("expect").key("violations").idx(i),
                    format!(
                        "unknown violation kind `{v}` (expected one of {})",
                        VIOLATION_KINDS.join(", ")
                    ),
                ));
            }
        }
        for (i, e) in s.expect.logons.iter().enumerate() {
            let lp = p("expect").key("logon").idx(i);
            if !labels.contains(&e.label) {
                return Err((
                    lp.key("label"),
                    format!("no logon on the timeline carries the label `{}`", e.label),
                ));
            }
            if let Some(k) = &e.error
                && !ERROR_KINDS.contains(&k.as_str())
            {
                return Err((
                    lp.key("error"),
                    format!(
                        "unknown error kind `{k}` (expected one of {})",
                        ERROR_KINDS.join(", ")
                    ),
                ));
            }
            if let Some(m) = &e.mechanism
                && !["kerberos", "ntlm"].contains(&m.as_str())
            {
                return Err((
                    lp.key("mechanism"),
                    format!("unknown mechanism `{m}` (expected kerberos or ntlm)"),
                ));
            }
            event_ids(lp.key("audit"), &e.audit)?;
        }
        event_ids(p("expect").key("audit"), &s.expect.audit)?;
        for k in s.expect.attempts_max.keys() {
            if !ATTEMPT_OUTCOMES.contains(&k.as_str()) {
                return Err((
                    p("expect").key("attempts_max").key(k),
                    format!(
                        "unknown attempt outcome `{k}` (expected one of {})",
                        ATTEMPT_OUTCOMES.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Every KKDCP URL names a relay host.
    fn relays(
        &self,
        path: FieldPath,
        policy: &super::model::NegotiatorPolicy,
    ) -> Result<(), Problem> {
        for (i, url) in policy.kkdcp.relays.iter().enumerate() {
            let rp = path.clone().idx(i);
            let (host, _port, _path) = parse_relay_url(url).map_err(|m| (rp.clone(), m))?;
            let h = self.need_host(rp.clone(), &host)?;
            // A balancer in front of relays is reached the same way.
            if !matches!(h.role, Role::Relay | Role::Balancer) {
                return Err((rp, format!("`{host}` is a {}, not a relay", h.role)));
            }
        }
        Ok(())
    }

    /// A logon's application server is an app, a printer or an attacker
    /// answering for one.
    fn server_checks(&self, ep: &FieldPath, server: Option<&str>) -> Result<(), Problem> {
        let Some(name) = server else {
            return Ok(());
        };
        let h = self.need_host(ep.clone().key("server"), name)?;
        if !matches!(h.role, Role::App | Role::Printer | Role::Attacker) {
            return Err((
                ep.clone().key("server"),
                format!("`{name}` is a {}, not an application server", h.role),
            ));
        }
        Ok(())
    }

    fn logon_checks(&self, ep: &FieldPath, h: &Host, user: &str) -> Result<(), Problem> {
        if h.role != Role::Client {
            return Err((
                ep.clone().key("client"),
                format!("`{}` is a {}, not a client", h.name, h.role),
            ));
        }
        if !self.user_exists(h, user) {
            return Err((
                ep.clone().key("user"),
                format!("no principal `{user}` in the realm of `{}`", h.name),
            ));
        }
        Ok(())
    }
}

/// Audit event ids are numbers.
fn event_ids(path: FieldPath, m: &std::collections::BTreeMap<String, u64>) -> Result<(), Problem> {
    for k in m.keys() {
        if k.parse::<u32>().is_err() {
            return Err((
                path.key(k),
                format!("`{k}` is not an event id (8001, 4001, 7001, ...)"),
            ));
        }
    }
    Ok(())
}

/// Splits a KKDCP URL `https://host[:port]/path` (MS-KKDCP §2.1: HTTPS
/// POST). Plain `http://` is accepted for relays configured without TLS.
pub fn parse_relay_url(url: &str) -> Result<(String, Option<u16>, String), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("`{url}`: expected https://HOST[:PORT]/PATH"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/KdcProxy"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (
            h,
            Some(
                p.parse::<u16>()
                    .map_err(|_| format!("`{url}`: bad port `{p}`"))?,
            ),
        ),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err(format!("`{url}`: no host"));
    }
    Ok((host.to_owned(), port, path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls() {
        assert_eq!(
            parse_relay_url("https://relay.corp.example/KdcProxy").unwrap(),
            ("relay.corp.example".into(), None, "/KdcProxy".into())
        );
        assert_eq!(
            parse_relay_url("https://relay:8443").unwrap(),
            ("relay".into(), Some(8443), "/KdcProxy".into())
        );
        assert!(parse_relay_url("ftp://x/").is_err());
        assert!(parse_relay_url("https://:1/").is_err());
    }

    #[test]
    fn epochs() {
        assert!(parse_epoch("2026-03-02T08:00:00Z").is_ok());
        assert!(parse_epoch("1969-12-31T23:59:59Z").is_err());
        assert!(parse_epoch("monday").is_err());
    }

    #[test]
    fn paths_display() {
        assert_eq!(
            p("timeline").idx(3).key("client").to_string(),
            "timeline[3].client"
        );
    }
}
