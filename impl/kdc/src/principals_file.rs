//! The principals file: TOML, one `[[principal]]` table per principal.
//!
//! ```toml
//! [[principal]]
//! name = "alice"              # realm is appended
//! password = "alicepw"
//! requires_preauth = true     # default false, as MIT's default
//!
//! [[principal]]
//! name = "krbtgt/LAB.TEST"
//! password = "krbtgtpw"
//! kvno = 2                    # default 1
//!
//! [[principal]]
//! name = "WS01$"
//! password = "ws01pw"
//! enctypes = ["aes256-cts-hmac-sha1-96", 17]   # default: the KDC's enctypes
//! kind = "computer"           # user | service | computer | tgs; inferred from the name
//! disabled = false
//! expires = 2030-01-01T00:00:00Z
//! ```
//!
//! `password` may be omitted when the principal's keys come from a keytab
//! (`--keytab`); a principal with neither is an error. Every error names the
//! file, line, column and field.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_crypto::EncType;
use serde::Deserialize;
use toml::Spanned;

use crate::name::Principal;
use crate::store::{PrincipalEntry, PrincipalKind, PrincipalStore, password_keys};

/// A principals file that cannot be loaded, located to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PrincipalsFileError {
    /// File name (or `<inline>`).
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field at fault, when one can be named.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PrincipalsFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.origin, self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    principal: Vec<Spanned<RawPrincipal>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrincipal {
    name: Spanned<String>,
    password: Option<Spanned<String>>,
    requires_preauth: Option<bool>,
    kvno: Option<Spanned<i64>>,
    enctypes: Option<Spanned<Vec<Spanned<RawEnctype>>>>,
    disabled: Option<bool>,
    expires: Option<Spanned<toml::value::Datetime>>,
    kind: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawEnctype {
    Number(i64),
    Name(String),
}

/// A parsed principal before its keys are derived (keys may come from a
/// keytab instead).
#[derive(Clone, Debug)]
pub struct PrincipalSpec {
    /// The name.
    pub principal: Principal,
    /// Password, when given.
    pub password: Option<String>,
    /// `requires_preauth`.
    pub requires_preauth: bool,
    /// `kvno` (default 1).
    pub kvno: u32,
    /// `enctypes`, when given (else the KDC's).
    pub enctypes: Option<Vec<EncType>>,
    /// `disabled`.
    pub disabled: bool,
    /// `expires`.
    pub expires: Option<SystemTime>,
    /// `kind` (inferred when absent).
    pub kind: PrincipalKind,
    /// Where the table starts, for errors found later (e.g. no keys).
    pub line: usize,
}

/// Parses the text of a principals file for `realm`. `origin` names the file
/// in errors.
pub fn parse(
    text: &str,
    origin: &str,
    realm: &str,
) -> Result<Vec<PrincipalSpec>, PrincipalsFileError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(text, origin, &e))?;
    let at = |span: std::ops::Range<usize>, field: &str, message: String| {
        let (line, column) = line_col(text, span.start);
        PrincipalsFileError {
            origin: origin.to_owned(),
            line,
            column,
            field: Some(field.to_owned()),
            message,
        }
    };
    let mut specs: Vec<PrincipalSpec> = Vec::with_capacity(raw.principal.len());
    for table in raw.principal {
        let table_span = table.span();
        let p = table.into_inner();
        let principal = Principal::parse(p.name.get_ref(), realm)
            .map_err(|e| at(p.name.span(), "name", e.to_string()))?;
        if let Some(prev) = specs.iter().find(|s| s.principal == principal) {
            return Err(at(
                p.name.span(),
                "name",
                format!(
                    "{} is already defined at line {}",
                    principal.with_realm(realm),
                    prev.line
                ),
            ));
        }
        let kvno = match &p.kvno {
            None => 1,
            Some(k) => u32::try_from(*k.get_ref())
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| {
                    at(
                        k.span(),
                        "kvno",
                        format!("expected 1..=4294967295, found {}", k.get_ref()),
                    )
                })?,
        };
        let enctypes = match p.enctypes {
            None => None,
            Some(list) => {
                let list_span = list.span();
                let mut out = Vec::new();
                for item in list.into_inner() {
                    let span = item.span();
                    let e = match item.into_inner() {
                        RawEnctype::Number(n) => i32::try_from(n).ok().and_then(EncType::from_id),
                        RawEnctype::Name(s) => s.parse::<EncType>().ok(),
                    }
                    .ok_or_else(|| {
                        at(
                            span.clone(),
                            "enctypes",
                            "unknown or unsupported enctype".to_owned(),
                        )
                    })?;
                    if e == EncType::Rc4Hmac {
                        return Err(at(
                            span,
                            "enctypes",
                            "rc4-hmac keys are not issued (RFC 8429)".to_owned(),
                        ));
                    }
                    if !out.contains(&e) {
                        out.push(e);
                    }
                }
                if out.is_empty() {
                    return Err(at(
                        list_span,
                        "enctypes",
                        "must list at least one enctype".to_owned(),
                    ));
                }
                Some(out)
            }
        };
        let expires = match &p.expires {
            None => None,
            Some(d) => Some(datetime_to_system_time(d.get_ref()).ok_or_else(|| {
                at(
                    d.span(),
                    "expires",
                    "expected an offset date-time such as 2030-01-01T00:00:00Z".to_owned(),
                )
            })?),
        };
        let kind = match &p.kind {
            None => PrincipalKind::infer(&principal),
            Some(k) => PrincipalKind::parse(k.get_ref()).ok_or_else(|| {
                at(
                    k.span(),
                    "kind",
                    format!(
                        "expected user, service, computer or tgs, found {:?}",
                        k.get_ref()
                    ),
                )
            })?,
        };
        if let Some(pw) = &p.password
            && pw.get_ref().is_empty()
        {
            return Err(at(pw.span(), "password", "must not be empty".to_owned()));
        }
        specs.push(PrincipalSpec {
            principal,
            password: p.password.map(Spanned::into_inner),
            requires_preauth: p.requires_preauth.unwrap_or(false),
            kvno,
            enctypes,
            disabled: p.disabled.unwrap_or(false),
            expires,
            kind,
            line: line_col(text, table_span.start).0,
        });
    }
    Ok(specs)
}

