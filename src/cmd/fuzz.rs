//! `kerbside fuzz`: long-running property checks.

use super::{CliError, CmdResult};

/// What to fuzz.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Feed random and mutated bytes to every wire decoder; any panic is a finding.
    Wire {
        /// Number of cases.
        #[arg(long, default_value_t = 100_000)]
        cases: u64,
        /// Seed (the same seed gives the same cases).
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

pub(crate) fn run(_c: Command) -> CmdResult {
    Err(CliError::runtime("fuzz: not built yet"))
}
