//! Decode and encode per message type, on real bytes: the MIT krb5
//! captures for Kerberos and KKDCP, and tokens from complete in-process
//! logons for IAKERB, SPNEGO and NTLM. Decoding goes through the safe entry
//! points a server uses on network input (strict DER, canonical-encoding
//! check, panic fence); encoding is what a peer sends back.
//!
//! `cargo bench -p kerbside-benches --bench wire`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kerbside_benches::handshake::{Lab, Path};
use kerbside_benches::realm::tick;
use kerbside_benches::vectors::{KERBEROS_MESSAGES, KKDCP_MESSAGES, mit};
use kerbside_wire::iakerb::IakerbProxy;
use kerbside_wire::kkdcp::{self, KdcProxyMessage};
use kerbside_wire::spnego::NegotiationToken;
use kerbside_wire::{krb, ntlm};
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

/// The tokens of one logon per mechanism, with the names criterion prints.
struct Tokens {
    spnego: Vec<(&'static str, Vec<u8>)>,
    iakerb: Vec<(&'static str, Vec<u8>)>,
    ntlm: Vec<(&'static str, Vec<u8>)>,
}

fn tokens() -> Tokens {
    let mut rng = ChaCha12Rng::seed_from_u64(11);
    let mut lab = Lab::new(&mut rng).expect("lab");
    let native = lab
        .transcript(Path::Native, tick(1), &mut rng)
        .expect("native");
    let ntlm_t = lab.transcript(Path::Ntlm, tick(2), &mut rng).expect("ntlm");
    let iakerb = lab
        .transcript(Path::Iakerb, tick(3), &mut rng)
        .expect("iakerb");
    // MS-NLMP messages travel as SPNEGO mechToken / responseToken.
    let inner = |t: &[u8]| match NegotiationToken::decode(t).expect("spnego") {
        NegotiationToken::Init(i) => i.mech_token.expect("mechToken"),
        NegotiationToken::Resp(r) => r.response_token.expect("responseToken"),
        NegotiationToken::Init2(_) => panic!("unexpected NegTokenInit2"),
    };
    Tokens {
        spnego: vec![
            ("NegTokenInit(AP-REQ)", native[0].clone()),
            ("NegTokenResp(AP-REP)", native[1].clone()),
            ("NegTokenResp(AUTHENTICATE+MIC)", ntlm_t[2].clone()),
        ],
        iakerb: vec![
            ("IAKERB_PROXY(AS-REQ)", iakerb[0].clone()),
            ("IAKERB_PROXY(AS-REP)", iakerb[3].clone()),
        ],
        ntlm: vec![
            ("NEGOTIATE", inner(&ntlm_t[0])),
            ("CHALLENGE", inner(&ntlm_t[1])),
            ("AUTHENTICATE", inner(&ntlm_t[2])),
        ],
    }
}

fn decode(c: &mut Criterion) {
    let t = tokens();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1));
    for (label, name) in KERBEROS_MESSAGES {
        let bytes = mit(name).expect("capture");
        g.bench_with_input(BenchmarkId::from_parameter(label), &bytes, |b, bytes| {
            b.iter(|| krb::decode(black_box(bytes)).expect("decode"));
        });
    }
    for (label, name) in KKDCP_MESSAGES {
        let bytes = mit(name).expect("capture");
        g.bench_with_input(BenchmarkId::from_parameter(label), &bytes, |b, bytes| {
            b.iter(|| KdcProxyMessage::decode(black_box(bytes)).expect("decode"));
        });
        // What the relay does: the envelope and the Kerberos message in it.
        let inner = format!("{label}+inner");
        g.bench_with_input(BenchmarkId::from_parameter(inner), &bytes, |b, bytes| {
            b.iter(|| kkdcp::decode_with_inner(black_box(bytes)).expect("decode"));
        });
    }
    for (label, bytes) in &t.iakerb {
        g.bench_with_input(BenchmarkId::from_parameter(label), bytes, |b, bytes| {
            b.iter(|| {
                let (p, _) = IakerbProxy::decode_any(black_box(bytes)).expect("decode");
                p.decode_message().expect("inner")
            });
        });
    }
    for (label, bytes) in &t.spnego {
        g.bench_with_input(BenchmarkId::from_parameter(label), bytes, |b, bytes| {
            b.iter(|| NegotiationToken::decode(black_box(bytes)).expect("decode"));
        });
    }
    for (label, bytes) in &t.ntlm {
        g.bench_with_input(BenchmarkId::from_parameter(label), bytes, |b, bytes| {
            b.iter(|| ntlm::decode(black_box(bytes)).expect("decode"));
        });
    }
    g.finish();
}

fn encode(c: &mut Criterion) {
    let t = tokens();
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(1));
    // Each value is decoded once; the bench checks the encoding gives the
    // same bytes back, then times it.
    for (label, name) in KERBEROS_MESSAGES {
        let bytes = mit(name).expect("capture");
        let m = krb::decode(&bytes).expect("decode");
        assert_eq!(m.encode(), bytes, "{label}");
        g.bench_with_input(BenchmarkId::from_parameter(label), &m, |b, m| {
            b.iter(|| black_box(m).encode());
        });
    }
    for (label, name) in KKDCP_MESSAGES {
        let bytes = mit(name).expect("capture");
        let m = KdcProxyMessage::decode(&bytes).expect("decode");
        assert_eq!(m.encode(), bytes, "{label}");
        g.bench_with_input(BenchmarkId::from_parameter(label), &m, |b, m| {
            b.iter(|| black_box(m).encode());
        });
    }
    for (label, bytes) in &t.iakerb {
        let (p, _) = IakerbProxy::decode_any(bytes).expect("decode");
        assert_eq!(&p.encode(), bytes, "{label}");
        g.bench_with_input(BenchmarkId::from_parameter(label), &p, |b, p| {
            b.iter(|| black_box(p).encode());
        });
    }
    for (label, bytes) in &t.spnego {
        let m = NegotiationToken::decode(bytes).expect("decode");
        let enc = |m: &NegotiationToken| {
            if m.is_init() {
                m.encode_initial()
            } else {
                m.encode()
            }
        };
        assert_eq!(&enc(&m), bytes, "{label}");
        g.bench_with_input(BenchmarkId::from_parameter(label), &m, |b, m| {
            b.iter(|| enc(black_box(m)));
        });
    }
    for (label, bytes) in &t.ntlm {
        let m = ntlm::decode(bytes).expect("decode");
        assert_eq!(&m.encode(), bytes, "{label}");
        g.bench_with_input(BenchmarkId::from_parameter(label), &m, |b, m| {
            b.iter(|| black_box(m).encode());
        });
    }
    g.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
