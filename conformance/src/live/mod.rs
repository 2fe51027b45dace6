//! The live runner: the vectors sent to any implementation over the
//! network, each test classified pass / fail / unsupported /
//! acceptable-deviation (plus known-failure and unexpected-pass with a
//! known-failures list), and the reports.

pub mod http;
pub mod iakerb;
pub mod kdc;
pub mod kdc_io;
pub mod outcome;
pub mod profile;
pub mod relay;
pub mod report;

use std::time::SystemTime;

use crate::model::{TestMeta, Verdict};
use crate::observe::{Evaluation, Grade};
use outcome::{LiveResult, Status};
use profile::{KnownFailures, Profile};

/// The real clock: live runs talk to real peers whose clocks are real.
#[allow(clippy::disallowed_methods)] // the live runner is not protocol code
pub fn wall_clock() -> SystemTime {
    SystemTime::now()
}

/// A seed for a run's RNG when none is given (fresh nonces every run).
pub fn fresh_seed() -> u64 {
    wall_clock()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Turns an evaluation into a status with the profile and known failures.
#[derive(Debug, Clone)]
pub struct Classifier {
    /// The vendor profile.
    pub profile: Profile,
    /// The known-failures list.
    pub known: Option<KnownFailures>,
}

impl Classifier {
    /// Classifies one test.
    pub fn classify(
        &self,
        suite: &str,
        m: &TestMeta<'_>,
        expected: String,
        e: Evaluation,
    ) -> LiveResult {
        let (mut status, mut detail) = match e.grade {
            Grade::Pass => (Status::Pass, String::new()),
            Grade::Acceptable => (
                Status::AcceptableDeviation,
                format!("an alternative the vector lists ({})", e.detail),
            ),
            Grade::Fail => {
                if let Some(reason) = self.profile.allows(m.id, m.tc_id, &e.observed) {
                    (
                        Status::AcceptableDeviation,
                        format!("profile {}: {reason}", self.profile.name),
                    )
                } else if m.result == Verdict::Acceptable {
                    (
                        Status::AcceptableDeviation,
                        format!("the vector's verdict is acceptable ({})", e.detail),
                    )
                } else {
                    (Status::Fail, e.detail.clone())
                }
            }
        };
        if let Some(k) = self.known.as_ref().and_then(|k| k.find(m.id, m.tc_id)) {
            match status {
                Status::Fail => {
                    status = Status::KnownFailure;
                    detail = format!("{} (known: {})", detail, k.reason);
                }
                Status::Pass | Status::AcceptableDeviation => {
                    status = Status::UnexpectedPass;
                    detail = format!(
                        "listed as a known failure ({}) but it now conforms",
                        k.reason
                    );
                }
                _ => {}
            }
        }
        LiveResult {
            suite: suite.to_owned(),
            tc_id: m.tc_id,
            id: m.id.to_owned(),
            status,
            expected,
            observed: e.observed,
            detail,
        }
    }
}
