//! Decoded trees of every MIT vector as insta snapshots (review the .snap
//! files under tests/snapshots when they change).

use kerbside_wire::describe::describe;
use kerbside_wire::detect::Detected;

fn vectors() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mit");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "hex"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (
                name,
                hex::decode(std::fs::read_to_string(&p).unwrap().trim()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn mit_vectors_decoded_trees() {
    let all = vectors();
    assert_eq!(all.len(), 22);
    for (name, bytes) in all {
        let (kind, node) = describe(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = if name.starts_with("kkdcp") {
            Detected::Kkdcp
        } else {
            Detected::Kerberos
        };
        assert_eq!(kind, want, "{name}");
        // the UDP and TCP captures are the same exchange shape; snapshot all
        insta::assert_snapshot!(name.clone(), node.render_text());
    }
}

#[test]
fn tree_paths_name_fields_and_resolve_numbers() {
    let all = vectors();
    let get = |n: &str| all.iter().find(|(name, _)| name == n).unwrap().1.clone();
    let (_, t) = describe(&get("tcp-as-req-nopreauth")).unwrap();
    assert_eq!(t.name, "AS-REQ");
    assert_eq!(
        t.path("req-body.cname").unwrap().value.as_deref(),
        Some("alice (NT-PRINCIPAL)")
    );
    assert_eq!(
        t.path("req-body.etype.[0]").unwrap().value.as_deref(),
        Some("18 (aes256-cts-hmac-sha1-96)")
    );
    assert_eq!(
        t.path("padata.[0].padata-type").unwrap().value.as_deref(),
        Some("150 (PA-AS-FRESHNESS)")
    );
    let (_, e) = describe(&get("tcp-krb-error-preauth-required")).unwrap();
    assert_eq!(
        e.path("error-code").unwrap().value.as_deref(),
        Some("25 (KDC_ERR_PREAUTH_REQUIRED)")
    );
    assert_eq!(
        e.path("e-data (METHOD-DATA).[1].padata-value (ETYPE-INFO2).[0].salt")
            .unwrap()
            .value
            .as_deref(),
        Some("\"LAB.TESTalice\"")
    );
    let (_, k) = describe(&get("kkdcp-tgs-req")).unwrap();
    assert_eq!(
        k.path("target-domain").unwrap().value.as_deref(),
        Some("LAB.TEST")
    );
    assert_eq!(
        k.path("kerb-message.TGS-REQ.padata.[0].padata-value (AP-REQ).ticket.sname")
            .unwrap()
            .value
            .as_deref(),
        Some("krbtgt/LAB.TEST (NT-SRV-INST)")
    );
    let json: serde_json::Value = serde_json::from_str(&k.to_json()).unwrap();
    assert_eq!(json["name"], "KDC-PROXY-MESSAGE");
}
