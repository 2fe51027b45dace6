//! The four report files written from real simulation runs: what each one
//! must say about passing and failing seeds.

mod common;

use kerbside_report::{RESULTS_SCHEMA, write_report};

#[test]
fn the_four_files_describe_passes_and_failures() {
    let (summaries, runs) = common::runs();
    assert!(
        runs.iter().filter(|r| !r.passed).count() == 2,
        "the edited scenario fails"
    );
    let report = common::report(&summaries, &runs);
    let dir = common::tmp("writers");
    let w = write_report(&dir, &report).unwrap();

    let md = std::fs::read_to_string(&w.summary).unwrap();
    assert!(
        md.starts_with("# kerbside run\n\n**FAIL**: 2 of 5 scenario-seeds failed"),
        "{md}"
    );
    assert!(
        md.contains("| office-baseline | default | 3 | pass | native-tcp 18 |"),
        "{md}"
    );
    assert!(md.contains("**FAIL** 2/2"), "{md}");
    assert!(
        md.contains("replay: `kerbside replay edited/office-baseline-edited.toml --seed 1`"),
        "{md}"
    );
    assert!(
        md.contains("pcap: [failures/office-baseline-edited-seed-1.pcap]"),
        "{md}"
    );
    assert!(md.contains("took path native-tcp, expected kkdcp"), "{md}");
    // No latency-model scenario in this run: the report says where the
    // simulated column would come from instead of a column of dashes only.
    assert!(
        md.contains("`kerbside run latency-model` fills the simulated columns"),
        "{md}"
    );

    let html = std::fs::read_to_string(&w.html).unwrap();
    assert!(html.contains("No logon in this run carries a model key"));
    for id in [
        "chart-latency",
        "chart-matrix",
        "chart-model",
        "chart-coverage",
        "chart-audit",
        "chart-timeline-0",
        "chart-timeline-1",
    ] {
        assert!(html.contains(&format!("<svg id=\"{id}\"")), "missing {id}");
    }
    assert!(html.contains("id=\"fail-office-baseline-edited-1\""));
    assert!(
        html.contains(r##"<a href="#fail-office-baseline-edited-2">"##),
        "matrix links failures"
    );
    assert!(html.contains("href=\"failures/office-baseline-edited-seed-2.pcap\""));
    assert!(
        !html.contains("http://") || !html.contains("src=\"http"),
        "nothing fetched"
    );
    assert!(!html.contains("<script"), "no script");
    assert!(!html.contains("<img"), "charts are inline");

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&w.json).unwrap()).unwrap();
    assert_eq!(json["schema"], RESULTS_SCHEMA);
    assert_eq!(json["passed"], false);
    assert_eq!(json["runs"].as_array().unwrap().len(), 5);
    assert_eq!(json["scenarios"].as_array().unwrap().len(), 2);
    let passing = &json["runs"][0]["logons"][0]["report"];
    assert!(passing.get("audit").is_none() && passing["audit_events"].as_u64().unwrap() > 0);
    let failing = &json["runs"][3]["logons"][0]["report"];
    assert!(
        failing["audit"].as_array().is_some_and(|a| !a.is_empty()),
        "failing runs keep their audit trail"
    );
    assert_eq!(json["artifacts"].as_array().unwrap().len(), 2);

    let junit = std::fs::read_to_string(&w.junit).unwrap();
    assert!(
        junit.contains(r#"<testsuites name="kerbside run" tests="5" failures="2""#),
        "{junit}"
    );
    assert_eq!(junit.matches("<testcase ").count(), 5);
    assert_eq!(junit.matches("<failure ").count(), 2);
    assert!(junit.contains("name=\"seed 2\""));
    assert!(junit.contains("pcap: failures/office-baseline-edited-seed-2.pcap"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn results_json_matches_its_schema() {
    let (summaries, runs) = common::runs();
    let report = common::report(&summaries, &runs);
    let json: serde_json::Value =
        serde_json::from_str(&kerbside_report::results_json(&report).unwrap()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/results.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let mut errors = Vec::new();
    schema_check::validate(&schema, &schema, &json, "$", &mut errors);
    let mut mutated = json.clone();
    mutated["runs"][0]["undocumented"] = serde_json::json!(1);
    mutated["runs"][1]["logons"][0]["status"] = serde_json::json!("exploded");
    let mut found = Vec::new();
    schema_check::validate(&schema, &schema, &mutated, "$", &mut found);
    assert_eq!(found.len(), 2, "the check is strict: {found:?}");
    assert!(
        errors.is_empty(),
        "results.json does not match its schema:\n{}",
        errors.join("\n")
    );
}

/// A validator for the subset of JSON Schema 2020-12 the schema file uses:
/// `type` (one or a list), `properties`, `required`,
/// `additionalProperties` (false or a schema), `items`, `enum`, `$ref` to
/// `#/$defs/...`, `anyOf`. Strict on objects: a field the schema does not
/// describe is an error, so the documentation cannot fall behind the code.
mod schema_check {
    use serde_json::Value;

    fn type_ok(t: &str, v: &Value) -> bool {
        match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_u64() || v.is_i64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        }
    }

    pub(super) fn validate(root: &Value, s: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r.trim_start_matches("#/$defs/");
            match root["$defs"].get(name) {
                Some(d) => validate(root, d, v, at, errors),
                None => errors.push(format!("{at}: unknown $ref {r}")),
            }
            return;
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
            let ok = any.iter().any(|alt| {
                let mut e = Vec::new();
                validate(root, alt, v, at, &mut e);
                e.is_empty()
            });
            if !ok {
                errors.push(format!("{at}: matches none of anyOf: {v}"));
            }
            return;
        }
        if let Some(t) = s.get("type") {
            let ok = match t {
                Value::String(t) => type_ok(t, v),
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|t| type_ok(t, v)),
                _ => true,
            };
            if !ok {
                errors.push(format!("{at}: expected type {t}, got {v}"));
                return;
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array)
            && !e.contains(v)
        {
            errors.push(format!("{at}: {v} not in {e:?}"));
        }
        if let Value::Object(map) = v {
            let props = s.get("properties").and_then(Value::as_object);
            if let Some(req) = s.get("required").and_then(Value::as_array) {
                for r in req.iter().filter_map(Value::as_str) {
                    if !map.contains_key(r) {
                        errors.push(format!("{at}: missing required `{r}`"));
                    }
                }
            }
            for (k, val) in map {
                let sub = props.and_then(|p| p.get(k));
                match (sub, s.get("additionalProperties")) {
                    (Some(sub), _) => validate(root, sub, val, &format!("{at}.{k}"), errors),
                    (None, Some(Value::Bool(false))) | (None, None)
                        if s.get("properties").is_some() =>
                    {
                        errors.push(format!("{at}: field `{k}` is not in the schema"))
                    }
                    (None, Some(extra)) if extra.is_object() => {
                        validate(root, extra, val, &format!("{at}.{k}"), errors)
                    }
                    _ => {}
                }
            }
        }
        if let (Value::Array(items), Some(item)) = (v, s.get("items")) {
            for (i, it) in items.iter().enumerate() {
                validate(root, item, it, &format!("{at}[{i}]"), errors);
            }
        }
    }
}
