//! `kerbside serve`: run one party on real sockets. Each party is one
//! variant with its own module (`serve_kdc`, `serve_relay`, ...).

use super::CmdResult;

/// What to serve.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// A KDC (RFC 4120) on UDP and TCP: `kinit`/`kvno` work against it.
    Kdc(super::serve_kdc::Args),
    /// A KKDCP relay (MS-KKDCP): HTTPS POST /KdcProxy to the realm's KDCs.
    Relay(super::serve_relay::Args),
    /// An application server / GSS acceptor (MIT gss-sample protocol):
    /// SPNEGO, Kerberos and NTLM.
    App(super::serve_app::Args),
}

pub(crate) fn run(command: Command) -> CmdResult {
    match command {
        Command::Kdc(args) => super::serve_kdc::run(args),
        Command::Relay(args) => super::serve_relay::run(args),
        Command::App(args) => super::serve_app::run(args),
    }
}