/// Builds a store from parsed specs, deriving password keys for
/// `default_enctypes` (or each principal's own list). Principals without a
/// password are left for a keytab to fill: they are returned separately.
pub fn build_store(
    specs: &[PrincipalSpec],
    realm: &str,
    default_enctypes: &[EncType],
) -> Result<(PrincipalStore, Vec<PrincipalSpec>), kerbside_crypto::CryptoError> {
    let mut store = PrincipalStore::new(realm);
    let mut keyless = Vec::new();
    for spec in specs {
        let Some(password) = &spec.password else {
            keyless.push(spec.clone());
            continue;
        };
        let enctypes = spec.enctypes.as_deref().unwrap_or(default_enctypes);
        let (keys, salt) = password_keys(realm, &spec.principal, password, enctypes)?;
        store.upsert(PrincipalEntry {
            principal: spec.principal.clone(),
            kvno: spec.kvno,
            keys,
            salt,
            requires_preauth: spec.requires_preauth,
            disabled: spec.disabled,
            expires: spec.expires,
            kind: spec.kind,
        });
    }
    Ok((store, keyless))
}

/// Converts a toml error (which carries a byte span) into a located error,
/// naming the field from serde's message or from the key on the line.
fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> PrincipalsFileError {
    let start = e.span().map_or(0, |s| s.start);
    let (line, column) = line_col(text, start);
    let message = e.message().trim().to_owned();
    let field = backticked_field(&message).or_else(|| key_on_line(text, start));
    PrincipalsFileError {
        origin: origin.to_owned(),
        line,
        column,
        field,
        message,
    }
}

/// serde names fields in backticks: "missing field `name`", "unknown field `x`".
fn backticked_field(message: &str) -> Option<String> {
    let rest = message.split_once("field `")?.1;
    Some(rest.split_once('`')?.0.to_owned())
}

