#!/usr/bin/env bash
# The app's icons, every size and format, from one source image: icons/app-icon.png.
#   scripts/icons.sh          regenerate icons/ after changing the source
#   scripts/icons.sh --check  fail if icons/ is not what the source gives (test.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d ui/node_modules ] || npm --prefix ui ci --no-audit --no-fund
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ui/node_modules/.bin/tauri icon icons/app-icon.png -o "$out" >/dev/null 2>&1
# Desktop installers only: the mobile sets are not shipped.
rm -rf "$out/android" "$out/ios"
if [ "${1:-}" = "--check" ]; then
  stale=()
  for f in "$out"/*; do
    name=$(basename "$f")
    # .icns embeds a creation order that differs run to run; its PNG sizes are checked above.
    [ "$name" = icon.icns ] && { [ -s "icons/$name" ] || stale+=("$name"); continue; }
    cmp -s "$f" "icons/$name" || stale+=("$name")
  done
  [ ${#stale[@]} = 0 ] || { echo "icons/ is stale (${stale[*]}): run scripts/icons.sh" >&2; exit 1; }
  echo "icons: $(ls "$out" | wc -l) files match icons/app-icon.png"
else
  cp "$out"/* icons/
  echo "icons/ regenerated from icons/app-icon.png"
fi
