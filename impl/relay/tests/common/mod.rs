//! Shared helpers for the relay core tests: MIT-captured vectors, configs,
//! request builders.
#![allow(dead_code, unreachable_pub)] // each test file uses a different subset

use std::time::{Duration, SystemTime};

use kerbside_relay::{RealmRoute, RelayConfig, RequestHead};
use kerbside_wire::der::Writer;
use kerbside_wire::kkdcp::KdcProxyMessage;

/// The captured MIT vectors (kerbside-wire's copy of /work/shared/vectors/mit).
pub fn vector(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../wire/tests/data/mit/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    hex::decode(text.trim()).unwrap()
}

/// A fixed instant: 2025-11-25T18:00:38Z.
pub fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_093_638)
}

pub fn at(ms: u64) -> SystemTime {
    t0() + Duration::from_millis(ms)
}

/// LAB.TEST with two TCP KDCs and one UDP KDC (listed first: the relay
/// must still try TCP first).
pub fn config() -> RelayConfig {
    RelayConfig::with_realms([RealmRoute::parse_mapping(
        "LAB.TEST=udp://127.0.0.3:88,tcp://127.0.0.1:88,tcp://127.0.0.2:88",
    )
    .unwrap()])
    .unwrap()
}

pub fn head(body: &[u8]) -> RequestHead {
    let mut h = RequestHead::post("/KdcProxy", body.len());
    h.client.addr = Some("192.0.2.7:50000".parse().unwrap());
    h
}

/// A KDC-PROXY-MESSAGE for a bare message and realm.
pub fn proxy_request(msg: &[u8], realm: &str) -> Vec<u8> {
    KdcProxyMessage::request(msg, realm).unwrap().encode()
}

/// The bare message inside a captured request vector.
pub fn inner_of(vector_name: &str) -> Vec<u8> {
    let m = KdcProxyMessage::decode(&vector(vector_name)).unwrap();
    m.kerberos_message().unwrap().to_vec()
}

/// `len | mark`.
pub fn framed(msg: &[u8]) -> Vec<u8> {
    kerbside_wire::record::encode(msg).unwrap()
}

/// The captured KRB-ERROR with its error-code replaced.
pub fn krb_error_with_code(code: u8) -> Vec<u8> {
    let e = hex::encode(vector("tcp-krb-error-preauth-required"));
    assert_eq!(e.matches("a603020119").count(), 1);
    hex::decode(e.replace("a603020119", &format!("a6030201{code:02x}"))).unwrap()
}

/// An RFC 3244 change-password request whose AP-REQ ticket is for
/// kadmin/changepw@`realm` (structure only: nothing here is encrypted).
pub fn kpasswd_request(realm: &str, version: u16) -> Vec<u8> {
    let mut w = Writer::new();
    w.constructed(0x6e, |w| {
        w.sequence(|w| {
            w.explicit(0, |w| {
                w.integer(5);
            });
            w.explicit(1, |w| {
                w.integer(14);
            });
            w.explicit(2, |w| {
                w.primitive(0x03, &[0, 0, 0, 0, 0]);
            });
            w.explicit(3, |w| {
                w.constructed(0x61, |w| {
                    w.sequence(|w| {
                        w.explicit(0, |w| {
                            w.integer(5);
                        });
                        w.explicit(1, |w| {
                            w.primitive(0x1b, realm.as_bytes());
                        });
                        w.explicit(2, |w| {
                            principal(w, &["kadmin", "changepw"]);
                        });
                        w.explicit(3, |w| {
                            enc_data(w);
                        });
                    });
                });
            });
            w.explicit(4, |w| {
                enc_data(w);
            });
        });
    });
    let ap_req = w.finish();
    let mut w = Writer::new();
    w.constructed(0x75, |w| {
        w.sequence(|w| {
            w.explicit(0, |w| {
                w.integer(5);
            });
            w.explicit(1, |w| {
                w.integer(21);
            });
            w.explicit(3, |w| {
                enc_data(w);
            });
        });
    });
    let krb_priv = w.finish();
    let total = 6 + ap_req.len() + krb_priv.len();
    let mut out = Vec::new();
    out.extend_from_slice(&u16::try_from(total).unwrap().to_be_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&u16::try_from(ap_req.len()).unwrap().to_be_bytes());
    out.extend_from_slice(&ap_req);
    out.extend_from_slice(&krb_priv);
    out
}

fn principal(w: &mut Writer, parts: &[&str]) {
    w.sequence(|w| {
        w.explicit(0, |w| {
            w.integer(2);
        });
        w.explicit(1, |w| {
            w.sequence(|w| {
                for p in parts {
                    w.primitive(0x1b, p.as_bytes());
                }
            });
        });
    });
}

fn enc_data(w: &mut Writer) {
    w.sequence(|w| {
        w.explicit(0, |w| {
            w.integer(18);
        });
        w.explicit(2, |w| {
            w.octet_string(&[0xaa; 16]);
        });
    });
}
