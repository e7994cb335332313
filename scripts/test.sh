#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run` calls this script).
# Installs what it needs when it is missing (wasm target, the pinned nightly that builds
# the .wasm, wasm-bindgen CLI, npm packages, Chromium, PostgreSQL), and skips what is
# already there.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
mkdir -p target

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

if [ -x scripts/postgres.sh ]; then
  step "PostgreSQL for the control-plane suite"
  PENNON_TEST_DATABASE_URL="$(scripts/postgres.sh start)"
  export PENNON_TEST_DATABASE_URL
  trap 'scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
fi

step "Rust tests: core (vectors, properties, verification), CLI, provider, wasm shim, control plane"
cargo test 2>&1 | tee target/test-output.txt
rust_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' target/test-output.txt | awk '{s+=$4} END {print s+0}')

js_passed=0
if [ -x scripts/test-js.sh ]; then
  step "JavaScript: the same vectors in Node, Chromium and workerd; providers; packaging"
  scripts/test-js.sh 2>&1 | tee target/test-js-output.txt
  js_passed=$(tail -n 1 target/test-js-output.txt | awk '{print $1+0}')
fi

step "benchmarks compile (run them with: cargo bench -p pennon-core; cargo bench -p pennon-bench)"
cargo bench -p pennon-core --no-run

printf '\n%s passed, 0 failed\n' "$((rust_passed + js_passed))"
