//! `kerbside client`: authenticate to an application server that speaks
//! MIT's gss-sample protocol (`kerbside serve app`, MIT `gss-server`) and
//! exchange one protected message.
//!
//! ```text
//! kerbside client --server 127.0.0.1:4444 --service host@app.lab.test \
//!     --user alice@LAB.TEST --password pw --kdc 127.0.0.1:88 [--mech spnego|kerberos|ntlm]
//! kerbside client --server 127.0.0.1:4444 --service host@app.lab.test \
//!     --user alice --password pw --iakerb [--realm LAB.TEST | --realm discover] [--mech kerberos]
//! ```
//!
//! Kerberos: an AS exchange with the password and a TGS exchange for the
//! service, over TCP to `--kdc` (RFC 4120 §7.2.2), then the AP exchange
//! inside the gss-sample protocol. NTLM: NTLMv2 with the same password.
//! SPNEGO (the default) offers Kerberos first (when `--kdc` is given) and
//! NTLM second, with the mechListMIC downgrade check. Success means the
//! server's MIC over our wrapped message verified; exit code 0. A refused
//! authentication exits 1 with the reason (KRB-ERROR name, downgrade
//! detection, silent NTLM refusal).
//!
//! `--iakerb`: no KDC is needed; the AS and TGS exchanges go through the
//! server (draft-ietf-kitten-iakerb-03), raw as MIT's `gss-client -iakerb`
//! does with `--mech kerberos`, or offered first in SPNEGO (NTLM second).
//! Without a realm (or `--realm discover`) the server is asked for its
//! realm first. `--iakerb-dialect mit` speaks MIT krb5 up to 1.21's form
//! (Debian 12's `gss-server -iakerb`: only the first token framed, OCTET
//! STRING realm, finished extension 1 / usage 42); the default is
//! draft-ietf-kitten-iakerb-03. `--iakerb-finished` overrides the finished
//! checksum flavour (`none` omits it).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use kerbside_client::gss_krb::KrbInitiatorOptions;
use kerbside_client::iakerb::{
    ApFraming, IakerbDialect, IakerbInitiator, IakerbOptions, IakerbRequest,
};
use kerbside_client::krb::{
    AsExchange, AsOptions, AsStep, Credentials, Principal, Secret, TgsExchange, TgsOptions,
};
use kerbside_client::ntlm::{NtlmClient, NtlmClientConfig, NtlmCredentials};
use kerbside_client::spnego::{OfferedMech, SpnegoInitiator, SpnegoOptions};
use kerbside_crypto::gss_checksum::FinishedFlavor;
use kerbside_kdc::config::parse_duration;
use kerbside_net::app_client::{self, AppClientConfig, ClientMechanism};
use kerbside_net::kdc_transport;
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_net::{Clock, HostRng, Net, host_rng};
use rand_chacha::rand_core::{RngCore, SeedableRng};

use super::os::os_seed;
use super::{CliError, CmdResult};

/// Largest KDC reply accepted.
const MAX_KDC_REPLY: usize = 64 * 1024;

/// Which mechanism to authenticate with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mech {
    /// SPNEGO: Kerberos first (with --kdc), NTLM second.
    Spnego,
    /// The raw Kerberos GSS mechanism (RFC 4121).
    Kerberos,
    /// Raw NTLMSSP (NTLMv2).
    Ntlm,
}

/// Arguments of `kerbside client`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The application server (HOST:PORT).
    #[arg(long, value_name = "HOST:PORT")]
    server: String,
    /// The service: `service@host` (GSS host-based, as MIT's gss-client
    /// takes it) or `service/host[@REALM]`.
    #[arg(long, value_name = "SPN")]
    service: String,
    /// The user: `alice`, `alice@REALM` or `DOMAIN\alice` (NTLM).
    #[arg(long)]
    user: String,
    /// The user's password.
    #[arg(long)]
    password: String,
    /// The KDC for Kerberos (HOST:PORT, TCP).
    #[arg(long, value_name = "HOST:PORT")]
    kdc: Option<String>,
    /// The Kerberos realm (default: from --user or --service).
    #[arg(long)]
    realm: Option<String>,
    /// The NTLM domain (default: from DOMAIN\user, else the realm's first
    /// label).
    #[arg(long)]
    domain: Option<String>,
    /// Mechanism.
    #[arg(long, value_enum, default_value = "spnego")]
    mech: Mech,
    /// The application message to wrap.
    #[arg(long, default_value = "hello from kerbside")]
    message: String,
    /// Wrap without confidentiality (Kerberos only; gss-client's -nx).
    #[arg(long)]
    no_encrypt: bool,
    /// Deadline per network step.
    #[arg(long, default_value = "10s")]
    timeout: String,
    /// Seed the client's RNG (reproducible nonces and keys).
    #[arg(long)]
    seed: Option<u64>,
    /// Get the tickets through the server (IAKERB) instead of from a KDC.
    #[arg(long, conflicts_with = "kdc")]
    iakerb: bool,
    /// IAKERB token form and finished numbering of the server's
    /// implementation.
    #[arg(long, value_enum, default_value = "draft", requires = "iakerb")]
    iakerb_dialect: DialectArg,
    /// IAKERB finished checksum flavour (default: the dialect's).
    #[arg(long, value_enum, default_value = "auto", requires = "iakerb")]
    iakerb_finished: FinishedArg,
    /// OID framing the AP-REQ after IAKERB (MIT: iakerb, Windows: krb5).
    #[arg(long, value_enum, default_value = "iakerb", requires = "iakerb")]
    iakerb_ap_oid: ApOidArg,
}

