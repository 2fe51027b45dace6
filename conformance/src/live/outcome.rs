//! How a live test is classified, and the run's results.

use serde::{Deserialize, Serialize};

/// The classification of one test against a live target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The target did what the vector expects.
    Pass,
    /// It did something else that is conforming: an alternative the vector
    /// lists, an `acceptable` vector, or a deviation the profile declares.
    AcceptableDeviation,
    /// It failed, and the known-failures list says it does.
    KnownFailure,
    /// The test cannot run against this target (a principal it needs is
    /// missing, it needs control of the upstream, it is bound to a capture's
    /// clock).
    Unsupported,
    /// It failed unexpectedly.
    Fail,
    /// It passed although the known-failures list says it fails: the list
    /// is stale (an unexpected pass is reported like a failure).
    UnexpectedPass,
}

impl Status {
    /// `pass`, `acceptable-deviation`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::AcceptableDeviation => "acceptable-deviation",
            Status::KnownFailure => "known-failure",
            Status::Unsupported => "unsupported",
            Status::Fail => "fail",
            Status::UnexpectedPass => "unexpected-pass",
        }
    }

    /// Whether this status makes the run fail.
    pub fn is_unexpected(self) -> bool {
        matches!(self, Status::Fail | Status::UnexpectedPass)
    }

    /// Every status, in table order.
    pub const ALL: [Status; 6] = [
        Status::Pass,
        Status::AcceptableDeviation,
        Status::KnownFailure,
        Status::Unsupported,
        Status::Fail,
        Status::UnexpectedPass,
    ];
}

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveResult {
    /// Suite.
    pub suite: String,
    /// tcId.
    pub tc_id: u32,
    /// id.
    pub id: String,
    /// The classification.
    pub status: Status,
    /// What the vector expects (observation vocabulary).
    pub expected: String,
    /// What the target did.
    pub observed: String,
    /// Why it failed, is unsupported, or deviates (profile or list reason).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// What was tested (`kdc 127.0.0.1:88 (udp/tcp)`).
    pub target: String,
    /// The profile.
    pub profile: String,
    /// The known-failures list, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_failures: Option<String>,
    /// Every test.
    pub results: Vec<LiveResult>,
}

impl RunReport {
    /// Tests with an unexpected outcome.
    pub fn unexpected(&self) -> impl Iterator<Item = &LiveResult> {
        self.results.iter().filter(|r| r.status.is_unexpected())
    }

    /// Whether nothing unexpected happened (exit code 0).
    pub fn is_clean(&self) -> bool {
        self.unexpected().next().is_none()
    }

    /// Count of a status, overall or in one suite.
    pub fn count(&self, suite: Option<&str>, status: Status) -> usize {
        self.results
            .iter()
            .filter(|r| suite.is_none_or(|s| r.suite == s) && r.status == status)
            .count()
    }

    /// Suites in order of first appearance.
    pub fn suites(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for r in &self.results {
            if !v.contains(&r.suite) {
                v.push(r.suite.clone());
            }
        }
        v
    }
}
