#!/bin/sh
# The loopback comparison of issue 10, in one command:
#
#   benches/compare.sh [--quick] [--duration 8s] [--warmup 2s] [--repeat 3] [--concurrency 1,8,32] ...
#
# Starts MIT krb5kdc (Debian defaults, and a second one with
# disable_last_success/disable_lockout), FreeIPA kdcproxy (gunicorn, TLS,
# keep-alive), `kerbside serve kdc` and `kerbside serve relay` on loopback
# (ports 28801-28805, below the ephemeral range) with the same principals,
# runs `kerbside load` against each back to back (UDP and TCP for the KDCs,
# keep-alive HTTPS for the relays, which both front `kerbside serve kdc`;
# 1, 8 and 32 clients; enctype 18), measures each server's CPU time per
# AS-REP and memory from /proc, profiles our server with perf where a
# target is missed, and writes reports/BENCHMARKS.md. About 25 minutes
# with the defaults; --quick is a 3-minute smoke run. Run it when the
# machine is otherwise quiet: the report records the load average.
#
# Needs (Debian): krb5-kdc, krb5-admin-server, python3-kdcproxy, gunicorn;
# linux-perf for profiles (optional). Every option is passed to
# kerbside-compare (`--help`).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

missing=""
for tool in krb5kdc:krb5-kdc kdb5_util:krb5-kdc kadmin.local:krb5-admin-server; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool#*:}"
done
/usr/bin/python3 -c 'import kdcproxy' >/dev/null 2>&1 || missing="$missing python3-kdcproxy"
/usr/bin/python3 -c 'import gunicorn' >/dev/null 2>&1 || missing="$missing gunicorn"
if [ -n "$missing" ]; then
    echo "benches/compare.sh: missing Debian packages:$missing" >&2
    echo "  apt-get install$missing" >&2
    exit 1
fi
command -v perf >/dev/null 2>&1 || echo "benches/compare.sh: perf not found (linux-perf): no profiles for missed targets" >&2

cargo build --release -p kerbside --bin kerbside -p kerbside-benches --bin kerbside-compare >&2
exec "$ROOT/target/release/kerbside-compare" \
    --kerbside "$ROOT/target/release/kerbside" \
    --command "benches/compare.sh${*:+ $*}" "$@"
