//! Whether the external peers an interop test needs are installed.
//!
//! House rule (docs/CONTRIBUTING.md): a test whose peer is missing skips
//! with a clear `SKIP: ...` message on stderr, unless the environment sets
//! `KERBSIDE_REQUIRE_PEERS=1` (CI does), where a missing peer fails the
//! test instead.

use std::path::PathBuf;

/// Where an installed tool lives: `PATH` first, then the directories
/// Debian installs MIT krb5 into (the KDC-side tools are in `/usr/sbin`,
/// often not on a test runner's `PATH`).
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            [
                "/usr/sbin",
                "/usr/bin",
                "/sbin",
                "/bin",
                "/usr/local/sbin",
                "/usr/local/bin",
            ]
            .map(PathBuf::from),
        )
        .map(|d| d.join(tool))
        .find(|f| f.is_file())
}

/// The tools of `tools` that are not installed.
pub fn absent<'a>(tools: &[&'a str]) -> Vec<&'a str> {
    tools
        .iter()
        .copied()
        .filter(|t| find_tool(t).is_none())
        .collect()
}

/// Whether missing peers are failures (`KERBSIDE_REQUIRE_PEERS=1`).
pub fn required() -> bool {
    std::env::var("KERBSIDE_REQUIRE_PEERS").as_deref() == Ok("1")
}

/// A peer described by `what` is missing: panics with
/// `"{what} (KERBSIDE_REQUIRE_PEERS=1)"` when peers are required, else
/// returns `what` for the caller's `SKIP:` line.
pub fn missing(what: String) -> Option<String> {
    assert!(!required(), "{what} (KERBSIDE_REQUIRE_PEERS=1)");
    Some(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_installed_tools_and_reports_absent_ones() {
        // `sh` is on every machine these tests run on.
        assert!(find_tool("sh").is_some());
        assert_eq!(
            absent(&["sh", "kerbside-no-such-tool"]),
            vec!["kerbside-no-such-tool"]
        );
    }
}
