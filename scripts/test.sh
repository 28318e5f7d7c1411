#!/usr/bin/env bash
# Runs every check and test, the install test of the .deb last; installs what they need
# first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
# Test processes load ONNX Runtime without going through a `main` that opts out of its
# telemetry (pano_engine::opt_out_of_runtime_telemetry); the binaries under test do it
# themselves, and one test checks that they do.
export ORT_DISABLE_TELEMETRY=1 ORT_TELEMETRY_DISABLED=1

step() { printf '\n=== %s\n' "$*" >&2; }

step "set-up"
scripts/setup.sh

step "format (cargo fmt --check)"
cargo fmt --all --check

step "icons: icons/ is what icons/app-icon.png gives"
scripts/icons.sh --check

step "UI: type check, lint, unit tests, build"
(cd ui && npm run --silent check && npm run --silent test && npm run --silent build)

step "UI flows: Playwright in Debian's Chromium against the built UI, IPC scripted"
(cd ui && npm run --silent e2e)

step "lint (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The GPU execution providers must keep building even where no GPU is.
cargo clippy -p pano-engine -p pano-cli --all-targets --locked --features cuda -- -D warnings

step "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
scripts/with-keyring.sh cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\ncargo: %d passed, %d failed\n", p, f }' "$log"

step "installers: build the .deb and .rpm, install the .deb, analyse with it, purge it"
scripts/install-test.sh
