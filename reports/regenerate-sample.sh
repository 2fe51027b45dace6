#!/usr/bin/env bash
# Regenerates the committed sample report, reports/sample/: a real
# `kerbside run` of the default tier, release build, SEEDS seeds per scenario
# (default 2: results.json grows by about 1 MB per seed of the suite).
#
#   reports/regenerate-sample.sh            # from anywhere in the repository
#   SEEDS=5 reports/regenerate-sample.sh
#
# The previous sample is kept aside while the suite runs straight into
# reports/sample/ (so the report shows the command as a user would type it)
# and is put back unless every scenario-seed passed (a sample that shows a
# failure is a bug to fix, not a sample to commit); failures/ is removed
# when empty. Wall times differ from run to run; everything else (paths,
# latencies, trace hashes) is the same for the same code and seeds.
set -euo pipefail

cd "$(dirname "$0")/.."
seeds="${SEEDS:-2}"

cargo build --release --bin kerbside

old="reports/sample.previous"
rm -rf "$old"
if [ -d reports/sample ]; then mv reports/sample "$old"; fi
status=0
cargo run -q --release --bin kerbside -- run --seeds "$seeds" --out reports/sample || status=$?
if [ "$status" -ne 0 ]; then
    kept="$(mktemp -d)/report"
    if [ -d reports/sample ]; then mv reports/sample "$kept"; fi
    if [ -d "$old" ]; then mv "$old" reports/sample; fi
    echo "regenerate-sample: the suite did not pass (exit $status); its report is in $kept, reports/sample/ unchanged" >&2
    exit "$status"
fi
rm -rf "$old"
if [ -d reports/sample/failures ] && [ -z "$(ls -A reports/sample/failures)" ]; then
    rmdir reports/sample/failures
fi
echo "regenerate-sample: wrote reports/sample/:"
ls -l reports/sample