/// `--iakerb-dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DialectArg {
    /// draft-ietf-kitten-iakerb-03 (Windows, MIT after 1.21, kerbside).
    Draft,
    /// MIT krb5 up to 1.21.
    Mit,
}

/// `--iakerb-finished`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FinishedArg {
    /// The dialect's numbering.
    Auto,
    /// Extension 1, key usage 42 (MIT krb5 up to 1.21).
    Mit,
    /// Extension 2, key usage 41 (draft-ietf-kitten-iakerb-03, newer MIT).
    Draft,
    /// No finished checksum (acceptors that require it refuse).
    None,
}

/// `--iakerb-ap-oid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ApOidArg {
    /// 1.3.6.1.5.2.5.
    Iakerb,
    /// 1.2.840.113554.1.2.2.
    Krb5,
}

/// A service principal name from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spn {
    /// `["host", "app.lab.test"]`.
    pub(crate) components: Vec<String>,
    /// The realm, when written.
    pub(crate) realm: Option<String>,
}

impl Spn {
    /// `host/app.lab.test`.
    pub(crate) fn slash_form(&self) -> String {
        self.components.join("/")
    }
}

/// Parses `service@host` (GSS_C_NT_HOSTBASED_SERVICE, RFC 2743 §4.1) or
/// `service/host[@REALM]` (Kerberos syntax).
pub(crate) fn parse_spn(text: &str) -> Result<Spn, CliError> {
    let bad = || {
        CliError::input(format!(
            "service {text:?}: expected service@host or service/host[@REALM]"
        ))
    };
    if text.contains('/') {
        let (name, realm) = match text.split_once('@') {
            Some((n, r)) if !r.is_empty() => (n, Some(r.to_owned())),
            Some(_) => return Err(bad()),
            None => (text, None),
        };
        let components: Vec<String> = name.split('/').map(str::to_owned).collect();
        if components.iter().any(String::is_empty) {
            return Err(bad());
        }
        return Ok(Spn { components, realm });
    }
    match text.split_once('@') {
        Some((svc, host)) if !svc.is_empty() && !host.is_empty() && !host.contains('@') => {
            Ok(Spn {
                components: vec![svc.to_owned(), host.to_owned()],
                realm: None,
            })
        }
        _ => Err(bad()),
    }
}

pub(crate) fn run(args: Args) -> CmdResult {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, client(args))
}

/// User, realm and NTLM domain from the flags.
struct Identity {
    user: String,
    realm: Option<String>,
    domain: String,
}

fn identity(args: &Args, spn: &Spn) -> Identity {
    let (domain_part, rest) = match args.user.split_once('\\') {
        Some((d, u)) => (Some(d.to_owned()), u.to_owned()),
        None => (None, args.user.clone()),
    };
    let (user, user_realm) = match rest.split_once('@') {
        Some((u, r)) if !r.is_empty() => (u.to_owned(), Some(r.to_owned())),
        _ => (rest, None),
    };
    let realm = args
        .realm
        .clone()
        .or(user_realm)
        .or_else(|| spn.realm.clone());
    let domain = args
        .domain
        .clone()
        .or(domain_part)
        .or_else(|| {
            realm
                .as_deref()
                .map(|r| r.split('.').next().unwrap_or(r).to_uppercase())
        })
        .unwrap_or_default();
    Identity {
        user,
        realm,
        domain,
    }
}

