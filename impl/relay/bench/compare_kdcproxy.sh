#!/usr/bin/env bash
# Relay performance, back to back in one run on this machine:
#   MIT krb5kdc directly (TCP)  vs  kerbside serve relay (HTTPS, keep-alive)
#   vs  FreeIPA kdcproxy (Debian python3-kdcproxy under gunicorn, TLS, keep-alive)
# all fronting the same MIT krb5kdc, driven by `kerbside load` (closed loop,
# fresh AS-REQ per request for a principal without pre-authentication, every
# AS-REP decrypted and checked) at 1 and 8 concurrent clients.
#
#   impl/relay/bench/compare_kdcproxy.sh [SECONDS] [CLIENTS...]
#
# Environment: RELAY_WORKERS (2), GUNICORN_WORKERS (2), GUNICORN_THREADS (8),
# LOAD_THREADS (2), REPEAT (3), LOAD_MODE (--keep-alive; --new-connection
# gives MIT's pattern: one TLS connection per request). Needs MIT krb5 (krb5kdc, kdb5_util, kadmin.local),
# python3-kdcproxy + gunicorn for /usr/bin/python3, and a release build
# (this script runs `cargo build --release --bin kerbside`).
set -euo pipefail
cd "$(dirname "$0")/../../.."

SECONDS_PER_RUN=${1:-10}
shift || true
CLIENTS=${*:-1 8}
RELAY_WORKERS=${RELAY_WORKERS:-2}
GUNICORN_WORKERS=${GUNICORN_WORKERS:-2}
GUNICORN_THREADS=${GUNICORN_THREADS:-8}
LOAD_THREADS=${LOAD_THREADS:-2}
LOAD_MODE=${LOAD_MODE:---keep-alive}

cargo build --release --bin kerbside >&2
K=$PWD/target/release/kerbside

D=$(mktemp -d /tmp/kerbside-relay-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$D"
}
trap cleanup EXIT

# Ports below 32768 (outside the ephemeral range), derived from our pid.
base=$((20000 + ($$ % 2000) * 4))
KDC_PORT=$base; RELAY_PORT=$((base + 1)); KP_PORT=$((base + 2))

cat >"$D/kdc.conf" <<EOF
[kdcdefaults]
 kdc_ports = $KDC_PORT
 kdc_tcp_listen = $KDC_PORT
[realms]
 LAB.TEST = {
  database_name = $D/principal
  key_stash_file = $D/stash
  kdc_ports = $KDC_PORT
  kdc_tcp_ports = $KDC_PORT
  acl_file = $D/kadm5.acl
 }
[logging]
 kdc = FILE:$D/kdc.log
EOF
cat >"$D/krb5.conf" <<EOF
[libdefaults]
 default_realm = LAB.TEST
 dns_lookup_kdc = false
[realms]
 LAB.TEST = {
  kdc = tcp/127.0.0.1:$KDC_PORT
 }
EOF
: >"$D/kadm5.acl"
export KRB5_CONFIG=$D/krb5.conf KRB5_KDC_PROFILE=$D/kdc.conf
kdb5_util create -s -r LAB.TEST -P masterpw >/dev/null 2>&1
kadmin.local -r LAB.TEST -q "addprinc -pw nopreauthpw nopreauth" >/dev/null 2>&1
krb5kdc -n -r LAB.TEST &
PIDS+=($!)

"$K" serve relay --listen 127.0.0.1:$RELAY_PORT --realm LAB.TEST=tcp://127.0.0.1:$KDC_PORT \
    --self-signed "$D/pki" --workers "$RELAY_WORKERS" --audit "$D/audit.jsonl" 2>"$D/relay.log" &
PIDS+=($!)

printf '[global]\nuse_dns = false\n\n[LAB.TEST]\nkerberos = kerberos+tcp://127.0.0.1:%s\n' "$KDC_PORT" >"$D/kdcproxy.conf"
for _ in $(seq 100); do [ -f "$D/pki/server.pem" ] && break; sleep 0.1; done
KDCPROXY_CONFIG=$D/kdcproxy.conf /usr/bin/python3 -m gunicorn \
    --bind 127.0.0.1:$KP_PORT --workers "$GUNICORN_WORKERS" --threads "$GUNICORN_THREADS" \
    --worker-class gthread --keep-alive 30 --log-level warning \
    --certfile "$D/pki/server.pem" --keyfile "$D/pki/server.key" \
    kdcproxy:application 2>"$D/gunicorn.log" &