/// The bare key of a `key = value` line containing byte `offset`.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then(|| key.to_owned())
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// A TOML offset date-time as a `SystemTime`; local date-times (no offset)
/// are rejected because the KDC must not depend on the host's time zone.
fn datetime_to_system_time(d: &toml::value::Datetime) -> Option<SystemTime> {
    let date = d.date?;
    let time = d.time?;
    let offset_minutes: i64 = match d.offset? {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => i64::from(minutes),
    };
    let days = days_from_civil(
        i64::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    );
    let secs = days * 86_400
        + i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second)
        - offset_minutes * 60;
    let secs = u64::try_from(secs).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, time.nanosecond))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[principal]]
name = "alice"
password = "alicepw"
requires_preauth = true

[[principal]]
name = "host/app.lab.test"
password = "apppw"

[[principal]]
name = "krbtgt/LAB.TEST"
password = "krbtgtpw"
kvno = 2

[[principal]]
name = "WS01$"
enctypes = ["aes256-cts-hmac-sha1-96", 17]
expires = 2030-01-01T00:00:00Z
"#;

    #[test]
    fn parses_the_documented_format() {
        let specs = parse(GOOD, "p.toml", "LAB.TEST").unwrap();
        assert_eq!(specs.len(), 4);
        assert!(specs[0].requires_preauth);
        assert_eq!(specs[0].kind, PrincipalKind::User);
        assert!(!specs[1].requires_preauth);
        assert_eq!(specs[1].kind, PrincipalKind::Service);
        assert_eq!(specs[2].kvno, 2);
        assert_eq!(specs[2].kind, PrincipalKind::Tgs);
        assert_eq!(specs[3].kind, PrincipalKind::Computer);
        assert_eq!(specs[3].password, None);
        assert_eq!(
            specs[3].enctypes.as_deref(),
            Some(&[EncType::Aes256CtsHmacSha196, EncType::Aes128CtsHmacSha196][..])
        );
        assert_eq!(
            specs[3].expires,
            Some(UNIX_EPOCH + Duration::from_secs(1_893_456_000))
        );
        assert_eq!(specs[3].line, 16);
    }

    fn err(text: &str) -> PrincipalsFileError {
        parse(text, "bad.toml", "LAB.TEST").unwrap_err()
    }

    #[test]
    fn type_error_names_line_and_field() {
        let e = err("[[principal]]\nname = \"alice\"\nkvno = \"two\"\n");
        assert_eq!((e.line, e.field.as_deref()), (3, Some("kvno")), "{e}");
        assert!(e.to_string().starts_with("bad.toml:3:"), "{e}");
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let e = err("[[principal]]\nname = \"alice\"\npasword = \"x\"\n");
        assert_eq!(e.field.as_deref(), Some("pasword"), "{e}");
        let e = err("[[principal]]\npassword = \"x\"\n");
        assert_eq!(e.field.as_deref(), Some("name"), "{e}");
        assert_eq!(e.line, 1, "{e}");
    }

    #[test]
    fn semantic_errors_are_located() {
        let e = err("[[principal]]\nname = \"alice\"\n\n[[principal]]\nname = \"alice\"\n");
        assert_eq!((e.line, e.field.as_deref()), (5, Some("name")), "{e}");
        assert!(e.message.contains("line 1"), "{e}");
        let e = err("[[principal]]\nname = \"a\"\nenctypes = [\"des-cbc-crc\"]\n");
        assert_eq!(
            (e.line, e.column, e.field.as_deref()),
            (3, 13, Some("enctypes")),
            "{e}"
        );
        let e = err("[[principal]]\nname = \"a\"\nkvno = 0\n");
        assert_eq!(e.field.as_deref(), Some("kvno"), "{e}");
        let e = err("[[principal]]\nname = \"a@OTHER\"\n");
        assert_eq!(e.field.as_deref(), Some("name"), "{e}");
        let e = err("[[principal]]\nname = \"a\"\nexpires = 2030-01-01T00:00:00\n");
        assert_eq!(e.field.as_deref(), Some("expires"), "{e}");
        let e = err("[[principal]]\nname = \"a\"\nkind = \"robot\"\n");
        assert_eq!(e.field.as_deref(), Some("kind"), "{e}");
    }

    #[test]
    fn syntax_error_is_located() {
        let e = err("[[principal]]\nname = \"alice\n");
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }
}
