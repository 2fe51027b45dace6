//! The vector checker: runs every test of a vector file against kerbside's
//! own parties and grades it. `kerbside conform vectors` and the crate's
//! tests use it; our implementation must pass 100%.

pub mod accept;
pub mod crypto;
pub mod kdc;
pub mod negotiation;
pub mod relay;
pub mod wire;

use serde::Serialize;

use crate::model::{TestGroup, VectorFile};
use crate::observe::{Evaluation, Grade};

/// The result of one test.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Suite.
    pub suite: String,
    /// tcId.
    pub tc_id: u32,
    /// id.
    pub id: String,
    /// The grade.
    pub grade: Grade,
    /// What was observed.
    pub observed: String,
    /// Why it failed.
    pub detail: String,
}

/// Checks every test of a file against kerbside.
pub fn check_file(file: &VectorFile) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for g in &file.test_groups {
        let results: Vec<(u32, Evaluation)> = match g {
            TestGroup::WireDecode(g) => g
                .tests
                .iter()
                .map(|t| (t.tc_id, wire::evaluate(&g.params, &t.input, &t.expected)))
                .collect(),
            TestGroup::Crypto(g) => g
                .tests
                .iter()
                .map(|t| (t.tc_id, crypto::evaluate(&t.input, &t.expected)))
                .collect(),
            TestGroup::KdcExchange(g) => kdc::evaluate_group(g),
            TestGroup::RelayRequest(g) => relay::evaluate_group(g),
            TestGroup::GssAccept(g) => accept::evaluate_group(g),
            TestGroup::Negotiation(g) => negotiation::evaluate_group(g),
        };
        let ids: Vec<(u32, String)> = g
            .metas()
            .iter()
            .map(|(m, _)| (m.tc_id, m.id.to_owned()))
            .collect();
        for (tc_id, e) in results {
            let id = ids
                .iter()
                .find(|(t, _)| *t == tc_id)
                .map(|(_, i)| i.clone())
                .unwrap_or_default();
            out.push(CaseResult {
                suite: file.suite.clone(),
                tc_id,
                id,
                grade: e.grade,
                observed: e.observed,
                detail: e.detail,
            });
        }
    }
    out
}
