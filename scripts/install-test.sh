#!/usr/bin/env bash
# The install test: build the .deb (and .rpm), install the .deb with dpkg as a clinic's IT
# would, analyse the sample with what the package carries (the bundled `pano` command, then
# the installed app in a real window under Xvfb, approved through the UI), then purge it and
# check that nothing of it is left on the machine.
#
#   scripts/install-test.sh               build the installers, then test them
#   scripts/install-test.sh --no-build    test the installers already in target/release/bundle
#
# Needs root (or sudo) for dpkg. Refuses to run where Pano is already installed, since the
# test removes the package at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '[install-test] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

build=1
[ "${1:-}" = "--no-build" ] && build=0
PACKAGE=pano

if dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q "install ok installed"; then
  fail "the $PACKAGE package is already installed here; this test would remove it (dpkg -P $PACKAGE first)"
fi

scripts/setup.sh
version=$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="pano-desktop"))')
if [ $build = 1 ]; then
  start=$(date +%s)
  scripts/bundle.sh --bundles deb,rpm
  log "installers built in $(( $(date +%s) - start )) s"
fi
deb=target/release/bundle/deb/Pano_${version}_amd64.deb
rpm=target/release/bundle/rpm/Pano-${version}-1.x86_64.rpm
[ -f "$deb" ] || fail "$deb is missing (run without --no-build)"
[ -f "$rpm" ] || fail "$rpm is missing (run without --no-build)"
log "sizes: $(du -h "$deb" | cut -f1) deb, $(du -h "$rpm" | cut -f1) rpm"

# Scratch space, and the package removed again whatever fails from here on.
work=$(mktemp -d)
cleanup() {
  if dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q "installed"; then
    as_root dpkg -P "$PACKAGE" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# What the package must carry, checked in both formats before anything is installed.
expected=(/usr/bin/pano-desktop /usr/bin/pano /usr/share/applications/Pano.desktop
  /usr/lib/Pano/models/manifest.json /usr/lib/Pano/models/deeplab.onnx /usr/lib/Pano/models/yolo.onnx
  /usr/share/icons/hicolor/128x128/apps/pano-desktop.png)
deb_files=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed -E 's|^\.?/?|/|')
rpm_files=$(rpm -qlp "$rpm" 2>/dev/null)
for f in "${expected[@]}"; do
  grep -qx "$f" <<<"$deb_files" || fail "the .deb lacks $f"
  grep -qx "$f" <<<"$rpm_files" || fail "the .rpm lacks $f"
done
grep -q '^/usr/lib/Pano/onnxruntime/libonnxruntime.so' <<<"$deb_files" || fail "the .deb lacks ONNX Runtime"
grep -q '^/usr/lib/Pano/onnxruntime/libonnxruntime.so' <<<"$rpm_files" || fail "the .rpm lacks ONNX Runtime"
dpkg-deb -f "$deb" Version | grep -qx "$version" || fail "the .deb's version is not $version"
# The menu entry: valid, and offered for radiographs ("Open with Pano" passes the files).
dpkg-deb -x "$deb" "$work/deb"
desktop_file="$work/deb/usr/share/applications/Pano.desktop"
desktop-file-validate "$desktop_file" || fail "the desktop entry is not valid"
grep -qx 'Exec=pano-desktop %F' "$desktop_file" || fail "the desktop entry does not pass files: $(grep Exec "$desktop_file")"
grep -q '^MimeType=.*application/dicom' "$desktop_file" || fail "the desktop entry is not offered for DICOM files"
log "package contents: ok ($(wc -l <<<"$deb_files") entries)"

# Install.
as_root dpkg -i "$deb" >/dev/null
dpkg-query -W -f='${Status}' "$PACKAGE" | grep -q "install ok installed" || fail "dpkg did not install $PACKAGE"
installed_files=$(dpkg -L "$PACKAGE" | while IFS= read -r p; do if [ -f "$p" ]; then echo "$p"; fi; done)
log "installed $(dpkg-query -W -f='${Package} ${Version}' "$PACKAGE")"

# A clinic user's environment: an empty home, no development variables pointing into the
# repository, so only what the package installed can be found.
user_env=(env -i PATH=/usr/bin:/bin HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config"
  XDG_DATA_HOME="$work/home/.local/share" XDG_CACHE_HOME="$work/home/.cache" LANG=C.UTF-8)
mkdir -p "$work/home"

# 1. The bundled command, with the bundled models and ONNX Runtime.
"${user_env[@]}" pano analyze "$ROOT/tests/data/pan-01432.jpg" --out "$work/out" --json >"$work/cli.json" \
  || fail "the installed pano command failed: $(cat "$work/cli.json")"
csv="$work/out/pan-01432.csv"
[ "$(head -1 "$csv")" = "file_name,fdi,finding,score" ] || fail "bad CSV header in $csv"
[ "$(wc -l <"$csv")" = 257 ] || fail "$csv has $(wc -l <"$csv") lines, not 257"
grep -q '"test_model": *true' "$work/out/pan-01432.analysis.json" || fail "the side file does not say test models"
[ -f "$work/home/.local/share/pano/pano.sqlite" ] || fail "the CLI kept no SQLite file in the user's data folder"
[ ! -e "$work/home/.cache/Microsoft" ] || fail "ONNX Runtime left telemetry in the user's home: $(find "$work/home/.cache/Microsoft")"
log "installed pano command: 256 findings, labelled as test-model results"

# 2. The installed app in a real window, through the UI (the end-to-end test, pointed at the
#    installed binary: it checks that the app uses /usr/lib/Pano's models and runtime).
if ! PANO_E2E_APP=/usr/bin/pano-desktop scripts/with-keyring.sh \
  cargo test --locked -p pano-desktop --test e2e -- --nocapture >"$work/e2e.log" 2>&1; then
  tail -n 40 "$work/e2e.log" >&2
  fail "the installed app's end-to-end test failed"
fi
grep -E "launch to a usable window|^test result" "$work/e2e.log" >&2 || true
log "installed app: analysed and approved through the UI"

# 3. Uninstall: every file the package installed is gone, and so are its folders.
as_root dpkg -P "$PACKAGE" >/dev/null
! dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q "installed" || fail "$PACKAGE is still installed"
left=()
while IFS= read -r path; do
  if [ -e "$path" ]; then left+=("$path"); fi
done <<<"$installed_files"
[ ${#left[@]} = 0 ] || fail "left behind after purge: ${left[*]}"
[ ! -e /usr/lib/Pano ] || fail "/usr/lib/Pano is still there: $(find /usr/lib/Pano | head)"
log "purged: nothing of the package is left (the user's data in \$HOME stays, as documented)"
log "PASS"
