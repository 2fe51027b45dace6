#!/usr/bin/env bash
# The project's test command (the README's, and what CI runs): installs the
# real peers when it can, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh
cargo test --workspace --all-targets "$@"
