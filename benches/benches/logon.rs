//! One complete logon per path, in wall time.
//!
//! * `logon/in-process`: client, application server and KDC in one thread
//!   (no network): native Kerberos (AS with the PREAUTH_REQUIRED round
//!   trip, TGS, AP inside SPNEGO), IAKERB through the server, IAKERB to the
//!   server's on-target LocalKDC, NTLM inside SPNEGO.
//! * `logon/simulated`: one logon inside the deterministic simulation
//!   (turmoil world with KDC, relay, application server, printer and the
//!   client's negotiator on a 1 ms network, built and torn down per run)
//!   on each path: native TCP, native UDP, KKDCP through the relay after
//!   the DC refused port 88, IAKERB through the application server, the
//!   on-client LocalKDC, NTLM to a printer.
//!
//! `cargo bench -p kerbside-benches --bench logon`

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kerbside_benches::handshake::{Lab, Path};
use kerbside_benches::realm::tick;
use kerbside_benches::sim_logon::{SimPath, prepare, run_once};
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

fn in_process(c: &mut Criterion) {
    let mut rng = ChaCha12Rng::seed_from_u64(21);
    let mut lab = Lab::new(&mut rng).expect("lab");
    let mut g = c.benchmark_group("logon/in-process");
    g.throughput(Throughput::Elements(1));
    // One authenticator time per logon: RFC 4120 §3.2.3 replay caches at
    // the KDC and the server refuse a repeat.
    let mut clock = 0u64;
    for path in Path::ALL {
        g.bench_function(BenchmarkId::from_parameter(path.name()), |b| {
            b.iter(|| {
                clock += 1;
                lab.logon(path, tick(clock), &mut rng)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.name()))
            });
        });
    }
    g.finish();
}

fn simulated(c: &mut Criterion) {
    let mut g = c.benchmark_group("logon/simulated");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    for path in SimPath::ALL {
        let prepared = prepare(path).expect("scenario");
        let mut seed = 0u64;
        g.bench_function(BenchmarkId::from_parameter(path.name()), |b| {
            b.iter(|| {
                seed += 1;
                run_once(&prepared, seed).unwrap_or_else(|e| panic!("{}: {e}", path.name()))
            });
        });
    }
    g.finish();
}

criterion_group!(benches, in_process, simulated);
criterion_main!(benches);
