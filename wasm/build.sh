#!/usr/bin/env bash
# Builds the Pennon WebAssembly module for the npm package:
#   cargo (profile wasm-release) -> wasm-bindgen --target web -> wasm-opt -Oz
# and writes the glue and the module (pennon.wasm) to bindings/src/wasm/, where the
# package build (bindings/scripts/build.mjs) picks them up.
# Installs what it lacks: the pinned nightly toolchain with `rust-src`, and the
# wasm-bindgen CLI at the version the crate pins (only when `wasm-bindgen --version`
# differs). wasm-opt comes from the `binaryen` npm package in bindings/ (run `npm ci`
# there first) or from PATH.
set -euo pipefail

# Must equal the `wasm-bindgen = "=x.y.z"` pin in wasm/Cargo.toml (checked below).
WASM_BINDGEN_VERSION=0.2.130
# Only this module is built with nightly: the standard library is rebuilt for size
# (`optimize_for_size`) and a panic aborts at once, without the formatting machinery.
# 17.9 KB less gzipped than stable's prebuilt std, at the same speed (bindings/PERFORMANCE.md,
# "Module size"). Everything else, `pennon-core` for wasm32 included, builds on stable.
NIGHTLY=nightly-2026-05-19

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pin="$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' wasm/Cargo.toml)"
if [[ "$pin" != "$WASM_BINDGEN_VERSION" ]]; then
  echo "wasm/build.sh pins wasm-bindgen $WASM_BINDGEN_VERSION but wasm/Cargo.toml pins '$pin'" >&2
  exit 1
fi

if ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src --no-self-update
fi
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
  echo "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes a few minutes)"
  # No --locked: the registry's lock file pins a webpki-roots that no longer builds.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
wasm_opt="$root/bindings/node_modules/.bin/wasm-opt"
[[ -x "$wasm_opt" ]] || wasm_opt="$(command -v wasm-opt || true)"
if [[ -z "$wasm_opt" ]]; then
  echo "wasm-opt not found: run 'npm ci' in bindings/ (binaryen) or install Debian's binaryen" >&2
  exit 1
fi

# The module's standard library is $NIGHTLY's, the native crates' the default
# toolchain's. `str::to_lowercase`, the SPEC's case-insensitive rule (5.4), follows each
# one's Unicode tables: of two Unicode versions, a case-insensitive condition could hold
# natively and not in the module. Both must be of one version.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
unicode_version() {
  echo 'fn main() { let (a, b, c) = char::UNICODE_VERSION; println!("{a}.{b}.{c}") }' |
    rustc "$@" --edition 2021 -o "$scratch/unicode" - && "$scratch/unicode"
}
native_unicode="$(unicode_version)"
module_unicode="$(unicode_version "+$NIGHTLY")"
if [[ "$native_unicode" != "$module_unicode" ]]; then
  echo "wasm/build.sh: $NIGHTLY has Unicode $module_unicode tables but $(rustc --version) has $native_unicode:" >&2
  echo "  case-insensitive conditions would differ between the module and native code; pin NIGHTLY to a" >&2
  echo "  nightly with Unicode $native_unicode" >&2
  exit 1
fi

# A panic aborts where it happens, with no message (no input panics); its source
# locations are not kept either (`-Zlocation-detail=none`: 0.5 KB gzipped).
RUSTFLAGS="-Cpanic=immediate-abort -Zunstable-options -Zlocation-detail=none" cargo "+$NIGHTLY" build -p pennon-wasm \
  --target wasm32-unknown-unknown --profile wasm-release ${CARGO_JOBS:+-j "$CARGO_JOBS"} \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
raw="${CARGO_TARGET_DIR:-$root/target}/wasm32-unknown-unknown/wasm-release/pennon_wasm.wasm"
out="$root/target/wasm-bindgen"
rm -rf "$out"
wasm-bindgen "$raw" --out-dir "$out" --out-name pennon_wasm --target web --omit-default-module-path
mkdir -p bindings/src/wasm
# Exactly the features rustc emits for wasm32: `--all-features` would let wasm-opt
# introduce newer ones (stringref) that Node 20 and older browsers reject. The
# `producers` and `target_features` sections only describe the build: no runtime
# reads them. After the first -Oz, flattening and re-running the relooper over the
# flat code, then -Oz to a fixed point, takes 0.7 KB more off the gzipped module (10 s
# more of build) with every benchmark row within noise. Other flags were measured and
# did not pay (bindings/PERFORMANCE.md).
"$wasm_opt" -Oz --flatten --rereloop -Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  --strip-producers --strip-target-features \
  "$out/pennon_wasm_bg.wasm" -o bindings/src/wasm/pennon.wasm
# The glue as a factory of fresh copies, so a trapped instance can be replaced.
node bindings/scripts/glue-factory.mjs "$out" bindings/src/wasm

bytes=$(wc -c < bindings/src/wasm/pennon.wasm)
gz=$(gzip -9 -c bindings/src/wasm/pennon.wasm | wc -c)
echo "pennon.wasm: $bytes bytes raw, $gz bytes gzipped (gzip -9); goal <= 81920 gzipped"
