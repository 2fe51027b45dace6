//! Principal names as the KDC stores and compares them.
//!
//! A name is its components (RFC 4120 §6.2); the realm is the KDC's own
//! (kerbside's KDC serves one realm and does no cross-realm). Lookups ignore
//! the name-type, as MIT does: `host/app.lab.test` is the same entry whether
//! a client sends NT-PRINCIPAL or NT-SRV-HST.
//!
//! The text form follows MIT's (`krb5_parse_name`): components separated by
//! `/`, `@` starts the realm, `\` escapes either of them (and `\\`).

use std::fmt;

use crate::error::NameError;

/// A principal name without its realm.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Principal {
    components: Vec<String>,
}

impl Principal {
    /// A principal from already-split components.
    pub fn from_components(components: Vec<String>) -> Result<Self, NameError> {
        if components.is_empty() {
            return Err(NameError::Empty);
        }
        if components.iter().any(String::is_empty) {
            return Err(NameError::EmptyComponent);
        }
        Ok(Self { components })
    }

    /// Parses `name`, `a/b` or `a/b@REALM`. A realm, when present, must be
    /// `realm` (the KDC's): kerbside does not hold foreign principals.
    pub fn parse(text: &str, realm: &str) -> Result<Self, NameError> {
        let mut components = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars();
        let mut parsed_realm: Option<String> = None;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => current.push('\n'),
                    Some('t') => current.push('\t'),
                    Some('0') => current.push('\0'),
                    Some(other) => current.push(other),
                    None => return Err(NameError::TrailingEscape),
                },
                '/' => components.push(std::mem::take(&mut current)),
                '@' => {
                    parsed_realm = Some(chars.collect());
                    break;
                }
                c => current.push(c),
            }
        }
        components.push(current);
        if let Some(r) = parsed_realm
            && r != realm
        {
            return Err(NameError::ForeignRealm {
                found: r,
                expected: realm.to_owned(),
            });
        }
        Self::from_components(components)
    }

    /// The krbtgt principal of `realm` (RFC 4120 §7.3: `krbtgt/REALM`).
    pub fn krbtgt(realm: &str) -> Self {
        Self {
            components: vec!["krbtgt".to_owned(), realm.to_owned()],
        }
    }

    /// The name's components.
    pub fn components(&self) -> &[String] {
        &self.components
    }

    /// Components as `&str`, the shape `default_salt` takes.
    pub fn component_strs(&self) -> Vec<&str> {
        self.components.iter().map(String::as_str).collect()
    }

    /// True for `krbtgt/<realm>`.
    pub fn is_tgs_of(&self, realm: &str) -> bool {
        is_tgs_name(&self.components, realm)
    }

    /// `name@REALM`, escaped like MIT's `krb5_unparse_name`.
    pub fn with_realm(&self, realm: &str) -> String {
        format!("{self}@{}", escape(realm))
    }
}

/// True when `components` name the TGS of `realm`.
pub fn is_tgs_name(components: &[String], realm: &str) -> bool {
    matches!(components, [k, r] if k == "krbtgt" && r == realm)
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for c in &self.components {
            if !first {
                f.write_str("/")?;
            }
            first = false;
            f.write_str(&escape(c))?;
        }
        Ok(())
    }
}

/// Escapes the characters MIT's unparser escapes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '/' | '@' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out
}

/// Joins request name components (possibly hostile: any bytes) for logs and
/// error messages, escaped so a name cannot forge log structure.
pub fn display_components(components: &[String]) -> String {
    components
        .iter()
        .map(|c| escape_for_log(c))
        .collect::<Vec<_>>()
        .join("/")
}

fn escape_for_log(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape(s).chars() {
        if c.is_control() || c.is_whitespace() {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mit_syntax() {
        let p = Principal::parse("host/app.lab.test", "LAB.TEST").unwrap();
        assert_eq!(p.components(), ["host", "app.lab.test"]);
        assert_eq!(p.to_string(), "host/app.lab.test");
        assert_eq!(p.with_realm("LAB.TEST"), "host/app.lab.test@LAB.TEST");
        let p = Principal::parse("alice@LAB.TEST", "LAB.TEST").unwrap();
        assert_eq!(p.components(), ["alice"]);
        let p = Principal::parse(r"a\/b/c", "R").unwrap();
        assert_eq!(p.components(), ["a/b", "c"]);
        assert_eq!(p.to_string(), r"a\/b/c");
        assert!(Principal::parse("WS01$", "R").is_ok());
    }

    #[test]
    fn rejects_bad_names() {
        assert!(matches!(
            Principal::parse("", "R"),
            Err(NameError::EmptyComponent)
        ));
        assert!(matches!(
            Principal::parse("a//b", "R"),
            Err(NameError::EmptyComponent)
        ));
        assert!(matches!(
            Principal::parse("a\\", "R"),
            Err(NameError::TrailingEscape)
        ));
        assert!(matches!(
            Principal::parse("alice@OTHER", "LAB.TEST"),
            Err(NameError::ForeignRealm { .. })
        ));
        assert!(matches!(
            Principal::from_components(vec![]),
            Err(NameError::Empty)
        ));
    }

    #[test]
    fn krbtgt_detection() {
        assert!(Principal::krbtgt("LAB.TEST").is_tgs_of("LAB.TEST"));
        assert!(!Principal::krbtgt("LAB.TEST").is_tgs_of("OTHER"));
        assert!(!Principal::parse("krbtgt", "R").unwrap().is_tgs_of("R"));
    }

    #[test]
    fn hostile_names_are_escaped_in_logs() {
        let s = display_components(&["a b".into(), "x\ny".into()]);
        assert!(!s.contains('\n'));
        assert!(!s.contains(' '));
    }
}
