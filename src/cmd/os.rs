//! What the real-mode commands (`client`, `load`, `serve *`) ask of the
//! operating system: entropy for RNG seeds and the shutdown signal. The
//! simulation never calls these: it seeds every host from the run seed and
//! ends when the scenario does.

use std::io::Read;

use super::CliError;

/// 256 bits from the OS for an RNG seed: session keys, nonces and
/// confounders must be unpredictable and must not repeat across runs.
pub(crate) fn os_seed() -> Result<[u8; 32], CliError> {
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| CliError::runtime(format!("reading /dev/urandom: {e}")))?;
    Ok(b)
}

/// Blocks until Ctrl-C (SIGINT) or SIGTERM: a server stops the same way
/// whether a terminal or a service manager (systemd, `kill`) ends it.
pub(crate) fn wait_for_shutdown() -> Result<(), CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    })
    .map_err(|e| CliError::runtime(format!("waiting for Ctrl-C: {e}")))
}
