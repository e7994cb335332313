#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run` calls this script).
# Installs what it needs when it is missing, and skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32-unknown-unknown target"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings

step "conformance vectors are reproducible from tests/vectors/generate.py"
python3 tests/vectors/generate.py >/dev/null
if [ -d .git ] && ! git diff --quiet -- tests/vectors; then
  git --no-pager diff --stat -- tests/vectors
  echo "tests/vectors is out of date with its generator: run python3 tests/vectors/generate.py and commit" >&2
  exit 1
fi

step "pennon-core builds for wasm32-unknown-unknown (pure: no I/O, clock or threads)"
cargo build -p pennon-core --release --target wasm32-unknown-unknown

step "tests: core (vectors, properties, verification, evaluation) and the pennon CLI"
cargo test 2>&1 | tee target/test-output.txt
passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' target/test-output.txt | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test-output.txt | awk '{s+=$1} END {print s+0}')

step "benchmarks compile (run them with: cargo bench -p pennon-core)"
cargo bench -p pennon-core --no-run

printf '\n%s passed, %s failed\n' "$passed" "$failed"
