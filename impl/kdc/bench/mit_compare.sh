#!/bin/sh
# Back-to-back AS-REP throughput: MIT krb5kdc vs `kerbside serve kdc`, same
# principals (the LAB.TEST passwords), same enctype, same load tool
# (`kerbside load`, closed loop, fresh nonce per request), loopback.
#
#   impl/kdc/bench/mit_compare.sh [DURATION] [CONCURRENCY] [KERBSIDE_WORKERS...]
#
# LOAD_THREADS (default 2) spreads the load generator's clients over that
# many threads: one thread of `kerbside load` saturates before either KDC
# does. The server's CPU per AS-REP (from /proc) is printed too: on a
# shared machine it is steadier than requests/s.
#
# MIT_NO_LOCKOUT=1: see below. Needs the MIT KDC (krb5-kdc,
# krb5-admin-server) and a release build:
#   cargo build --release -p kerbside
set -eu
DURATION=${1:-10s}
CONC=${2:-8}
shift 2 2>/dev/null || shift $# 2>/dev/null || true
WORKERS=${*:-1 2}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${KERBSIDE_BIN:-$ROOT/target/release/kerbside}
D=$(mktemp -d /tmp/kerbside-mitcmp.XXXXXX)
MITPORT=${MITPORT:-28801}
OURPORT=${OURPORT:-28802}
ET=aes256-cts-hmac-sha1-96
trap 'kill $(cat $D/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf $D' EXIT INT TERM

cat >"$D/kdc.conf" <<CONF
[kdcdefaults]
 kdc_ports = $MITPORT
 kdc_tcp_ports = $MITPORT
[realms]
 LAB.TEST = {
  database_name = $D/principal
  key_stash_file = $D/stash
  acl_file = $D/kadm5.acl
  max_life = 10h 0m 0s
  max_renewable_life = 7d 0h 0m 0s
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal
 }
[logging]
 kdc = FILE:$D/krb5kdc.log
CONF
# MIT records every pre-authenticated logon in its database (last_success,
# lockout counters): a synchronous DB write per AS-REP. MIT_NO_LOCKOUT=1
# turns that off to compare the protocol work alone.
if [ "${MIT_NO_LOCKOUT:-0}" = 1 ]; then
    printf '[dbmodules]\n LAB.TEST = {\n  disable_last_success = true\n  disable_lockout = true\n }\n' >>"$D/kdc.conf"
fi
printf '[libdefaults]\n default_realm = LAB.TEST\n[realms]\n LAB.TEST = {\n  kdc = 127.0.0.1:%s\n }\n' "$MITPORT" >"$D/krb5.conf"
export KRB5_CONFIG="$D/krb5.conf" KRB5_KDC_PROFILE="$D/kdc.conf"
kdb5_util create -s -r LAB.TEST -P masterpw >/dev/null
kadmin.local -q "addprinc -pw alicepw +requires_preauth alice" >/dev/null
kadmin.local -q "addprinc -pw nopreauthpw nopreauth" >/dev/null
kadmin.local -q "addprinc -pw apppw host/app.lab.test" >/dev/null
kadmin.local -q "cpw -pw krbtgtpw krbtgt/LAB.TEST" >/dev/null

cat >"$D/principals.toml" <<TOML
[[principal]]
name = "alice"
password = "alicepw"
requires_preauth = true
[[principal]]
name = "nopreauth"
password = "nopreauthpw"
[[principal]]
name = "host/app.lab.test"
password = "apppw"
[[principal]]
name = "krbtgt/LAB.TEST"
password = "krbtgtpw"
kvno = 2
TOML

load() { # target user password extra...
    t=$1; u=$2; p=$3; shift 3
    "$BIN" load --target "$t" --realm LAB.TEST --user "$u" --password "$p" --enctypes $ET \
        --concurrency "$CONC" --threads "${LOAD_THREADS:-2}" --duration "$DURATION" "$@"
}
# CPU seconds (user+system) a process has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
one() { # label pid target user password extra...
    label=$1; pid=$2; shift 2
    before=$(cpu "$pid")
    out=$(load "$@" | head -1)
    after=$(cpu "$pid")
    n=$(echo "$out" | sed -n 's/.*: \([0-9]*\) AS-REP.*/\1/p')
    echo "$label: $out"
    echo "    server CPU $(echo "$after - $before" | bc) s for $n AS-REP = $(echo "scale=1; ($after - $before) * 1000000 / ($n + 1)" | bc) us/AS-REP"
}
run_set() { # label port pid
    for proto in udp tcp; do
        one "$1 $proto nopreauth" "$3" $proto://127.0.0.1:$2 nopreauth nopreauthpw
        one "$1 $proto alice+preauth" "$3" $proto://127.0.0.1:$2 alice alicepw --preauth
    done
}

krb5kdc -n -P "$D/mit.pid" & echo $! >"$D/mitkdc.pid"
sleep 1
run_set "MIT krb5kdc (1 process)" "$MITPORT" "$(cat "$D/mitkdc.pid")"
kill "$(cat "$D/mitkdc.pid")"; rm -f "$D/mitkdc.pid"

for w in $WORKERS; do
    "$BIN" serve kdc --realm LAB.TEST --listen 127.0.0.1:$OURPORT --principals "$D/principals.toml" \
        --workers "$w" --quiet 2>/dev/null & echo $! >"$D/ours.pid"
    sleep 1
    run_set "kerbside ($w worker(s), --quiet)" "$OURPORT" "$(cat "$D/ours.pid")"
    kill "$(cat "$D/ours.pid")"; rm -f "$D/ours.pid"
    sleep 0.3
done
