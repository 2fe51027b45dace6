//! The committed vector files: they are exactly what the generator makes,
//! they match the JSON Schema and the model, their ids are unique, flagged,
//! explained and stable, there are at least 400 of them, and kerbside's own
//! parties pass every one (the `kerbside conform vectors` check, in CI).

use std::path::Path;

use kerbside_conformance::check::check_file;
use kerbside_conformance::files;
use kerbside_conformance::ids::{self, Ledger, RetiredId, RetiredIds};
use kerbside_conformance::model::{VectorFile, json_schema};
use kerbside_conformance::observe::Grade;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn committed() -> Vec<VectorFile> {
    files::load_dir(&root().join("vectors")).expect("vector files parse with the model")
}

#[test]
fn committed_files_are_what_the_generator_makes() {
    let generated = kerbside_conformance::generate::all();
    let committed = committed();
    let names = |v: &[VectorFile]| v.iter().map(|f| f.suite.clone()).collect::<Vec<_>>();
    let mut a = names(&generated);
    let mut b = names(&committed);
    a.sort();
    b.sort();
    assert_eq!(a, b, "suites differ: run `kerbside conform generate`");
    for g in &generated {
        let path = root().join("vectors").join(format!("{}.json", g.suite));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text == g.to_json(),
            "{} differs from the generator: run `kerbside conform generate`",
            path.display()
        );
    }
}

#[test]
fn embedded_copies_are_the_committed_files() {
    let mut embedded = files::embedded().unwrap();
    let mut committed = committed();
    embedded.sort_by(|a, b| a.suite.cmp(&b.suite));
    committed.sort_by(|a, b| a.suite.cmp(&b.suite));
    assert_eq!(
        embedded, committed,
        "files.rs EMBEDDED must list every vector file"
    );
}

#[test]
fn schema_json_is_derived_from_the_model() {
    let text = std::fs::read_to_string(root().join("schema.json")).unwrap();
    assert!(
        text == json_schema(),
        "schema.json is stale: run `kerbside conform generate`"
    );
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The schema names every group type and forbids unknown fields.
    for t in [
        "WireDecode",
        "Crypto",
        "KdcExchange",
        "RelayRequest",
        "GssAccept",
        "Negotiation",
    ] {
        assert!(text.contains(&format!("\"{t}\"")), "schema lacks {t}");
    }
    assert!(text.contains("\"additionalProperties\": false"));
    assert_eq!(schema["title"], "VectorFile");
}

#[test]
fn ids_are_unique_flagged_explained_and_stable() {
    let files = files::embedded().unwrap();
    let problems = ids::validate(
        &files,
        &files::ledger().unwrap(),
        &files::retired().unwrap(),
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let total: usize = files.iter().map(|f| f.number_of_tests).sum();
    assert!(total >= 400, "only {total} tests");
}

#[test]
fn validation_catches_reused_renamed_retired_and_unexplained_ids() {
    let files = files::embedded().unwrap();
    let ledger = files::ledger().unwrap();
    let retired = files::retired().unwrap();
    let first = files
        .iter()
        .find(|f| f.suite == "wire-record-mark")
        .unwrap()
        .clone();
    let (tc, id) = {
        let metas = first.metas();
        (metas[0].0.tc_id, metas[0].0.id.to_owned())
    };

    // The same file twice: every tcId and id is duplicated.
    let twice = vec![first.clone(), first.clone()];
    let p = ids::validate(&twice, &ledger, &retired);
    assert!(
        p.iter()
            .any(|x| x.contains(&format!("tcId {tc} used twice"))),
        "{p:?}"
    );

    // A retired id that reappears.
    let r = RetiredIds {
        description: String::new(),
        retired: vec![RetiredId {
            tc_id: tc,
            id: id.clone(),
            reason: "x".into(),
        }],
    };
    let p = ids::validate(std::slice::from_ref(&first), &ledger, &r);
    assert!(p.iter().any(|x| x.contains("is retired")), "{p:?}");

    // A test removed without retiring it.
    let mut fewer = first.clone();
    if let kerbside_conformance::model::TestGroup::WireDecode(g) = &mut fewer.test_groups[0] {
        g.tests.remove(0);
    }
    fewer.number_of_tests -= 1;
    let p = ids::validate(std::slice::from_ref(&fewer), &ledger, &retired);
    assert!(
        p.iter()
            .any(|x| x.contains(&format!("tcId {tc} ({id}) was issued but"))),
        "{p:?}"
    );

    // A renamed id, a flag without a note, a wrong count.
    let mut bad = first.clone();
    if let kerbside_conformance::model::TestGroup::WireDecode(g) = &mut bad.test_groups[0] {
        g.tests[0].id = "renamed".into();
        g.tests[0].flags.push("NoSuchFlag".into());
    }
    bad.number_of_tests += 1;
    let p = ids::validate(std::slice::from_ref(&bad), &ledger, &retired);
    assert!(
        p.iter().any(|x| x.contains("ids are never renamed")),
        "{p:?}"
    );
    assert!(
        p.iter().any(|x| x.contains("flag NoSuchFlag has no note")),
        "{p:?}"
    );
    assert!(p.iter().any(|x| x.contains("numberOfTests")), "{p:?}");

    // The ledger refuses a rename too.
    let mut l = Ledger::default();
    l.extend_from(std::slice::from_ref(&first)).unwrap();
    assert!(l.extend_from(std::slice::from_ref(&bad)).is_err());
}

#[test]
fn unknown_fields_are_errors() {
    let text = files::EMBEDDED
        .iter()
        .find(|(n, _)| *n == "wire-gss")
        .unwrap()
        .1;
    let typo = text.replacen("\"comment\"", "\"coment\"", 1);
    assert!(serde_json::from_str::<VectorFile>(&typo).is_err());
    let extra = text.replacen("\"tcId\"", "\"unexpected\": 1, \"tcId\"", 1);
    assert!(serde_json::from_str::<VectorFile>(&extra).is_err());
}

#[test]
fn kerbside_passes_every_vector() {
    let mut failures = Vec::new();
    let mut total = 0;
    for f in files::embedded().unwrap() {
        for c in check_file(&f) {
            total += 1;
            if c.grade != Grade::Pass {
                failures.push(format!(
                    "{} {} {}: [{}] {}",
                    c.suite, c.tc_id, c.id, c.observed, c.detail
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 400);
}
