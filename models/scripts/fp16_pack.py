"""Makes the optional FP16 pack (meant for GPUs) from an fp32 pack: both models in half precision.

    python models/scripts/fp16_pack.py --pack FP32_PACK --out FP16_PACK

ONNX Runtime's own converter (`onnxruntime.transformers.float16.convert_float_to_float16`,
shipped with the onnxruntime wheel, nothing hand-written): weights and activations float16,
with `keep_io_types`, so the engine still feeds float32 and reads float32 (its pre- and
post-processing, and so the parity with the anchor's code, are unchanged; only the two
networks run in half precision). The converter's default block list keeps the operators that
have no float16 kernel in float32.

The manifest is the fp32 pack's with `"precision": "fp16"`, the model version suffixed `+fp16`
and the new files' hashes: the app and the CLI show which pack ran. An FP16 pack changes
scores; `models/scripts/pack_agreement.py --fp32 P --candidate Q [--provider cuda]` measures by
how much (ONNX Runtime also runs float16 graphs on the CPU, slowly, which is enough to measure
the agreement where no GPU is at hand; the GPU's own kernels may round differently).
"""
import argparse
import json
import sys
import time
from pathlib import Path

import onnx
from onnxruntime.transformers.float16 import convert_float_to_float16

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_real_models import sha256, write_faster_pack_manifest  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True, help="the fp32 pack (manifest.json and two ONNX files)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    manifest = json.loads((args.pack / "manifest.json").read_text())
    if manifest.get("precision", "fp32") != "fp32":
        raise SystemExit(f"{args.pack} is already a {manifest['precision']} pack")
    args.out.mkdir(parents=True, exist_ok=True)
    for spec in (manifest["segmentation"], manifest["detection"]):
        t = time.perf_counter()
        model = onnx.load(str(args.pack / spec["file"]))
        half = convert_float_to_float16(model, keep_io_types=True)
        onnx.save(half, str(args.out / spec["file"]))
        spec["sha256"] = sha256(args.out / spec["file"])
        size = (args.out / spec["file"]).stat().st_size / 1e6
        print(f"{spec['file']}: float16 in {time.perf_counter() - t:.0f} s, {size:.0f} MB", file=sys.stderr)
    write_faster_pack_manifest(manifest, args.out, "fp16")


if __name__ == "__main__":
    main()
