#!/usr/bin/env bash
# Regenerates conformance/results/: runs the live suites against MIT
# krb5kdc, kerbside serve kdc, kdcproxy, kerbside serve relay, MIT gss-server
# -iakerb and kerbside serve app --iakerb on loopback
# (the same runs `cargo test --test conform_live` makes in CI), writes each
# run's results.md / results.json / junit.xml, and the combined matrix.
#
# Needs the Debian packages krb5-kdc krb5-admin-server krb5-user krb5-k5tls
# krb5-gss-samples python3-kdcproxy gunicorn (see DESIGN §8). Usage, from anywhere:
#
#     conformance/regenerate-results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export KERBSIDE_REQUIRE_PEERS=1
export KERBSIDE_CONFORM_RESULTS="$PWD/conformance/results"
rm -rf conformance/results/mit-krb5kdc conformance/results/kerbside-kdc \
       conformance/results/kdcproxy conformance/results/kerbside-relay \
       conformance/results/mit-gss-server conformance/results/kerbside-app
cargo test --test conform_live -- --test-threads=1
cargo run --quiet --bin kerbside -- conform matrix \
    conformance/results/mit-krb5kdc conformance/results/kerbside-kdc \
    conformance/results/kdcproxy conformance/results/kerbside-relay \
    conformance/results/mit-gss-server conformance/results/kerbside-app \
    --out conformance/results/matrix.md
echo "wrote conformance/results/"
