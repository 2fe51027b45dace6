//! Reading scenario files, with errors that name the file, line, column and
//! field.
//!
//! Two kinds of error are located differently:
//!
//! * syntax and type errors come from the TOML parser with a byte span; for
//!   tables deserialized through a buffer (timeline actions) that span is
//!   the whole table, so the field named in the message is looked up inside
//!   it to point at its line;
//! * semantic errors (an unknown host, a label never used) are found after
//!   parsing and carry a field path (`timeline[3].client`), which is
//!   resolved to a span with `toml_edit`, the span-preserving parser.

use std::fmt;
use std::ops::Range;
use std::path::Path as FsPath;

use super::model::Scenario;
use super::validate::{FieldPath, Seg, validate};

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is wrong somewhere.
    #[error("{0}")]
    Invalid(Located),
}

/// A located problem in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// File name (or `<inline>`).
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field at fault (`timeline[3].client`), when one can be named.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.origin, self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Reads and validates a scenario file.
pub fn load_file(path: &FsPath) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.display().to_string(),
        source,
    })?;
    load_str(&text, &path.display().to_string())
}

/// Parses and validates scenario text; `origin` names it in errors.
pub fn load_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let scenario: Scenario = toml::from_str(text)
        .map_err(|e| ScenarioError::Invalid(locate_parse_error(text, origin, &e)))?;
    validate(&scenario).map_err(|(path, message)| {
        ScenarioError::Invalid(locate_path(text, origin, &path, message))
    })?;
    Ok(scenario)
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.chars().count(), |i| before[i + 1..].chars().count())
        + 1;
    (line, col)
}

/// The `[table]` or `[[array]]` header in force at `offset`, with the index
/// of that array entry: `("timeline", Some(3))`.
fn table_context(text: &str, offset: usize) -> Option<(String, Option<usize>)> {
    let mut current: Option<(String, bool, usize)> = None; // name, is_array, start
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        // The header line of a table that starts exactly at `offset` counts.
        if pos > offset {
            break;
        }
        let t = line.trim();
        if let Some(name) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            current = Some((name.trim().to_owned(), true, pos));
        } else if let Some(name) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
            current = Some((name.trim().to_owned(), false, pos));
        }
        pos += line.len();
    }
    let (name, is_array, start) = current?;
    if !is_array {
        return Some((name, None));
    }
    let header = format!("[[{name}]]");
    let index = text
        .get(..start)
        .unwrap_or(text)
        .lines()
        .filter(|l| l.trim().starts_with(&header))
        .count();
    Some((name, Some(index)))
}

/// The byte offset of `key = ` inside `range`, if present.
fn find_key(text: &str, range: Range<usize>, key: &str) -> Option<usize> {
    let hay = text.get(range.clone())?;
    let mut from = 0;
    while let Some(i) = hay[from..].find(key) {
        let at = from + i;
        let before_ok = at == 0
            || !hay.as_bytes()[at - 1].is_ascii_alphanumeric() && hay.as_bytes()[at - 1] != b'_';
        let after = hay[at + key.len()..].trim_start();
        if before_ok && after.starts_with('=') {
            return Some(range.start + at);
        }
        from = at + key.len();
    }
    None
}

/// The first `backticked` word of a message.
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

fn locate_parse_error(text: &str, origin: &str, e: &toml::de::Error) -> Located {
    let message = e.message().trim().to_owned();
    let span = e.span().unwrap_or(0..0);
    let mut offset = span.start;
    let ctx = table_context(text, span.start);
    let mut field_name: Option<String> = None;
    // Messages that name a field: "unknown field `x`", "missing field `x`",
    // and our own "`at`: ..." prefixes.
    if let Some(name) = backticked(&message)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && (message.starts_with("unknown field")
            || message.starts_with("missing field")
            || message.starts_with("invalid `"))
    {
        field_name = Some(name.to_owned());
        if let Some(at) = find_key(text, span.clone(), name) {
            offset = at;
        }
    }
    if field_name.is_none() {
        // The span points at a value: name its key.
        let line_start = text
            .get(..span.start.min(text.len()))
            .unwrap_or("")
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = text.get(line_start..).unwrap_or("");
        if let Some((k, _)) = line.split_once('=') {
            let k = k.trim();
            if !k.is_empty()
                && !k.starts_with('[')
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '"')
            {
                field_name = Some(k.trim_matches('"').to_owned());
            }
        }
    }
    let field = match (ctx, field_name) {
        (Some((t, Some(i))), Some(f)) => Some(format!("{t}[{i}].{f}")),
        (Some((t, None)), Some(f)) => Some(format!("{t}.{f}")),
        (None, Some(f)) => Some(f),
        (Some((t, Some(i))), None) => Some(format!("{t}[{i}]")),
        (Some((t, None)), None) => Some(t),
        (None, None) => None,
    };
    let (line, column) = line_col(text, offset);
    Located {
        origin: origin.to_owned(),
        line,
        column,
        field,
        message,
    }
}

