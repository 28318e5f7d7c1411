#!/usr/bin/env bash
# Builds this platform's installers with everything the app needs inside them: the desktop
# app, the `pano` command beside it, ONNX Runtime and the (test) models as resources.
#
#   scripts/bundle.sh                       .deb and .rpm here (Linux), release build
#   scripts/bundle.sh --bundles msi,nsis    any of tauri's bundle kinds for this OS
#   scripts/bundle.sh --target T            a cross target (universal-apple-darwin on macOS)
#   scripts/bundle.sh --features cuda       execution providers compiled in (cuda, directml,
#                                           coreml); pair with the matching ONNX Runtime
#   PANO_BUNDLE_ORT_DIR=DIR                 the folder holding this platform's ONNX Runtime
#                                           library (default: .cache/onnxruntime from setup)
#   PANO_BUNDLE_CONFIG=FILE                 an extra tauri config merged last (release
#                                           signing, updater artefacts)
#
# The installers land in target/<target>/release/bundle/ (or target/release/bundle/).
# Version, name and metadata come from the workspace Cargo.toml and src-tauri/tauri.conf.json;
# this script adds only what differs per build (src-tauri/tauri.bundle.conf.json).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

bundles=deb,rpm
target=
features=
while [ $# -gt 0 ]; do
  case "$1" in
    --bundles) bundles=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --features) features=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
log() { printf '[bundle] %s\n' "$*" >&2; }

if [ -z "${PANO_BUNDLE_ORT_DIR:-}" ]; then
  scripts/setup.sh --minimal
  PANO_BUNDLE_ORT_DIR=$ROOT/.cache/onnxruntime
fi
[ -d ui/node_modules ] || npm --prefix ui ci --no-audit --no-fund

# ONNX Runtime: the main library only (the CUDA/TensorRT provider libraries are added by the
# GPU variants' ORT folder, which holds them too; CUDA and cuDNN themselves are not shipped).
staging=src-tauri/bundle-resources/onnxruntime
rm -rf src-tauri/bundle-resources && mkdir -p "$staging"
shopt -s nullglob
libs=("$PANO_BUNDLE_ORT_DIR"/libonnxruntime*.so* "$PANO_BUNDLE_ORT_DIR"/libonnxruntime*.dylib \
  "$PANO_BUNDLE_ORT_DIR"/onnxruntime*.dll "$PANO_BUNDLE_ORT_DIR"/DirectML*.dll)
shopt -u nullglob
[ ${#libs[@]} -gt 0 ] || { log "no ONNX Runtime library in $PANO_BUNDLE_ORT_DIR"; exit 1; }
cp "${libs[@]}" "$staging/"
log "ONNX Runtime: $(cd "$staging" && ls | tr '\n' ' ')"

# The `pano` command travels as a Tauri "external binary": named after the target triple at
# build time, installed as plain `pano` beside the app.
host=$(rustc -vV | sed -n 's/^host: //p')
cargo_features=()
[ -n "$features" ] && cargo_features=(--features "$features")
mkdir -p src-tauri/binaries
exe=
case "$host" in *windows*) exe=.exe ;; esac
# The UI first: the app embeds ui/dist (tauri's own beforeBuildCommand is switched off in
# tauri.bundle.conf.json, so it is built once).
npm --prefix ui run --silent build
# Built together with the app, so that both see the same features of their shared
# dependencies and tauri's own build of the app below reuses everything compiled here.
both=(-p pano-cli -p pano-desktop)
if [ "$target" = universal-apple-darwin ]; then
  for t in aarch64-apple-darwin x86_64-apple-darwin; do
    cargo build --release --locked "${both[@]}" --target "$t" "${cargo_features[@]}"
  done
  lipo -create -output src-tauri/binaries/pano-universal-apple-darwin \
    target/aarch64-apple-darwin/release/pano target/x86_64-apple-darwin/release/pano
elif [ -n "$target" ]; then
  cargo build --release --locked "${both[@]}" --target "$target" "${cargo_features[@]}"
  cp "target/$target/release/pano$exe" "src-tauri/binaries/pano-$target$exe"
else
  cargo build --release --locked "${both[@]}" "${cargo_features[@]}"
  cp "target/release/pano$exe" "src-tauri/binaries/pano-$host$exe"
fi

args=(build --ci --bundles "$bundles" --config src-tauri/tauri.bundle.conf.json)
[ -n "${PANO_BUNDLE_CONFIG:-}" ] && args+=(--config "$PANO_BUNDLE_CONFIG")
[ -n "$target" ] && args+=(--target "$target")
[ -n "$features" ] && args+=(--features "$features")
start=$(date +%s)
ui/node_modules/.bin/tauri "${args[@]}" -- --locked
log "tauri build took $(( $(date +%s) - start )) s"
out=target/${target:+$target/}release/bundle
find "$out" -maxdepth 2 -type f \( -name '*.deb' -o -name '*.rpm' -o -name '*.AppImage' \
  -o -name '*.msi' -o -name '*.exe' -o -name '*.dmg' -o -name '*.sig' -o -name '*.tar.gz' \) \
  -exec ls -l {} + >&2
