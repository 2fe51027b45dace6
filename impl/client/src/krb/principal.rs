//! Principal names on the client side: name type, components, realm.

use std::fmt;

use kerbside_wire::krb::asn1::PrincipalName;
use kerbside_wire::krb::constants::name_type;

use super::error::KrbClientError;

/// A principal with its realm.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Principal {
    /// RFC 4120 §6.2 name type (1 = NT-PRINCIPAL, 2 = NT-SRV-INST, 3 =
    /// NT-SRV-HST).
    pub name_type: i32,
    /// Name components (`["host", "app.lab.test"]`).
    pub components: Vec<String>,
    /// Realm.
    pub realm: String,
}

impl Principal {
    /// A user principal (NT-PRINCIPAL) with one component.
    pub fn user(name: &str, realm: &str) -> Self {
        Self {
            name_type: name_type::NT_PRINCIPAL,
            components: vec![name.to_owned()],
            realm: realm.to_owned(),
        }
    }

    /// A service principal `service/host` (NT-SRV-HST, what `kvno` and GSS
    /// host-based names use).
    pub fn service(service: &str, host: &str, realm: &str) -> Self {
        Self {
            name_type: name_type::NT_SRV_HST,
            components: vec![service.to_owned(), host.to_owned()],
            realm: realm.to_owned(),
        }
    }

    /// `krbtgt/REALM@REALM` (NT-SRV-INST, RFC 4120 §7.3).
    pub fn krbtgt(realm: &str) -> Self {
        Self {
            name_type: name_type::NT_SRV_INST,
            components: vec!["krbtgt".to_owned(), realm.to_owned()],
            realm: realm.to_owned(),
        }
    }

    /// Parses `a/b@REALM` (MIT syntax, `\` escapes). Without `@REALM`,
    /// `default_realm` is used. One component gives NT-PRINCIPAL, more give
    /// NT-SRV-INST (krbtgt) or NT-PRINCIPAL (MIT's choice for parsed names).
    pub fn parse(text: &str, default_realm: &str) -> Result<Self, KrbClientError> {
        let mut components = Vec::new();
        let mut cur = String::new();
        let mut realm = None;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(n) => cur.push(n),
                    None => return Err(KrbClientError::BadName(text.to_owned())),
                },
                '/' => components.push(std::mem::take(&mut cur)),
                '@' => {
                    realm = Some(chars.collect::<String>());
                    break;
                }
                c => cur.push(c),
            }
        }
        components.push(cur);
        let realm = realm.unwrap_or_else(|| default_realm.to_owned());
        if realm.is_empty() || components.iter().any(String::is_empty) {
            return Err(KrbClientError::BadName(text.to_owned()));
        }
        let name_type =
            if components.first().is_some_and(|c| c == "krbtgt") && components.len() == 2 {
                name_type::NT_SRV_INST
            } else {
                name_type::NT_PRINCIPAL
            };
        Ok(Self {
            name_type,
            components,
            realm,
        })
    }

    /// The kerberos_asn1 PrincipalName (without realm).
    pub fn to_asn1(&self) -> PrincipalName {
        PrincipalName {
            name_type: self.name_type,
            name_string: self.components.clone(),
        }
    }

    /// From a PrincipalName and realm received on the wire.
    pub fn from_asn1(name: &PrincipalName, realm: &str) -> Self {
        Self {
            name_type: name.name_type,
            components: name.name_string.clone(),
            realm: realm.to_owned(),
        }
    }

    /// Same components and realm (name types differ freely, RFC 4120 §6.2:
    /// "the name type is ... a hint").
    pub fn same_as(&self, name: &PrincipalName, realm: &str) -> bool {
        self.realm == realm && self.components == name.name_string
    }

    /// True for `krbtgt/<realm>@<realm>`.
    pub fn is_tgs(&self) -> bool {
        matches!(self.components.as_slice(), [k, r] if k == "krbtgt" && *r == self.realm)
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let esc = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('/', "\\/")
                .replace('@', "\\@")
        };
        let name: Vec<String> = self.components.iter().map(|c| esc(c)).collect();
        write!(f, "{}@{}", name.join("/"), esc(&self.realm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let p = Principal::parse("alice", "LAB.TEST").unwrap();
        assert_eq!(p, Principal::user("alice", "LAB.TEST"));
        assert_eq!(p.to_string(), "alice@LAB.TEST");
        let p = Principal::parse("host/app.lab.test@LAB.TEST", "X").unwrap();
        assert_eq!(p.components, ["host", "app.lab.test"]);
        assert_eq!(p.realm, "LAB.TEST");
        assert!(
            Principal::parse("krbtgt/LAB.TEST", "LAB.TEST")
                .unwrap()
                .is_tgs()
        );
        assert!(Principal::parse("a//b", "R").is_err());
        assert!(Principal::parse("a@", "R").is_err());
        assert!(Principal::parse("a\\", "R").is_err());
    }
}
