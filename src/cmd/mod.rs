//! One module per subcommand. Each exposes `Args` (clap) and
//! `run(args) -> CmdResult`.

use std::fmt;
use std::process::ExitCode;

pub(crate) mod client;
pub(crate) mod conform;
pub(crate) mod decode;
pub(crate) mod fuzz;
pub(crate) mod fuzz_scenarios;
pub(crate) mod load;
pub(crate) mod os;
pub(crate) mod replay;
pub(crate) mod run;
pub(crate) mod serve;
pub(crate) mod serve_app;
pub(crate) mod serve_kdc;
pub(crate) mod serve_relay;

/// What a subcommand returns: an exit code on success, or an error to print.
pub(crate) type CmdResult = Result<ExitCode, CliError>;

/// A failure to report on stderr, with the exit code it maps to.
#[derive(Debug)]
pub(crate) struct CliError {
    message: String,
    code: u8,
}

impl CliError {
    /// Bad input (malformed file, undecodable bytes): exit code 2.
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }

    /// Environment or runtime failure (I/O, bind, unreachable peer): exit code 1.
    pub(crate) fn runtime(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Sets up `tracing` output on stderr.
pub(crate) fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