async fn client(args: Args) -> CmdResult {
    let spn = parse_spn(&args.service)?;
    let timeout =
        parse_duration(&args.timeout).map_err(|e| CliError::input(format!("--timeout: {e}")))?;
    let net = TokioNet;
    let server = resolve(&net, &args.server, "--server").await?;
    let kdc = match &args.kdc {
        Some(k) => Some(resolve(&net, k, "--kdc").await?),
        None => None,
    };
    let id = identity(&args, &spn);
    let clock = SystemClock;
    let mut rng = match args.seed {
        Some(s) => host_rng(s, "kerbside-client"),
        None => HostRng::from_seed(os_seed()?),
    };

    if args.iakerb {
        return iakerb_client(&args, &spn, &id, server, timeout, &net, &clock, &mut rng).await;
    }
    let wants_kerberos =
        matches!(args.mech, Mech::Kerberos) || (args.mech == Mech::Spnego && kdc.is_some());
    let ticket = if wants_kerberos {
        let Some(kdc) = kdc else {
            return Err(CliError::input("--mech kerberos needs --kdc HOST:PORT"));
        };
        let Some(realm) = id.realm.clone() else {
            return Err(CliError::input(
                "Kerberos needs a realm: --realm, --user user@REALM or --service service/host@REALM",
            ));
        };
        Some(
            service_ticket(
                &net,
                &clock,
                &mut rng,
                kdc,
                &id.user,
                &realm,
                &args.password,
                &spn,
                timeout,
            )
            .await?,
        )
    } else {
        None
    };
    let ntlm = || {
        Box::new(NtlmClient::new(
            NtlmCredentials::password(&id.user, &id.domain, &args.password),
            NtlmClientConfig {
                target_spn: Some(spn.slash_form()),
                ..NtlmClientConfig::default()
            },
        ))
    };
    let (mechanism, via) = match args.mech {
        Mech::Kerberos => (
            ClientMechanism::Kerberos {
                creds: Box::new(ticket.ok_or_else(|| CliError::runtime("no service ticket"))?),
                options: KrbInitiatorOptions::default(),
            },
            "raw",
        ),
        Mech::Ntlm => (ClientMechanism::Ntlm(ntlm()), "raw"),
        Mech::Spnego => {
            let mut offers = Vec::new();
            if let Some(t) = ticket {
                offers.push(OfferedMech::kerberos(t));
            }
            offers.push(OfferedMech::Ntlm(ntlm()));
            let sp = SpnegoInitiator::new(offers, SpnegoOptions::default())
                .map_err(|e| CliError::runtime(e.to_string()))?;
            (ClientMechanism::Spnego(Box::new(sp)), "spnego")
        }
    };
    let config = AppClientConfig {
        connect_timeout: timeout,
        io_timeout: timeout,
        message: args.message.clone().into_bytes(),
        encrypt: !args.no_encrypt,
        ..AppClientConfig::default()
    };
    match app_client::run(&net, &clock, &mut rng, server, mechanism, &config).await {
        Ok(out) => {
            println!(
                "{} via {via} to {server} as {}: {out}",
                spn.slash_form(),
                args.user
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(CliError::runtime(format!(
            "{} via {via} to {server}: {e}",
            spn.slash_form()
        ))),
    }
}

/// `--iakerb`: the IAKERB initiator, raw (`--mech kerberos`) or first in
/// SPNEGO.
#[allow(clippy::too_many_arguments)]
async fn iakerb_client(
    args: &Args,
    spn: &Spn,
    id: &Identity,
    server: SocketAddr,
    timeout: Duration,
    net: &TokioNet,
    clock: &SystemClock,
    rng: &mut HostRng,
) -> CmdResult {
    let realm = id.realm.clone().filter(|r| r != "discover");
    let base = match args.iakerb_dialect {
        DialectArg::Draft => IakerbOptions::default(),
        DialectArg::Mit => IakerbOptions::mit(),
    };
    debug_assert!(matches!(
        base.dialect,
        IakerbDialect::Draft03 | IakerbDialect::Mit
    ));
    let options = IakerbOptions {
        finished: match args.iakerb_finished {
            FinishedArg::Draft => FinishedFlavor::Draft03,
            FinishedArg::Mit => FinishedFlavor::MitLegacy,
            FinishedArg::Auto | FinishedArg::None => base.finished,
        },
        omit_finished: args.iakerb_finished == FinishedArg::None,
        ap_framing: match args.iakerb_ap_oid {
            ApOidArg::Iakerb => ApFraming::Iakerb,
            ApOidArg::Krb5 => ApFraming::Krb5,
        },
        ..base
    };
    let ia = IakerbInitiator::new(
        IakerbRequest {
            user: id.user.split('/').map(str::to_owned).collect(),
            realm,
            secret: Secret::Password(args.password.clone()),
            service: spn.components.clone(),
            service_realm: spn.realm.clone(),
            tgt: None,
        },
        options,
    );
    let (mechanism, via) = match args.mech {
        Mech::Kerberos => (ClientMechanism::Iakerb(Box::new(ia)), "iakerb"),
        Mech::Spnego => {
            let ntlm = NtlmClient::new(
                NtlmCredentials::password(&id.user, &id.domain, &args.password),
                NtlmClientConfig {
                    target_spn: Some(spn.slash_form()),
                    ..NtlmClientConfig::default()
                },
            );
            let sp = SpnegoInitiator::new(
                vec![OfferedMech::iakerb(ia), OfferedMech::ntlm(ntlm)],
                SpnegoOptions::default(),
            )
            .map_err(|e| CliError::runtime(e.to_string()))?;
            (ClientMechanism::Spnego(Box::new(sp)), "spnego+iakerb")
        }
        Mech::Ntlm => return Err(CliError::input("--iakerb does not go with --mech ntlm")),
    };
    let config = AppClientConfig {
        connect_timeout: timeout,
        io_timeout: timeout,
        message: args.message.clone().into_bytes(),
        encrypt: !args.no_encrypt,
        ..AppClientConfig::default()
    };
    match app_client::run(
        net,
        clock,
        rng as &mut dyn RngCore,
        server,
        mechanism,
        &config,
    )
    .await
    {
        Ok(out) => {
            println!(
                "{} via {via} to {server} as {}: {out}",
                spn.slash_form(),
                args.user
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(CliError::runtime(format!(
            "{} via {via} to {server}: {e}",
            spn.slash_form()
        ))),
    }
}

async fn resolve(net: &TokioNet, text: &str, flag: &str) -> Result<SocketAddr, CliError> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| CliError::input(format!("{flag} {text}: expected HOST:PORT")))?;
    let port: u16 = port
        .parse()
        .map_err(|e| CliError::input(format!("{flag} {text}: port: {e}")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    net.resolve(host, port)
        .await
        .map_err(|e| CliError::runtime(format!("{flag} {text}: {e}")))
}

/// AS exchange (password, PREAUTH_REQUIRED round trip) then TGS exchange
/// for the service, each over TCP.
#[allow(clippy::too_many_arguments)]
async fn service_ticket(
    net: &TokioNet,
    clock: &SystemClock,
    rng: &mut HostRng,
    kdc: SocketAddr,
    user: &str,
    realm: &str,
    password: &str,
    spn: &Spn,
    timeout: Duration,
) -> Result<Credentials, CliError> {
    let krb = |what: &str, e: &dyn std::fmt::Display| CliError::runtime(format!("{what}: {e}"));
    let send = |req: Vec<u8>| async move {
        kdc_transport::send_tcp(net, kdc, &req, timeout, MAX_KDC_REPLY)
            .await
            .map_err(|e| CliError::runtime(format!("KDC {kdc}: {e}")))
    };
    let mut ex = AsExchange::new(
        Principal::user(user, realm),
        Secret::Password(password.to_owned()),
        AsOptions::default(),
    );
    let mut req = ex
        .start(clock.now(), rng as &mut dyn RngCore)
        .map_err(|e| krb("AS-REQ", &e))?;
    let mut tgt = None;
    // PREAUTH_REQUIRED then the pre-authenticated retry: two round trips.
    for _ in 0..3 {
        let reply = send(req).await?;
        match ex
            .step(&reply, clock.now(), rng as &mut dyn RngCore)
            .map_err(|e| krb("AS exchange", &e))?
        {
            AsStep::Send(next) => req = next,
            AsStep::Done(creds) => {
                tgt = Some(creds);
                break;
            }
        }
    }
    let tgt = tgt.ok_or_else(|| CliError::runtime("AS exchange did not finish"))?;
    let service_realm = spn.realm.clone().unwrap_or_else(|| realm.to_owned());
    let comps: Vec<&str> = spn.components.iter().map(String::as_str).collect();
    let service = match comps.as_slice() {
        [svc, host] => Principal::service(svc, host, &service_realm),
        _ => Principal::parse(
            &format!("{}@{service_realm}", spn.slash_form()),
            &service_realm,
        )
        .map_err(|e| krb("service", &e))?,
    };
    let mut tgs = TgsExchange::new(&tgt, service, TgsOptions::default());
    let req = tgs.request(clock.now(), rng as &mut dyn RngCore);
    let reply = send(req).await?;
    tgs.handle_reply(&reply)
        .map_err(|e| krb("TGS exchange", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names() {
        assert_eq!(
            parse_spn("host@app.lab.test").unwrap(),
            Spn {
                components: vec!["host".into(), "app.lab.test".into()],
                realm: None
            }
        );
        let s = parse_spn("HTTP/web.lab.test@LAB.TEST").unwrap();
        assert_eq!(
            (s.slash_form(), s.realm.as_deref()),
            ("HTTP/web.lab.test".into(), Some("LAB.TEST"))
        );
        for bad in ["host", "@x", "host@", "a//b", "a/b@", "a@b@c"] {
            assert!(parse_spn(bad).is_err(), "{bad}");
        }
    }
}
