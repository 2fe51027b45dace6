//! Keeping test ids stable: every suite owns a block of 1000 tcIds, the
//! id ledger (`id-ledger.txt`) records every (tcId, id) pair ever issued,
//! and `retired-ids.json` lists the ones withdrawn. [`validate`] checks a
//! set of vector files against both: ids unique across files, each test
//! flagged and every flag explained, counts right, no retired id back, no
//! issued id silently gone or renamed, no two tests with the same input.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{SCHEMA_VERSION, VectorFile};

/// The tcId block of each suite: `[base, base + 999]`.
pub const SUITE_BLOCKS: &[(&str, u32)] = &[
    ("wire-kerberos", 1000),
    ("wire-record-mark", 2000),
    ("wire-kkdcp", 3000),
    ("wire-iakerb", 4000),
    ("wire-gss", 5000),
    ("wire-spnego", 6000),
    ("wire-ntlm", 7000),
    ("crypto-rfc3962", 8000),
    ("crypto-rfc8009", 9000),
    ("crypto-rfc3961", 10000),
    ("crypto-rc4", 11000),
    ("crypto-rfc6113", 12000),
    ("crypto-invalid", 13000),
    ("kdc-as", 14000),
    ("kdc-tgs", 15000),
    ("kkdcp-relay", 16000),
    ("iakerb-acceptor", 17000),
    ("spnego-acceptor", 18000),
    ("ntlm-acceptor", 19000),
    ("negotiator-paths", 20000),
];

/// The base tcId of a suite.
pub fn block(suite: &str) -> Option<u32> {
    SUITE_BLOCKS
        .iter()
        .find(|(s, _)| *s == suite)
        .map(|(_, b)| *b)
}

/// A withdrawn test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetiredId {
    /// Its tcId (never issued again).
    pub tc_id: u32,
    /// Its string id (never issued again).
    pub id: String,
    /// Why it was withdrawn.
    pub reason: String,
}

/// `retired-ids.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetiredIds {
    /// What the file is.
    pub description: String,
    /// The withdrawn tests.
    pub retired: Vec<RetiredId>,
}

/// `id-ledger.txt`: one `tcId id` line per test ever issued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// tcId -> id.
    pub entries: BTreeMap<u32, String>,
}

impl Ledger {
    /// Parses the ledger (`#` comments and blank lines ignored).
    pub fn parse(text: &str) -> Result<Ledger, String> {
        let mut entries = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (tc, id) = line
                .split_once(' ')
                .ok_or_else(|| format!("id-ledger.txt:{}: expected `tcId id`", n + 1))?;
            let tc: u32 = tc
                .parse()
                .map_err(|_| format!("id-ledger.txt:{}: bad tcId {tc:?}", n + 1))?;
            if entries.insert(tc, id.trim().to_owned()).is_some() {
                return Err(format!("id-ledger.txt:{}: tcId {tc} listed twice", n + 1));
            }
        }
        Ok(Ledger { entries })
    }

    /// The ledger text.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Every (tcId, id) ever issued, appended by `kerbside conform generate`.\n\
             # Never edit or remove a line: a withdrawn test goes to retired-ids.json.\n",
        );
        for (tc, id) in &self.entries {
            out.push_str(&format!("{tc} {id}\n"));
        }
        out
    }

    /// Adds the pairs of `files` not yet recorded; refuses a tcId whose id
    /// changed (renaming is retiring and issuing anew).
    pub fn extend_from(&mut self, files: &[VectorFile]) -> Result<(), String> {
        for f in files {
            for (m, _) in f.metas() {
                match self.entries.get(&m.tc_id) {
                    Some(id) if id != m.id => {
                        return Err(format!(
                            "tcId {} was issued as {id:?}, now {:?}: retire it and issue a new tcId",
                            m.tc_id, m.id
                        ));
                    }
                    Some(_) => {}
                    None => {
                        self.entries.insert(m.tc_id, m.id.to_owned());
                    }
                }
            }
        }
        Ok(())
    }
}

