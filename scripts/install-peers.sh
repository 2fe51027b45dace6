#!/usr/bin/env bash
# Installs the real, independent peers kerbside's interop tests run against:
# MIT krb5 (KDC, client tools, k5tls for https:// KDCs, gss-sample programs),
# FreeIPA kdcproxy under gunicorn, tshark (pcap dissector check) and Chromium
# (HTML report screenshot test) with a font for it (a minimal image has none,
# and --no-install-recommends leaves out chromium's fonts-liberation).
# Idempotent; needs root (or sudo).
set -euo pipefail

pkgs=(krb5-kdc krb5-admin-server krb5-user krb5-k5tls krb5-gss-samples
      python3-kdcproxy gunicorn tshark chromium fonts-dejavu-core)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-peers: all peers present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-peers: not root and no sudo; missing: ${missing[*]} (interop tests will skip)" >&2
        exit 0
    fi
fi

echo "install-peers: installing ${missing[*]}"
# Pre-seed debconf or the krb5 and wireshark packages stop to ask questions.
$SUDO debconf-set-selections <<'SEL'
krb5-config krb5-config/default_realm string LAB.TEST
krb5-config krb5-config/add_servers_realm string LAB.TEST
krb5-config krb5-config/add_servers boolean false
krb5-config krb5-config/read_conf boolean true
wireshark-common wireshark-common/install-setuid boolean false
SEL
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages' post-install may start the system KDC on the default ports;
# tests never use it (each test runs its own realm on a private port).
for svc in krb5-kdc krb5-admin-server; do
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
echo "install-peers: done"
