#!/usr/bin/env bash
# Installs everything builds and tests need. Idempotent: a second run only checks.
#   scripts/setup.sh            everything
#   scripts/setup.sh --minimal  only what the CLI needs (ONNX Runtime)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ORT_VERSION=1.32.0
CACHE="$ROOT/.cache"
minimal=0
[ "${1:-}" = "--minimal" ] && minimal=1

log() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

MINIMAL_APT_PACKAGES=(python3 python3-pip unzip)
APT_PACKAGES=(build-essential pkg-config python3 python3-pip python3-venv unzip
  libwebkit2gtk-4.1-dev libssl-dev xvfb xauth xdotool imagemagick webkit2gtk-driver chromium
  gnome-keyring dbus libsecret-tools keyutils rpm desktop-file-utils nodejs npm
  poppler-utils orthanc orthanc-dicomweb dcmtk dicom3tools)

install_apt() {
  local missing=() wanted=("$@")
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node and npm may come from elsewhere than Debian (the machine's own Node.js).
  if command -v node >/dev/null && command -v npm >/dev/null; then
    local kept=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || kept+=("$p"); done
    missing=("${kept[@]}")
  fi
  if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
    local kept=(); for p in "${missing[@]}"; do [[ "$p" == python3 || "$p" == python3-pip ]] || kept+=("$p"); done
    missing=("${kept[@]}")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "apt: all packages present"
  fi
}

# ONNX Runtime's shared library, taken from the PyPI wheel (Debian has no package, and
# ort's own download reaches a CDN that is not a package registry).
install_onnxruntime() {
  local dir="$CACHE/onnxruntime"
  local lib="$dir/libonnxruntime.so.$ORT_VERSION"
  if [ -f "$lib" ]; then log "onnxruntime $ORT_VERSION: present"; return; fi
  log "onnxruntime $ORT_VERSION: fetching the PyPI wheel"
  scripts/fetch-onnxruntime.sh linux-x64 "$dir" >/dev/null
  [ -f "$lib" ] || { log "the wheel did not contain $lib"; exit 1; }
}

# The real peers the cloud tests talk to: an S3-compatible server (s3s-fs, from crates.io)
# and RunPod's own Python SDK, whose local API server stands in for RunPod.
S3S_FS_VERSION=0.14.1
RUNPOD_VERSION=1.12.0
TAURI_DRIVER_VERSION=2.1.0
install_cloud_peers() {
  local peers="$CACHE/peers"
  if [ -x "$peers/bin/s3s-fs" ]; then
    log "s3s-fs $S3S_FS_VERSION: present"
  else
    log "s3s-fs $S3S_FS_VERSION: cargo install (a few minutes, once)"
    cargo install --quiet --locked "s3s-fs@$S3S_FS_VERSION" --features binary --root "$peers"
  fi
  # The desktop end-to-end test drives the built app through WebDriver: tauri-driver in
  # front of Debian's WebKitWebDriver (webkit2gtk-driver).
  if [ -x "$peers/bin/tauri-driver" ]; then
    log "tauri-driver $TAURI_DRIVER_VERSION: present"
  else
    log "tauri-driver $TAURI_DRIVER_VERSION: cargo install (under a minute, once)"
    cargo install --quiet --locked "tauri-driver@$TAURI_DRIVER_VERSION" --root "$peers"
  fi
  if [ -x "$peers/runpod/bin/python" ] && "$peers/runpod/bin/python" -c "import runpod" 2>/dev/null; then
    log "runpod SDK $RUNPOD_VERSION: present"
  else
    log "runpod SDK $RUNPOD_VERSION: pip install into $peers/runpod"
    python3 -m venv "$peers/runpod"
    "$peers/runpod/bin/pip" install --quiet --disable-pip-version-check "runpod==$RUNPOD_VERSION"
  fi
}

install_ui() {
  if [ -f ui/package-lock.json ] && [ ui/node_modules/.package-lock.json -nt ui/package-lock.json ]; then
    log "npm (ui/): up to date"
  else
    log "npm (ui/): npm ci"
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

if [ $minimal = 0 ]; then install_apt "${APT_PACKAGES[@]}"; else install_apt "${MINIMAL_APT_PACKAGES[@]}"; fi
install_onnxruntime
if [ $minimal = 0 ] && [ -d ui ] && [ -f ui/package.json ]; then install_ui; fi
if [ $minimal = 0 ]; then install_cloud_peers; fi
log "done"
