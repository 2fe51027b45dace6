//! Local accounts of an on-target LocalKDC: `name:password` lines (`#`
//! comments, blank lines ignored), the way a machine's SAM holds them. A
//! name ending in `$` is a computer account (Windows convention), any other
//! a user.

use crate::store::PrincipalKind;

/// One local account.
#[derive(Clone, PartialEq, Eq)]
pub struct LocalAccount {
    /// The account name (`Administrator`, `WS01$`).
    pub name: String,
    /// Its password (keys are derived with the LocalKDC realm's salt).
    pub password: String,
    /// User or computer.
    pub kind: PrincipalKind,
}

impl std::fmt::Debug for LocalAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("LocalAccount")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl LocalAccount {
    /// An account with the kind its name implies.
    pub fn new(name: &str, password: &str) -> Self {
        Self {
            name: name.to_owned(),
            password: password.to_owned(),
            kind: if name.ends_with('$') {
                PrincipalKind::Computer
            } else {
                PrincipalKind::User
            },
        }
    }
}

/// A line that is not `name:password`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountsError {
    /// No `:` or an empty name or password.
    #[error("line {line}: expected name:password")]
    Malformed {
        /// 1-based line number.
        line: usize,
    },
    /// A name with `/` or `@` (not an account name).
    #[error("line {line}: account name {name:?} contains '/' or '@'")]
    BadName {
        /// 1-based line number.
        line: usize,
        /// The name.
        name: String,
    },
    /// The same name twice.
    #[error("line {line}: account {name:?} defined twice")]
    Duplicate {
        /// 1-based line number.
        line: usize,
        /// The name.
        name: String,
    },
}

/// Parses an accounts file.
pub fn parse_accounts(text: &str) -> Result<Vec<LocalAccount>, AccountsError> {
    let mut out: Vec<LocalAccount> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((name, password)) = l.split_once(':') else {
            return Err(AccountsError::Malformed { line });
        };
        let name = name.trim();
        if name.is_empty() || password.is_empty() {
            return Err(AccountsError::Malformed { line });
        }
        if name.contains(['/', '@']) {
            return Err(AccountsError::BadName {
                line,
                name: name.to_owned(),
            });
        }
        if out.iter().any(|a| a.name == name) {
            return Err(AccountsError::Duplicate {
                line,
                name: name.to_owned(),
            });
        }
        out.push(LocalAccount::new(name, password));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_users_and_computers_and_names_bad_lines() {
        let a = parse_accounts("# local SAM\n\nAdministrator:Password123!\nWS01$:machine:pw\n")
            .unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].kind, PrincipalKind::User);
        assert_eq!(
            (a[1].name.as_str(), a[1].password.as_str()),
            ("WS01$", "machine:pw")
        );
        assert_eq!(a[1].kind, PrincipalKind::Computer);
        assert!(!format!("{:?}", a[0]).contains("Password123"));
        assert_eq!(
            parse_accounts("x\n"),
            Err(AccountsError::Malformed { line: 1 })
        );
        assert_eq!(
            parse_accounts("a:\n"),
            Err(AccountsError::Malformed { line: 1 })
        );
        assert!(matches!(
            parse_accounts("a/b:pw"),
            Err(AccountsError::BadName { line: 1, .. })
        ));
        assert!(matches!(
            parse_accounts("a:1\na:2"),
            Err(AccountsError::Duplicate { line: 2, .. })
        ));
    }
}
