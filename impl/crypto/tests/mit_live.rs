//! Decrypting tickets that a real MIT KDC (krb5kdc 1.20, run here in a
//! throwaway realm) encrypted with enctypes 17, 19 and 20, using keys we
//! derive from the passwords. picky-krb has no RFC 8009, so this is the
//! independent check of our 19/20 ciphers on bytes we did not produce.
//!
//! Skips when MIT krb5 is not installed, unless KERBSIDE_REQUIRE_PEERS=1.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kerberos_asn1::{Asn1Object, EncTicketPart, Ticket};
use kerbside_crypto::{EncType, Key, default_salt};

const REALM: &str = "SHA2.TEST";

fn find(cmd: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/bin".into()])
        .map(|d| d.join(cmd))
        .find(|f| f.is_file())
}

struct Kdc {
    child: Child,
    dir: PathBuf,
}

impl Drop for Kdc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port below the ephemeral range that is free for both TCP and UDP now.
fn free_port() -> u16 {
    let start = 20000 + (std::process::id() % 5000) as u16;
    (start..start + 2000)
        .find(|p| {
            std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok()
                && std::net::UdpSocket::bind(("127.0.0.1", *p)).is_ok()
        })
        .expect("a free port")
}

fn run(dir: &Path, prog: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut c = Command::new(prog);
    c.args(args)
        .env("KRB5_CONFIG", dir.join("krb5.conf"))
        .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"))
        .env("KRB5CCNAME", format!("FILE:{}", dir.join("cc").display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(s) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} {args:?} failed: {text}",
        prog.display()
    );
    text
}

