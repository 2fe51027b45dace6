//! A test realm: its principals (with passwords), their long-term keys
//! (MIT default salt and string-to-key parameters, memoised), and the
//! kerbside KDC or principals file made from them.

use std::time::Duration;

use kerbside_crypto::{EncType, Key, KeyCache};
use kerbside_kdc::load::{Source, load_store};
use kerbside_kdc::{Kdc, KdcConfig};

use crate::model::{KdcSettings, PrincipalDef};

/// Why a realm or a key cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RealmError {
    /// A recipe names a principal the realm does not have.
    #[error("principal {0:?} is not in the realm's principal list")]
    UnknownPrincipal(String),
    /// An enctype this implementation does not know.
    #[error("enctype {0} is not supported")]
    Enctype(i32),
    /// Key derivation failed.
    #[error("key derivation: {0}")]
    Crypto(String),
    /// The KDC rejected the realm's configuration.
    #[error("KDC configuration: {0}")]
    Kdc(String),
}

/// A realm and its principals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm {
    /// Realm name.
    pub name: String,
    /// Principals.
    pub principals: Vec<PrincipalDef>,
}

/// Name components of `alice`, `host/app.lab.test`.
pub fn components(name: &str) -> Vec<String> {
    name.split('/').map(str::to_owned).collect()
}

impl Realm {
    /// A realm.
    pub fn new(name: &str, principals: Vec<PrincipalDef>) -> Realm {
        Realm {
            name: name.to_owned(),
            principals,
        }
    }

    /// `krbtgt/REALM`.
    pub fn krbtgt(&self) -> String {
        format!("krbtgt/{}", self.name)
    }

    /// A principal by name.
    pub fn principal(&self, name: &str) -> Option<&PrincipalDef> {
        self.principals.iter().find(|p| p.name == name)
    }

    /// The principal's key version number.
    pub fn kvno(&self, name: &str) -> Result<u32, RealmError> {
        Ok(self.require(name)?.kvno.unwrap_or(1))
    }

    fn require(&self, name: &str) -> Result<&PrincipalDef, RealmError> {
        self.principal(name)
            .ok_or_else(|| RealmError::UnknownPrincipal(name.to_owned()))
    }

    /// The MIT default salt of a principal of this realm (RFC 4120 §4).
    pub fn salt(&self, name: &str) -> Vec<u8> {
        let comps = components(name);
        let refs: Vec<&str> = comps.iter().map(String::as_str).collect();
        kerbside_crypto::default_salt(&self.name, &refs)
    }

    /// The principal's long-term key of `etype`.
    pub fn key(&self, name: &str, etype: i32) -> Result<Key, RealmError> {
        let p = self.require(name)?;
        self.key_from_password(name, &p.password, etype)
    }

    /// The key `password` gives with `name`'s salt (a wrong password, when
    /// it is not the principal's).
    pub fn key_from_password(
        &self,
        name: &str,
        password: &str,
        etype: i32,
    ) -> Result<Key, RealmError> {
        let e = EncType::from_id(etype).ok_or(RealmError::Enctype(etype))?;
        KeyCache::global()
            .from_password(e, password, &self.salt(name))
            .map_err(|err| RealmError::Crypto(err.to_string()))
    }

