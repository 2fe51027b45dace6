//! NTLM policy: the model of the Windows Group Policy setting "Network
//! security: Restrict NTLM: Outgoing NTLM traffic to remote servers"
//! (registry `HKLM\System\CurrentControlSet\Control\Lsa\MSV1_0\
//! RestrictSendingNTLMTraffic` = 0/1/2) and its companion "Restrict NTLM:
//! Add remote server exceptions for NTLM authentication"
//! (reference/protocols.md §4.4).
//!
//! | mode | Windows value | outgoing NTLM | event |
//! |---|---|---|---|
//! | `allow` | Allow all (0) | sent | none in Windows; kerbside records the use |
//! | `audit` | Audit all (1) | sent | 8001 "NTLM client blocked audit" |
//! | `deny` | Deny all (2) | **not sent**, unless the server is an exception | 4001 "NTLM client blocked" |
//!
//! The exception list applies to `deny` (as in Windows, where it names the
//! servers "to which clients are allowed to use NTLM authentication" when
//! outgoing NTLM is denied). Entries are server names as the application
//! uses them (FQDN or NetBIOS), compared case-insensitively; `*` matches any
//! run of characters anywhere in an entry, as Windows allows.

use serde::{Deserialize, Serialize};

/// The policy value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NtlmMode {
    /// Allow all.
    #[default]
    Allow,
    /// Audit all: allow and record event 8001.
    Audit,
    /// Deny all: fail closed (event 4001), except for listed servers.
    Deny,
}

/// The NTLM section of a [`super::Policy`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NtlmPolicy {
    /// Allow, audit or deny.
    pub mode: NtlmMode,
    /// Servers NTLM may still be used with under `deny`.
    pub exceptions: Vec<String>,
}

/// What the policy says about NTLM to one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NtlmVerdict {
    /// `allow`: NTLM may be used.
    Allowed,
    /// `audit`: NTLM may be used and event 8001 is recorded.
    Audited,
    /// `deny`, but the server is on the exception list: NTLM may be used.
    Excepted,
    /// `deny`: no NTLM byte may be sent (event 4001).
    Denied,
}

impl NtlmVerdict {
    /// Whether NTLM may be sent.
    pub fn permits(self) -> bool {
        !matches!(self, NtlmVerdict::Denied)
    }
}

impl NtlmPolicy {
    /// The verdict for NTLM to `server` (any of the names the application
    /// uses for it: host name, SPN host, alias).
    pub fn verdict<'a>(&self, server_names: impl IntoIterator<Item = &'a str>) -> NtlmVerdict {
        match self.mode {
            NtlmMode::Allow => NtlmVerdict::Allowed,
            NtlmMode::Audit => NtlmVerdict::Audited,
            NtlmMode::Deny => {
                let excepted = server_names.into_iter().any(|name| {
                    self.exceptions
                        .iter()
                        .any(|pattern| wildcard_match(pattern, name))
                });
                if excepted {
                    NtlmVerdict::Excepted
                } else {
                    NtlmVerdict::Denied
                }
            }
        }
    }
}

/// Case-insensitive match of `name` against `pattern`, where `*` matches any
/// (possibly empty) run of characters.
pub(crate) fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let n: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    // Iterative glob with single-star backtracking: linear in practice and
    // never recursive, so a hostile pattern cannot blow the stack.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(c) if Some(c) == n.get(ni) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: NtlmMode, exceptions: &[&str]) -> NtlmPolicy {
        NtlmPolicy {
            mode,
            exceptions: exceptions.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn allow_and_audit_permit_everything() {
        let p = policy(NtlmMode::Allow, &[]);
        assert_eq!(p.verdict(["app.corp.example"]), NtlmVerdict::Allowed);
        let p = policy(NtlmMode::Audit, &["app.corp.example"]);
        assert_eq!(p.verdict(["app.corp.example"]), NtlmVerdict::Audited);
        assert_eq!(p.verdict(["other"]), NtlmVerdict::Audited);
        assert!(NtlmVerdict::Audited.permits());
    }

    #[test]
    fn deny_blocks_unless_excepted() {
        let p = policy(
            NtlmMode::Deny,
            &["printer1.corp.example", "*.legacy.corp.example", "NAS*"],
        );
        assert_eq!(p.verdict(["app.corp.example"]), NtlmVerdict::Denied);
        assert!(!NtlmVerdict::Denied.permits());
        assert_eq!(
            p.verdict(["PRINTER1.corp.example"]),
            NtlmVerdict::Excepted,
            "names compare case-insensitively"
        );
        assert_eq!(
            p.verdict(["scan.legacy.corp.example"]),
            NtlmVerdict::Excepted
        );
        assert_eq!(
            p.verdict(["legacy.corp.example"]),
            NtlmVerdict::Denied,
            "`*.` needs a label before the dot"
        );
        assert_eq!(p.verdict(["nas01"]), NtlmVerdict::Excepted);
        // Any of the names the application uses for the server counts.
        assert_eq!(
            p.verdict(["10.0.0.9", "printer1.corp.example"]),
            NtlmVerdict::Excepted
        );
        assert_eq!(p.verdict([]), NtlmVerdict::Denied);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a*c", "ac"));
        assert!(!wildcard_match("a*c", "acb"));
        assert!(wildcard_match("*b*", "abc"));
        assert!(wildcard_match("a**", "a"));
        assert!(!wildcard_match("abc", "ab"));
        assert!(!wildcard_match("ab", "abc"));
        assert!(wildcard_match("s*r*v", "sxxrxxrv"));
        // Pathological pattern stays fast.
        let name = "a".repeat(2000);
        assert!(!wildcard_match(&format!("{}b", "*a".repeat(50)), &name));
    }
}
