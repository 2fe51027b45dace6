//! Helpers shared by the root crate's GSS interop tests (gss_interop,
//! iakerb_interop): the `kerbside` binary, a process's output as text, and
//! an MIT realm with alice and one host service whose keytab our keytab
//! writer produced.

use std::process::{Command, Output};

use kerbside_crypto::keytab::{KeytabEntry, write as write_keytab};
use kerbside_crypto::{EncType, Key, default_salt};
use kerbside_testsupport::mit;

/// The `kerbside` binary under test.
pub(crate) fn kerbside() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kerbside"))
}

/// stdout then stderr, for assertion messages.
pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// An MIT realm `realm` with `alice` (password `alicepw`, pre-auth
/// required when `alice_preauth`) and `host/<host>` (password `apppw`,
/// aes256-cts-hmac-sha1-96), and `service.keytab` in the realm's directory
/// written by our keytab writer (the helper points KRB5_KTNAME at it).
/// `None` (skip) when an MIT tool is missing: the KDC tools, gss-client,
/// gss-server and `extra_tools`.
pub(crate) fn service_realm(
    tag: &str,
    realm: &str,
    host: &str,
    alice_preauth: bool,
    extra_tools: &[&str],
) -> Option<mit::MitRealm> {
    let mut tools = vec!["krb5kdc", "kdb5_util", "kadmin.local"];
    tools.extend_from_slice(extra_tools);
    tools.extend(["gss-client", "gss-server"]);
    if !mit::have_tools(&tools) {
        return None;
    }
    let preauth = if alice_preauth {
        " +requires_preauth"
    } else {
        ""
    };
    let started = mit::MitRealm::start(
        tag,
        realm,
        &["aes256-cts-hmac-sha1-96", "aes256-cts-hmac-sha384-192"],
        &[
            format!("addprinc -pw alicepw{preauth} alice"),
            format!("addprinc -e aes256-cts-hmac-sha1-96:normal -pw apppw host/{host}"),
        ],
    );
    let key = Key::from_password(
        EncType::Aes256CtsHmacSha196,
        "apppw",
        &default_salt(realm, &["host", host]),
    )
    .unwrap();
    let kt = write_keytab(&[KeytabEntry::new(realm, &["host", host], 3, 0, 1, &key)]);
    std::fs::write(started.dir.join("service.keytab"), kt).unwrap();
    Some(started)
}
