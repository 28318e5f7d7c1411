#!/usr/bin/env bash
# Builds the anchor's own stack (stmharry/dental-pano-ai's pinned environment) in a venv, for
# the parity and speed scripts. Not part of CI: torch alone is gigabytes.
#
#   models/anchor/anchor-env.sh --detectron2-src PATH [--venv DIR]
#
# PATH is a clone of github.com/facebookresearch/detectron2 that holds the pinned commit (the
# anchor's poetry.lock names detectron2 "0.6+2a420edpt2.6.0cpu"). detectron2 is built from
# that commit for the CPU (a git worktree, so the clone is left as it is). The venv defaults
# to .cache/anchor-venv. Idempotent: a second run checks and stops.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DETECTRON2_COMMIT=2a420edb307c9bdf640f036d3b196bed474b8593
VENV="$ROOT/.cache/anchor-venv"
SRC=""
while [ $# -gt 0 ]; do
  case "$1" in
    --detectron2-src) [ $# -ge 2 ] || exit 2; SRC=$(cd "$2" && pwd); shift 2 ;;
    --venv) [ $# -ge 2 ] || exit 2; mkdir -p "$2"; VENV=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: $0 --detectron2-src PATH [--venv DIR]" >&2; exit 2 ;;
  esac
done
log() { printf '[anchor-env] %s\n' "$*" >&2; }
cd "$ROOT"

PY=python3.11
command -v $PY >/dev/null || { log "needs Python 3.11 (the anchor's pyproject says ^3.11)"; exit 1; }
[ -x "$VENV/bin/python" ] || { log "venv: $VENV"; $PY -m venv "$VENV"; }
PIP=("$VENV/bin/python" -m pip)
# pip checks the pins itself and only installs what differs (a few GB the first time).
log "pip: the lock's pins (models/anchor/requirements.txt)"
"${PIP[@]}" install -q -r models/anchor/requirements.txt

if "$VENV/bin/python" -c "import detectron2, detectron2._C" 2>/dev/null; then
  log "detectron2: present ($("$VENV/bin/python" -c 'import detectron2; print(detectron2.__version__)'))"
else
  [ -n "$SRC" ] || { log "detectron2 is missing: pass --detectron2-src PATH (a clone of facebookresearch/detectron2)"; exit 2; }
  git -C "$SRC" cat-file -e "$DETECTRON2_COMMIT^{commit}" 2>/dev/null \
    || { log "$SRC does not hold detectron2 commit $DETECTRON2_COMMIT"; exit 2; }
  build="$ROOT/.cache/detectron2-$DETECTRON2_COMMIT"
  if [ ! -d "$build" ]; then
    # Unpacked beside, then moved: an interrupted unpack is never taken for a finished one.
    rm -rf "$build.partial" && mkdir -p "$build.partial"
    git -C "$SRC" archive "$DETECTRON2_COMMIT" | tar -x -C "$build.partial"
    mv "$build.partial" "$build"
  fi
  log "detectron2 $DETECTRON2_COMMIT: building for the CPU (about 6 minutes on 2 cores)"
  # FORCE_CUDA=0 and no CUDA_HOME: only the CPU operators are compiled.
  (cd "$build" && FORCE_CUDA=0 CUDA_HOME= MAX_JOBS="$(nproc)" \
    "${PIP[@]}" install -q --no-build-isolation --no-deps .)
fi
"$VENV/bin/python" - <<'PY'
import detectron2, torch, ultralytics, cv2, numpy, PIL
from detectron2.projects.deeplab import add_deeplab_config  # noqa: F401  (main.py needs it)
print(f"anchor stack: torch {torch.__version__}, detectron2 {detectron2.__version__}, "
      f"ultralytics {ultralytics.__version__}, opencv {cv2.__version__}, numpy {numpy.__version__}, pillow {PIL.__version__}")
PY