fn start_realm() -> Option<Kdc> {
    let tools = ["krb5kdc", "kdb5_util", "kadmin.local", "kinit", "kvno"];
    let found: Vec<Option<PathBuf>> = tools.iter().map(|t| find(t)).collect();
    if found.iter().any(Option::is_none) {
        assert!(
            std::env::var("KERBSIDE_REQUIRE_PEERS").as_deref() != Ok("1"),
            "MIT krb5 tools required (KERBSIDE_REQUIRE_PEERS=1)"
        );
        eprintln!("SKIP: MIT krb5 (krb5kdc, kdb5_util, kadmin.local, kinit, kvno) not installed");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("kerbside-crypto-mit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let enctypes = "aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128 aes128-cts-hmac-sha1-96";
    std::fs::write(
        dir.join("krb5.conf"),
        format!(
            "[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n \
             udp_preference_limit = 1\n permitted_enctypes = {enctypes}\n\
             [realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n"
        ),
    )
    .unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("kdc.conf"),
        format!(
            "[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = {port}\n\
             [realms]\n {REALM} = {{\n  database_name = {d}/principal\n  key_stash_file = {d}/stash\n  \
             acl_file = {d}/kadm5.acl\n  supported_enctypes = aes256-cts-hmac-sha384-192:normal \
             aes128-cts-hmac-sha256-128:normal aes128-cts-hmac-sha1-96:normal\n }}\n\
             [logging]\n kdc = FILE:{d}/kdc.log\n"
        ),
    )
    .unwrap();
    let p = |t: &str| find(t).unwrap();
    run(
        &dir,
        &p("kdb5_util"),
        &["create", "-s", "-P", "masterpw", "-r", REALM],
        None,
    );
    for q in [
        "cpw -pw krbtgtpw krbtgt/SHA2.TEST".to_string(),
        "addprinc -pw alicepw alice".to_string(),
        "addprinc -e aes128-cts-hmac-sha256-128:normal -pw svc19pw host/svc19".to_string(),
        "addprinc -e aes128-cts-hmac-sha1-96:normal -pw svc17pw host/svc17".to_string(),
    ] {
        run(&dir, &p("kadmin.local"), &["-r", REALM, "-q", &q], None);
    }
    let child = Command::new(p("krb5kdc"))
        .args(["-n", "-r", REALM])
        .env("KRB5_CONFIG", dir.join("krb5.conf"))
        .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let kdc = Kdc { child, dir };
    // Wait until it listens.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(kdc);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("krb5kdc did not start on port {port}");
}

/// Minimal MIT ccache (version 0x0504) reader: (server principal,
/// session key enctype, session key, ticket DER) per credential.
fn read_ccache(b: &[u8]) -> Vec<(String, i32, Vec<u8>, Vec<u8>)> {
    assert_eq!(&b[..2], &[5, 4], "ccache version");
    let hlen = u16::from_be_bytes([b[2], b[3]]) as usize;
    let u32_ = |s: &[u8]| u32::from_be_bytes(s.try_into().unwrap()) as usize;
    let mut out = Vec::new();
    let mut pos = 4 + hlen;
    let rd = |pos: &mut usize, n: usize| -> Vec<u8> {
        let s = b[*pos..*pos + n].to_vec();
        *pos += n;
        s
    };
    let principal = |pos: &mut usize| -> String {
        rd(pos, 4); // name type
        let n = u32_(&rd(pos, 4));
        let rl = u32_(&rd(pos, 4));
        let realm = String::from_utf8(rd(pos, rl)).unwrap();
        let comps: Vec<String> = (0..n)
            .map(|_| {
                let l = u32_(&rd(pos, 4));
                String::from_utf8(rd(pos, l)).unwrap()
            })
            .collect();
        format!("{}@{realm}", comps.join("/"))
    };
    principal(&mut pos); // default principal
    while pos < b.len() {
        principal(&mut pos); // client
        let server = principal(&mut pos);
        let etype = u16::from_be_bytes(rd(&mut pos, 2).try_into().unwrap()) as i32;
        let kl = u32_(&rd(&mut pos, 4));
        let key = rd(&mut pos, kl);
        rd(&mut pos, 16 + 1 + 4); // times, is_skey, flags
        let na = u32_(&rd(&mut pos, 4));
        for _ in 0..na {
            rd(&mut pos, 2);
            let l = u32_(&rd(&mut pos, 4));
            rd(&mut pos, l);
        }
        let nd = u32_(&rd(&mut pos, 4));
        for _ in 0..nd {
            rd(&mut pos, 2);
            let l = u32_(&rd(&mut pos, 4));
            rd(&mut pos, l);
        }
        let tl = u32_(&rd(&mut pos, 4));
        let ticket = rd(&mut pos, tl);
        let sl = u32_(&rd(&mut pos, 4));
        rd(&mut pos, sl);
        out.push((server, etype, key, ticket));
    }
    out
}

fn check_ticket(creds: &[(String, i32, Vec<u8>, Vec<u8>)], server: &str, service_key: &Key) {
    let (_, sk_etype, sk, ticket) = creds.iter().find(|c| c.0 == server).unwrap_or_else(|| {
        panic!(
            "no ticket for {server} in {:?}",
            creds.iter().map(|c| &c.0).collect::<Vec<_>>()
        )
    });
    let (_, t) = Ticket::parse(ticket).unwrap();
    assert_eq!(t.enc_part.etype, service_key.etype().id(), "{server}");
    let plain = service_key.decrypt(2, &t.enc_part.cipher).unwrap();
    let (_, etp) = EncTicketPart::parse(&plain).unwrap();
    assert_eq!(etp.key.keytype, *sk_etype);
    assert_eq!(&etp.key.keyvalue, sk);
    // Wrong usage must fail on MIT's bytes too.
    assert!(service_key.decrypt(3, &t.enc_part.cipher).is_err());
}

#[test]
fn mit_kdc_tickets_decrypt_with_password_derived_keys() {
    let Some(kdc) = start_realm() else { return };
    let dir = kdc.dir.clone();
    run(&dir, &find("kinit").unwrap(), &["alice"], Some("alicepw\n"));
    run(
        &dir,
        &find("kvno").unwrap(),
        &["host/svc19", "host/svc17"],
        None,
    );
    let creds = read_ccache(&std::fs::read(dir.join("cc")).unwrap());

    let krbtgt = Key::from_password(
        EncType::Aes256CtsHmacSha384192,
        "krbtgtpw",
        &default_salt(REALM, &["krbtgt", REALM]),
    )
    .unwrap();
    check_ticket(&creds, "krbtgt/SHA2.TEST@SHA2.TEST", &krbtgt);
    let svc19 = Key::from_password(
        EncType::Aes128CtsHmacSha256128,
        "svc19pw",
        &default_salt(REALM, &["host", "svc19"]),
    )
    .unwrap();
    check_ticket(&creds, "host/svc19@SHA2.TEST", &svc19);
    let svc17 = Key::from_password(
        EncType::Aes128CtsHmacSha196,
        "svc17pw",
        &default_salt(REALM, &["host", "svc17"]),
    )
    .unwrap();
    check_ticket(&creds, "host/svc17@SHA2.TEST", &svc17);
    drop(kdc);
}
