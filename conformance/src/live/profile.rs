//! Vendor profiles (the deviations an implementation is known to have and
//! that are conforming enough to accept) and known-failures lists (what a
//! target is known to get wrong; a listed test that passes is reported as
//! an unexpected pass, so the list cannot go stale).
//!
//! Both are JSON. Tests are named by string id or tcId; an id ending in `*`
//! matches by prefix. Observations use the vector vocabulary
//! (`http 503`, `krb-error 60`, `tgs-rep`, `no-reply`), `*` suffix allowed.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::observe;

/// One declared deviation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Deviation {
    /// Test ids or tcIds (`kdc.tgs.replay`, `relay.realm.*`, `16030`).
    pub tests: Vec<String>,
    /// What the implementation does instead.
    pub observed: Vec<String>,
    /// Why this is accepted, with a source.
    pub reason: String,
}

/// A vendor profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Profile {
    /// Name (`--profile NAME`).
    pub name: String,
    /// What implementation it describes.
    pub description: String,
    /// The deviations.
    pub deviations: Vec<Deviation>,
}

/// One known failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KnownFailure {
    /// Test id or tcId (prefix with `*`).
    pub test: String,
    /// Why it fails.
    pub reason: String,
}

/// A known-failures list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KnownFailures {
    /// The target the list is for.
    pub target: String,
    /// The entries.
    pub failures: Vec<KnownFailure>,
}

/// Whether `pattern` names the test (`id`, `id-prefix*`, or the tcId).
pub fn names(pattern: &str, id: &str, tc_id: u32) -> bool {
    pattern == tc_id.to_string() || observe::matches(pattern, id)
}

impl Profile {
    /// The reason a deviation covers this observation of this test.
    pub fn allows(&self, id: &str, tc_id: u32, observed: &str) -> Option<&str> {
        self.deviations
            .iter()
            .find(|d| {
                d.tests.iter().any(|t| names(t, id, tc_id))
                    && d.observed.iter().any(|o| observe::matches(o, observed))
            })
            .map(|d| d.reason.as_str())
    }
}

impl KnownFailures {
    /// The entry naming this test.
    pub fn find(&self, id: &str, tc_id: u32) -> Option<&KnownFailure> {
        self.failures.iter().find(|f| names(&f.test, id, tc_id))
    }

    /// Reads a list.
    pub fn load(path: &Path) -> Result<KnownFailures, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

macro_rules! profiles {
    ($($name:literal),* $(,)?) => {
        /// The built-in profiles (`conformance/profiles/*.json`).
        pub const BUILT_IN: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../profiles/", $name, ".json"))),)*
        ];
    };
}

profiles!("kerbside", "mit", "heimdal", "windows", "kdcproxy");

/// A built-in profile by name, or a profile file.
pub fn load(name_or_path: &str) -> Result<Profile, String> {
    let text = match BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
        Some((_, t)) => (*t).to_owned(),
        None => std::fs::read_to_string(name_or_path).map_err(|e| {
            let known: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
            format!(
                "{name_or_path}: not a built-in profile ({}) nor a readable file: {e}",
                known.join(", ")
            )
        })?,
    };
    serde_json::from_str(&text).map_err(|e| format!("profile {name_or_path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profiles_parse() {
        for (name, _) in BUILT_IN {
            let p = load(name).unwrap();
            assert_eq!(&p.name, name);
            for d in &p.deviations {
                assert!(!d.tests.is_empty() && !d.observed.is_empty() && !d.reason.is_empty());
            }
        }
        assert!(load("no-such-profile").is_err());
    }

    #[test]
    fn deviations_match_by_id_prefix_and_observation() {
        let p = Profile {
            name: "x".into(),
            description: String::new(),
            deviations: vec![Deviation {
                tests: vec!["relay.realm.*".into(), "16030".into()],
                observed: vec!["http 5*".into()],
                reason: "r".into(),
            }],
        };
        assert_eq!(p.allows("relay.realm.global", 16033, "http 503"), Some("r"));
        assert_eq!(
            p.allows("relay.target-domain.absent", 16030, "http 500"),
            Some("r")
        );
        assert_eq!(p.allows("relay.realm.global", 16033, "http 200"), None);
        assert_eq!(p.allows("relay.body.hello", 16016, "http 500"), None);
    }
}