/// Every problem with a set of vector files (empty: all good).
pub fn validate(files: &[VectorFile], ledger: &Ledger, retired: &RetiredIds) -> Vec<String> {
    let mut problems = Vec::new();
    let mut tc_seen: BTreeMap<u32, String> = BTreeMap::new();
    let mut id_seen: BTreeMap<String, u32> = BTreeMap::new();
    let retired_tc: BTreeSet<u32> = retired.retired.iter().map(|r| r.tc_id).collect();
    let retired_id: BTreeSet<&str> = retired.retired.iter().map(|r| r.id.as_str()).collect();
    for f in files {
        let suite = &f.suite;
        if f.schema != SCHEMA_VERSION {
            problems.push(format!(
                "{suite}: schema {:?}, expected {SCHEMA_VERSION}",
                f.schema
            ));
        }
        let metas = f.metas();
        // A test's substance is its input under its group's parameters.
        let substance: Vec<String> = f
            .test_groups
            .iter()
            .flat_map(|g| {
                let params = g.params_json().to_string();
                g.metas()
                    .into_iter()
                    .map(move |(_, input)| format!("{params}|{input}"))
            })
            .collect();
        if f.number_of_tests != metas.len() {
            problems.push(format!(
                "{suite}: numberOfTests {} but {} tests",
                f.number_of_tests,
                metas.len()
            ));
        }
        let Some(base) = block(suite) else {
            problems.push(format!(
                "{suite}: no tcId block assigned (ids.rs SUITE_BLOCKS)"
            ));
            continue;
        };
        let sources: BTreeSet<&str> = f.sources.iter().map(|s| s.id.as_str()).collect();
        let mut used_flags = BTreeSet::new();
        let mut inputs: BTreeMap<String, u32> = BTreeMap::new();
        for ((m, _), key) in metas.iter().zip(&substance) {
            let tc = m.tc_id;
            if !(base..base + 1000).contains(&tc) {
                problems.push(format!(
                    "{suite}: tcId {tc} outside the suite's block {base}..{}",
                    base + 999
                ));
            }
            if let Some(other) = tc_seen.insert(tc, m.id.to_owned()) {
                problems.push(format!("tcId {tc} used twice ({other}, {})", m.id));
            }
            if let Some(other) = id_seen.insert(m.id.to_owned(), tc) {
                problems.push(format!("id {} used twice (tcIds {other}, {tc})", m.id));
            }
            if retired_tc.contains(&tc) || retired_id.contains(m.id) {
                problems.push(format!("{suite}: tcId {tc} / id {} is retired", m.id));
            }
            if m.flags.is_empty() {
                problems.push(format!("{suite}: tcId {tc} has no flag"));
            }
            if m.comment.trim().is_empty() {
                problems.push(format!("{suite}: tcId {tc} has no comment"));
            }
            for flag in m.flags {
                used_flags.insert(flag.clone());
                if !f.notes.contains_key(flag) {
                    problems.push(format!("{suite}: tcId {tc} flag {flag} has no note"));
                }
            }
            if let Some(src) = m.source
                && !sources.contains(src)
            {
                problems.push(format!("{suite}: tcId {tc} names unknown source {src}"));
            }
            if let Some(other) = inputs.insert(key.clone(), tc) {
                problems.push(format!(
                    "{suite}: tcIds {other} and {tc} have the same input"
                ));
            }
            match ledger.entries.get(&tc) {
                None => problems.push(format!(
                    "tcId {tc} ({}) is not in id-ledger.txt: run `kerbside conform generate`",
                    m.id
                )),
                Some(id) if id != m.id => problems.push(format!(
                    "tcId {tc} was issued as {id:?} and is now {:?}: ids are never renamed",
                    m.id
                )),
                Some(_) => {}
            }
        }
        for (flag, note) in &f.notes {
            if !used_flags.contains(flag) {
                problems.push(format!("{suite}: note {flag} is not used by any test"));
            }
            if note.description == "undocumented flag" || note.description.trim().is_empty() {
                problems.push(format!("{suite}: flag {flag} is not explained"));
            }
            if note.spec.is_empty() {
                problems.push(format!("{suite}: flag {flag} cites no specification"));
            }
        }
    }
    for (tc, id) in &ledger.entries {
        if !tc_seen.contains_key(tc) && !retired_tc.contains(tc) {
            problems.push(format!(
                "tcId {tc} ({id}) was issued but is neither in a vector file nor retired"
            ));
        }
    }
    for r in &retired.retired {
        if ledger.entries.get(&r.tc_id) != Some(&r.id) {
            problems.push(format!(
                "retired tcId {} ({}) does not match id-ledger.txt",
                r.tc_id, r.id
            ));
        }
    }
    problems
}
