//! Observations: one short string per thing a party did (`as-rep`,
//! `krb-error 25`, `no-reply`, `http 503`), the vocabulary shared by
//! expected outcomes, alternatives, profile deviations and reports; and the
//! result of comparing an observation with an expectation.

use kerbside_wire::krb::{self, KrbMessage};
use serde::Serialize;

/// How one comparison came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grade {
    /// Exactly what the vector expects.
    Pass,
    /// Not the primary expectation, but an alternative the vector lists as
    /// conforming (or the vector's verdict is `acceptable`).
    Acceptable,
    /// Anything else.
    Fail,
}

/// A comparison: the grade, what was observed, and why it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// The grade.
    pub grade: Grade,
    /// What the party did, in the observation vocabulary.
    pub observed: String,
    /// What was wrong (empty on a pass).
    pub detail: String,
}

impl Evaluation {
    /// A pass.
    pub fn pass(observed: impl Into<String>) -> Self {
        Evaluation {
            grade: Grade::Pass,
            observed: observed.into(),
            detail: String::new(),
        }
    }

    /// A failure.
    pub fn fail(observed: impl Into<String>, detail: impl Into<String>) -> Self {
        Evaluation {
            grade: Grade::Fail,
            observed: observed.into(),
            detail: detail.into(),
        }
    }

    /// A failed primary expectation, downgraded to `Acceptable` when the
    /// observation matches one of `alternatives`.
    pub fn fail_unless(
        observed: impl Into<String>,
        detail: impl Into<String>,
        alternatives: &[String],
    ) -> Self {
        let observed = observed.into();
        let grade = if alternatives.iter().any(|p| matches(p, &observed)) {
            Grade::Acceptable
        } else {
            Grade::Fail
        };
        Evaluation {
            grade,
            observed,
            detail: detail.into(),
        }
    }
}

/// Whether `observation` matches `pattern` (exact, or a prefix when the
/// pattern ends in `*`).
pub fn matches(pattern: &str, observation: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => observation.starts_with(prefix),
        None => pattern == observation,
    }
}

/// The observation for a KDC's answer (`None`: nothing came back).
pub fn kdc_reply(reply: Option<&[u8]>) -> String {
    let Some(bytes) = reply else {
        return "no-reply".to_owned();
    };
    match krb::decode(bytes) {
        Ok(KrbMessage::AsRep(_)) => "as-rep".to_owned(),
        Ok(KrbMessage::TgsRep(_)) => "tgs-rep".to_owned(),
        Ok(KrbMessage::KrbError(e)) => format!("krb-error {}", e.error_code),
        Ok(other) => format!("unexpected {}", other.name()),
        Err(_) => "undecodable".to_owned(),
    }
}

/// The observation for an HTTP status.
pub fn http(status: u16) -> String {
    format!("http {status}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_exactly_or_by_prefix() {
        assert!(matches("krb-error 25", "krb-error 25"));
        assert!(!matches("krb-error 25", "krb-error 250"));
        assert!(matches("krb-error *", "krb-error 60"));
        assert!(!matches("http 4*", "http 503"));
        assert!(matches("http 5*", "http 503"));
    }

    #[test]
    fn alternatives_downgrade_a_failure() {
        let alts = vec!["no-reply".to_owned()];
        assert_eq!(
            Evaluation::fail_unless("no-reply", "x", &alts).grade,
            Grade::Acceptable
        );
        assert_eq!(
            Evaluation::fail_unless("as-rep", "x", &alts).grade,
            Grade::Fail
        );
    }

    #[test]
    fn kdc_replies_are_named() {
        assert_eq!(kdc_reply(None), "no-reply");
        assert_eq!(kdc_reply(Some(b"junk")), "undecodable");
        let capture =
            include_str!("../../impl/wire/tests/data/mit/tcp-krb-error-preauth-required.hex");
        let bytes = hex::decode(capture.trim()).unwrap();
        assert_eq!(kdc_reply(Some(&bytes)), "krb-error 25");
    }
}
