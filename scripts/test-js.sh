#!/usr/bin/env bash
# The JavaScript side of Pennon's tests (the wasm module and the npm package). Installs what is missing (the
# pinned nightly that builds the .wasm, the pinned wasm-bindgen CLI, npm packages,
# Debian's chromium, Deno), builds the wasm module (printing its raw and gzipped size) and
# the npm package, then runs:
#   - native Rust: the shim's result writer on every vector (the identity reference);
#   - Node: the vectors through the built package, engine and provider tests;
#   - Chromium (playwright-core): the vectors through the web provider in a page;
#   - workerd (miniflare): the vectors through the server provider in a worker;
#   - Deno and Bun (from npm): the vectors through the engine and both providers;
#   - the consumer projects in bindings/packaging_tests/.
# Ends with one line: `N passed, M failed` (test cases; each vector test reports its
# individual checks as `#` diagnostics above it).
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
log="$(mktemp -d)"
trap 'rm -rf "$log"' EXIT

step() { printf '\n== %s\n' "$*"; }
fail_setup() { echo "test-js: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

step "npm packages"
if [[ ! -d bindings/node_modules || bindings/package-lock.json -nt bindings/node_modules/.package-lock.json ]]; then
  (cd bindings && npm ci --no-audit --no-fund) || fail_setup "npm ci failed"
else
  echo "bindings/node_modules is up to date"
fi

step "chromium"
if [[ ! -x /usr/bin/chromium ]]; then
  sudo=""
  [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null \
    || fail_setup "apt-get install chromium failed"
fi
/usr/bin/chromium --version 2>/dev/null | grep -i chromium

step "deno"
# The platform package of Deno's npm release, unpacked into target/tools/deno: the
# `deno` package itself cannot be a devDependency, since `npm ci` wants every
# platform's package in the lock file and the registry here has only Linux x64's.
DENO_VERSION=2.9.6
deno="$root/target/tools/deno/deno"
if [[ "$("$deno" --version 2>/dev/null | head -1)" != "deno $DENO_VERSION "* ]]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) platform=linux-x64-glibc ;;
    Linux-aarch64) platform=linux-arm64-glibc ;;
    Darwin-arm64) platform=darwin-arm64 ;;
    Darwin-x86_64) platform=darwin-x64 ;;
    *) fail_setup "no Deno package for $(uname -s)-$(uname -m)" ;;
  esac
  rm -rf "$(dirname "$deno")" && mkdir -p "$(dirname "$deno")"
  (cd "$(dirname "$deno")" && npm pack --silent "@deno/$platform@$DENO_VERSION" >/dev/null &&
    tar -xzf deno-*.tgz --strip-components=1 package/deno && rm deno-*.tgz) || fail_setup "installing Deno $DENO_VERSION failed"
fi
"$deno" --version | head -1

step "wasm module"
wasm/build.sh || fail_setup "wasm/build.sh failed"

step "npm package"
(cd bindings && node scripts/build.mjs) || fail_setup "the package build failed"

step "control plane binary (the web provider polls it from Chromium)"
cargo build --bin pennon || fail_setup "cargo build --bin pennon failed"
export PENNON_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/pennon"

passed=0
failed=0

step "native Rust: identity reference (cargo test -p pennon-wasm --test identity)"
cargo test -p pennon-wasm --test identity -- --nocapture 2>&1 | tee "$log/native.txt" | grep -E "^test |native:|test result"
read -r p f < <(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$log/native.txt" | tail -1)
if [[ -z "${p:-}" ]]; then p=0; f=1; fi
passed=$((passed + p))
failed=$((failed + f))

step "Node, Chromium, workerd, Vercel Edge, Deno, Bun and packaging tests (node --test)"
(
  cd bindings
  node --test --test-concurrency=1 --test-reporter=tap \
    test/node/*.test.mjs test/browser.test.mjs test/workerd.test.mjs test/workerd-sync.test.mjs test/vercel-edge.test.mjs \
    test/runtimes.test.mjs test/packaging.test.mjs
) > "$log/js.tap" 2>&1
grep -E "^(not )?ok |^# (Subtest|identity|engine|server|web|bucketing|envelopes|chromium|deno|bun)" "$log/js.tap" \
  | grep -v "^# Subtest"
if grep -q "^not ok" "$log/js.tap"; then
  echo "--- failures ---"
  grep -A40 "^not ok" "$log/js.tap" | head -200
fi
p="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log/js.tap" | tail -1)"
f="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log/js.tap" | tail -1)"
if [[ -z "$p" ]]; then
  tail -40 "$log/js.tap"
  p=0
  f=1
fi
passed=$((passed + p))
failed=$((failed + ${f:-0}))

echo
echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
