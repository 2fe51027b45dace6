//! `kerbside decode`: detect a message's format and print it as a tree or JSON.

use super::{CliError, CmdResult};

/// Arguments of `kerbside decode`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A file, a hex string, or `-` for standard input (raw bytes or hex).
    input: String,
    /// Print JSON instead of a tree.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(_args: Args) -> CmdResult {
    Err(CliError::runtime("decode: not built yet"))
}