    /// The principals in kerbside's principals-file TOML.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for p in &self.principals {
            out.push_str("[[principal]]\n");
            out.push_str(&format!("name = {}\n", toml_string(&p.name)));
            out.push_str(&format!("password = {}\n", toml_string(&p.password)));
            if let Some(k) = p.kvno {
                out.push_str(&format!("kvno = {k}\n"));
            }
            if p.requires_preauth {
                out.push_str("requires_preauth = true\n");
            }
            if p.disabled {
                out.push_str("disabled = true\n");
            }
            if let Some(e) = &p.expires {
                // TOML offset date-time, not a string.
                out.push_str(&format!("expires = {e}\n"));
            }
            if let Some(list) = &p.enctypes {
                let items: Vec<String> = list.iter().map(i32::to_string).collect();
                out.push_str(&format!("enctypes = [{}]\n", items.join(", ")));
            }
            out.push('\n');
        }
        out
    }

    /// kerbside's KDC for this realm with `settings`.
    pub fn kdc(&self, settings: &KdcSettings) -> Result<Kdc, RealmError> {
        let config = kdc_config(&self.name, settings)?;
        let toml = self.to_toml();
        let store = load_store(
            &self.name,
            &config.enctypes,
            Some(Source {
                data: toml.as_str(),
                origin: "vector principals",
            }),
            None,
        )
        .map_err(|e| RealmError::Kdc(e.to_string()))?;
        Kdc::new(config, store).map_err(|e| RealmError::Kdc(e.to_string()))
    }

    /// Reads principals from kerbside's principals-file TOML (what the live
    /// runner's `--principals FILE` is).
    pub fn from_toml(name: &str, text: &str, origin: &str) -> Result<Realm, String> {
        let specs =
            kerbside_kdc::principals_file::parse(text, origin, name).map_err(|e| e.to_string())?;
        let principals = specs
            .into_iter()
            .filter_map(|s| {
                let password = s.password?;
                Some(PrincipalDef {
                    name: s.principal.components().join("/"),
                    password,
                    kvno: Some(s.kvno),
                    requires_preauth: s.requires_preauth,
                    disabled: s.disabled,
                    expires: s.expires.map(crate::clock::format),
                    enctypes: s.enctypes.map(|l| l.iter().map(|e| e.id()).collect()),
                })
            })
            .collect();
        Ok(Realm::new(name, principals))
    }
}

/// The KDC configuration a group's settings describe.
pub fn kdc_config(realm: &str, s: &KdcSettings) -> Result<KdcConfig, RealmError> {
    let mut c = KdcConfig::new(realm);
    c.max_skew = Duration::from_secs(s.max_skew_seconds);
    c.replay_window = c.max_skew.max(c.replay_window);
    c.udp_max_reply = s.udp_max_reply;
    c.ticket_lifetime = Duration::from_secs(s.max_lifetime_seconds);
    c.enctypes = s
        .enctypes
        .iter()
        .map(|e| EncType::from_id(*e).ok_or(RealmError::Enctype(*e)))
        .collect::<Result<_, _>>()?;
    Ok(c)
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab() -> Realm {
        Realm::new(
            "LAB.TEST",
            vec![
                PrincipalDef {
                    name: "krbtgt/LAB.TEST".into(),
                    password: "krbtgtpw".into(),
                    kvno: Some(2),
                    requires_preauth: false,
                    disabled: false,
                    expires: None,
                    enctypes: Some(vec![18]),
                },
                PrincipalDef {
                    name: "alice".into(),
                    password: "alice\"pw".into(),
                    kvno: None,
                    requires_preauth: true,
                    disabled: true,
                    expires: Some("2030-01-01T00:00:00Z".into()),
                    enctypes: Some(vec![18]),
                },
            ],
        )
    }

    #[test]
    fn toml_round_trips_through_the_kdc_parser() {
        let r = lab();
        let back = Realm::from_toml("LAB.TEST", &r.to_toml(), "t").unwrap();
        assert_eq!(back, r_with_explicit_kvno(r));
    }

    fn r_with_explicit_kvno(mut r: Realm) -> Realm {
        for p in &mut r.principals {
            p.kvno.get_or_insert(1);
        }
        r
    }

    #[test]
    fn keys_use_the_mit_salt() {
        let r = lab();
        assert_eq!(r.salt("krbtgt/LAB.TEST"), b"LAB.TESTkrbtgtLAB.TEST");
        // keys.txt of the MIT captures: krbtgt/LAB.TEST kvno 2 aes256.
        let k = r.key("krbtgt/LAB.TEST", 18).unwrap();
        assert_eq!(
            hex::encode(k.bytes()),
            "857150ccdc994247eb6bd735a749eb7a90581bfc11c80e74b23c8233d4b00c4b"
        );
        assert!(matches!(
            r.key("nobody", 18),
            Err(RealmError::UnknownPrincipal(_))
        ));
        assert!(matches!(r.key("alice", 99), Err(RealmError::Enctype(99))));
    }
}
