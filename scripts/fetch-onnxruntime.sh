#!/usr/bin/env bash
# Puts one platform's ONNX Runtime shared libraries into a folder, taken from the PyPI wheels
# (ONNX Runtime's own downloads come from a CDN; PyPI is a package registry every build
# machine reaches). Works on Linux, macOS and Windows (Git Bash) runners alike.
#
#   scripts/fetch-onnxruntime.sh VARIANT OUT_DIR
#
# VARIANT           wheel                       libraries
#   linux-x64         onnxruntime 1.32.0          libonnxruntime.so.1.32.0
#   linux-x64-cuda    onnxruntime-gpu 1.31.1      libonnxruntime.so.1.31.1 + CUDA/TensorRT providers
#   windows-x64       onnxruntime 1.32.0          onnxruntime.dll + providers_shared
#   windows-x64-cuda  onnxruntime-gpu 1.31.1      onnxruntime.dll + CUDA/TensorRT providers
#   macos-arm64       onnxruntime 1.32.0          libonnxruntime.1.32.0.dylib
#
# The engine needs ONNX Runtime's C API 31 or newer (ort's `api-31`), so older wheels do not
# do: there is no macOS x86_64 wheel after 1.23 and no DirectML wheel after 1.24.
set -euo pipefail
variant=${1:?variant}
out=${2:?output folder}
case "$variant" in
  linux-x64) pkg=onnxruntime==1.32.0; platforms=(manylinux_2_27_x86_64 manylinux_2_28_x86_64 manylinux_2_17_x86_64) ;;
  linux-x64-cuda) pkg=onnxruntime-gpu==1.31.1; platforms=(manylinux_2_27_x86_64 manylinux_2_28_x86_64 manylinux_2_17_x86_64) ;;
  windows-x64) pkg=onnxruntime==1.32.0; platforms=(win_amd64) ;;
  windows-x64-cuda) pkg=onnxruntime-gpu==1.31.1; platforms=(win_amd64) ;;
  macos-arm64) pkg=onnxruntime==1.32.0; platforms=(macosx_14_0_arm64 macosx_13_0_arm64) ;;
  *) echo "unknown variant: $variant" >&2; exit 2 ;;
esac
python=$(command -v python3 || command -v python)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
platform_args=()
for p in "${platforms[@]}"; do platform_args+=(--platform "$p"); done
"$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
  "${platform_args[@]}" -d "$tmp" "$pkg"
mkdir -p "$out"
# Only the runtime and its provider libraries: the Python bindings stay behind.
"$python" - "$tmp" "$out" <<'EOF'
import pathlib, re, sys, zipfile
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wanted = re.compile(r"^onnxruntime/capi/((lib)?onnxruntime[^/]*\.(so[.0-9]*|dylib|dll))$")
found = []
for wheel in src.glob("*.whl"):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            m = wanted.match(name)
            if m and "pybind" not in name:
                (out / m.group(1)).write_bytes(z.read(name))
                found.append(m.group(1))
if not found:
    sys.exit(f"no ONNX Runtime library in {[w.name for w in src.glob('*.whl')]}")
print("\n".join(sorted(found)))
EOF
