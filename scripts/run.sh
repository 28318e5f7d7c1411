#!/usr/bin/env bash
# The main job. Without arguments: analyse the sample radiograph with the CLI and print the
# findings (CSV, side file and debug images go to results/). With --app: start the desktop
# app (needs a display).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if [ "${1:-}" = "--app" ]; then
  scripts/setup.sh
  (cd ui && npm run --silent build)
  cargo build --release --locked -p pano-desktop
  exec target/release/pano-desktop
fi

scripts/setup.sh --minimal
cargo build --release --locked -p pano-cli
exec target/release/pano analyze tests/data/pan-01432.jpg --out results --debug "$@"