PIDS+=($!)

for port in $KDC_PORT $RELAY_PORT $KP_PORT; do
    for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
done

load() { # target concurrency [extra args]
    local target=$1 c=$2; shift 2
    "$K" load --target "$target" --realm LAB.TEST --user nopreauth --password nopreauthpw \
        --concurrency "$c" --threads "$(( c < LOAD_THREADS ? c : LOAD_THREADS ))" \
        --duration "${SECONDS_PER_RUN}s" --timeout 10s --json "$@"
}

# Each cell runs REPEAT times, interleaved (direct, kerbside, kdcproxy,
# direct, ...) so a burst of load from elsewhere on the machine hits all
# three alike; the table shows the median run (by AS-REP/s) of each cell.
REPEAT=${REPEAT:-3}
RESULTS=$D/results.jsonl
: >"$RESULTS"
for c in $CLIENTS; do
    for r in $(seq "$REPEAT"); do
        for t in direct kerbside kdcproxy; do
            case $t in
                direct) out=$(load tcp://127.0.0.1:$KDC_PORT "$c");;
                kerbside) out=$(load https://127.0.0.1:$RELAY_PORT/KdcProxy "$c" --ca "$D/pki/ca.pem" "$LOAD_MODE");;
                kdcproxy) out=$(load https://127.0.0.1:$KP_PORT/KdcProxy "$c" --ca "$D/pki/ca.pem" "$LOAD_MODE");;
            esac
            printf '{"t":"%s","c":%s,"load":"%s","r":%s}\n' "$t" "$c" "$(cut -d' ' -f1 /proc/loadavg)" "$out" >>"$RESULTS"
        done
    done
done
/usr/bin/python3 - "$RESULTS" "$REPEAT" "$LOAD_MODE" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = {"direct": "MIT krb5kdc direct (TCP)", "kerbside": "kerbside relay (HTTPS)", "kdcproxy": "kdcproxy (HTTPS)"}
print(f"median of {sys.argv[2]} interleaved runs per cell ({sys.argv[3]})")
print("| target | clients | AS-REP/s | p50 ms | p90 ms | p99 ms | errors | all runs AS-REP/s |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
med = {}
for c in sorted({r["c"] for r in rows}):
    for t in ["direct", "kerbside", "kdcproxy"]:
        runs = sorted((r for r in rows if r["c"] == c and r["t"] == t), key=lambda r: r["r"]["as_rep_per_s"])
        m = runs[len(runs) // 2]["r"]
        errs = sum(sum(x["r"]["krb_errors"].values()) + sum(x["r"]["transport_errors"].values())
                   + x["r"]["timeouts"] + x["r"]["bad_replies"] for x in runs)
        l = m["latency_us"]
        med[t, c] = m
        allr = ", ".join(f'{x["r"]["as_rep_per_s"]:.0f}' for x in runs)
        print(f'| {names[t]} | {c} | {m["as_rep_per_s"]:.0f} | {l["p50"]/1000:.3f} | {l["p90"]/1000:.3f} | {l["p99"]/1000:.3f} | {errs} | {allr} |')
print()
for c in sorted({r["c"] for r in rows}):
    d, k, p = med["direct", c], med["kerbside", c], med["kdcproxy", c]
    print(f'clients={c}: kerbside/kdcproxy throughput {k["as_rep_per_s"]/p["as_rep_per_s"]:.1f}x; '
          f'p50 added over direct KDC: kerbside {(k["latency_us"]["p50"]-d["latency_us"]["p50"])/1000:+.3f} ms, '
          f'kdcproxy {(p["latency_us"]["p50"]-d["latency_us"]["p50"])/1000:+.3f} ms')
loads = [float(r["load"]) for r in rows]
print(f"(1-min load average during the runs: {min(loads):.1f} to {max(loads):.1f})")
PY
echo "(relay audit lines written: $(wc -l <"$D/audit.jsonl"))"
