#!/usr/bin/env bash
# Runs every check and test; installs what they need first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never

step() { printf '\n=== %s\n' "$*" >&2; }

step "set-up"
scripts/setup.sh

step "format (cargo fmt --check)"
cargo fmt --all --check

step "UI: type check, lint, unit tests, build"
(cd ui && npm run --silent check && npm run --silent test && npm run --silent build)

step "UI flows: Playwright in Debian's Chromium against the built UI, IPC scripted"
(cd ui && npm run --silent e2e)

step "lint (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The GPU execution providers must keep building even where no GPU is.
cargo clippy -p pano-engine --all-targets --locked --features cuda -- -D warnings

step "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
scripts/with-keyring.sh cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\ncargo: %d passed, %d failed\n", p, f }' "$log"