fn locate_path(text: &str, origin: &str, path: &FieldPath, message: String) -> Located {
    let offset = toml_edit::ImDocument::parse(text).ok().and_then(|doc| {
        let mut item = doc.as_item();
        let mut best: Option<Range<usize>> = None;
        for seg in &path.0 {
            let next = match seg {
                Seg::Key(k) => item.get(k.as_str()),
                Seg::Index(i) => item.get(*i),
            };
            let Some(n) = next else { break };
            item = n;
            if let Some(s) = n.span() {
                best = Some(s);
            }
        }
        // A table's span is its header; the last key's own line is better.
        if let (Some(Seg::Key(k)), Some(b)) = (path.0.last(), &best)
            && let Some(at) = find_key(text, b.start..text.len(), k)
        {
            return Some(at);
        }
        best.map(|b| b.start)
    });
    let (line, column) = line_col(text, offset.unwrap_or(0));
    Located {
        origin: origin.to_owned(),
        line,
        column,
        field: Some(path.to_string()),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"name = "t"
description = "d"
duration = "1m"

[[realm]]
name = "CORP.EXAMPLE"
kdcs = ["dc1"]
[[realm.principal]]
name = "alice"
password = "Winter2026!"

[[host]]
name = "dc1"
role = "kdc"

[[host]]
name = "laptop"
role = "client"
"#;

    fn err(extra: &str) -> Located {
        match load_str(&format!("{BASE}{extra}"), "x.toml") {
            Err(ScenarioError::Invalid(l)) => l,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn base_loads() {
        let s = load_str(BASE, "x.toml").unwrap();
        assert_eq!(s.hosts.len(), 2);
    }

    #[test]
    fn unknown_field_in_timeline_names_line_and_field() {
        let e = err(
            "\n[[timeline]]\nat = \"1s\"\naction = \"logon\"\nclinet = \"laptop\"\nuser = \"alice\"\n",
        );
        assert_eq!(e.field.as_deref(), Some("timeline[0].clinet"), "{e}");
        assert_eq!(e.line, 23, "{e}");
        assert!(e.message.contains("unknown field `clinet`"), "{e}");
        assert!(
            e.to_string()
                .starts_with("x.toml:23:1: field `timeline[0].clinet`:"),
            "{e}"
        );
    }

    #[test]
    fn unknown_action_is_an_error() {
        let e = err("\n[[timeline]]\nat = \"1s\"\naction = \"reboot\"\nhost = \"dc1\"\n");
        assert!(e.message.contains("unknown variant `reboot`"), "{e}");
        assert!(e.message.contains("firewall.set"), "{e}");
        assert_eq!(e.field.as_deref(), Some("timeline[0]"));
    }

    #[test]
    fn unknown_host_reference_is_located() {
        let e = err("\n[[timeline]]\nat = \"1s\"\naction = \"crash\"\nhost = \"dc9\"\n");
        assert_eq!(e.field.as_deref(), Some("timeline[0].host"));
        assert_eq!(e.line, 23, "{e}");
        assert!(e.message.contains("dc9"), "{e}");
    }

    #[test]
    fn bad_value_names_its_key() {
        let e = err("\n[[link]]\nbetween = [\"laptop\", \"dc1\"]\nlatency = \"5 parsecs\"\n");
        assert_eq!(e.line, 22, "{e}");
        assert_eq!(e.field.as_deref(), Some("link[0].latency"), "{e}");
        let e = err("\n[network]\nlatnecy = \"5ms\"\n");
        assert_eq!(e.line, 21, "{e}");
        assert!(e.message.contains("unknown field `latnecy`"), "{e}");
    }

    proptest::proptest! {
        /// Whatever is typed into a scenario file, loading it returns a
        /// scenario or a located error; it never panics.
        #[test]
        fn mangled_files_never_panic(
            edits in proptest::collection::vec((0usize..2000, proptest::prelude::any::<char>(), 0u8..3), 1..8)
        ) {
            let mut text: Vec<char> = format!("{BASE}[[timeline]]\nat = \"1s\"\naction = \"logon\"\nclient = \"laptop\"\nuser = \"alice\"\n").chars().collect();
            for (pos, c, op) in edits {
                let pos = pos % (text.len() + 1);
                match op {
                    0 => text.insert(pos, c),
                    1 if pos < text.len() => { text.remove(pos); }
                    _ if pos < text.len() => text[pos] = c,
                    _ => {}
                }
            }
            let text: String = text.into_iter().collect();
            if let Err(ScenarioError::Invalid(l)) = load_str(&text, "m.toml") {
                proptest::prop_assert!(l.line >= 1 && l.column >= 1);
            }
        }
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
