"""Makes the optional INT8 CPU pack from an fp32 pack: both models statically quantized.

    python models/scripts/quantize_pack.py --pack FP32_PACK --out INT8_PACK [--calibration IMAGE ...]

Static quantization (ONNX Runtime's `quantize_static`, QDQ format): weights int8 per output
channel, activations uint8 with ranges measured (MinMax) on calibration radiographs
pre-processed exactly as the engine feeds them (the DeepLab resize and pad, the YOLO
letterbox, both in the network's channel order). Only Conv and MatMul are quantized; every
other operator, and so every score the engine reads, stays fp32. ONNX Runtime runs the result
with its integer kernels (AVX512-VNNI / AVX-VNNI where the CPU has them, else AVX2).

The manifest is the fp32 pack's with `"precision": "int8"`, the model version suffixed
`+int8` and the new files' hashes: the app and the CLI show which pack ran. An INT8
pack changes scores; `models/scripts/pack_agreement.py` measures by how much against fp32.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "pan-01432.jpg"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_real_models import sha256, write_faster_pack_manifest  # noqa: E402
from reference_pipeline import shortest_edge_size  # noqa: E402


def deeplab_input(rgb: np.ndarray, seg: dict) -> np.ndarray:
    h, w = rgb.shape[:2]
    nh, nw = shortest_edge_size(h, w, seg["resize"]["short_edge"], seg["resize"]["max_size"])
    resized = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.BILINEAR)).astype(np.float32)
    if seg["channel_order"] == "bgr":
        resized = resized[..., ::-1]
    div = seg.get("size_divisibility") or 1
    ph, pw = -(-nh // div) * div, -(-nw // div) * div
    pad = np.array(seg.get("pad_value") or [0, 0, 0], dtype=np.float32)
    out = np.empty((ph, pw, 3), dtype=np.float32)
    out[:] = pad
    out[:nh, :nw] = resized
    return np.ascontiguousarray(out.transpose(2, 0, 1)[None])


def yolo_input(rgb: np.ndarray, det: dict) -> np.ndarray:
    h, w = rgb.shape[:2]
    size, stride = det["image_size"], det.get("stride", 32)
    r = min(size / h, size / w)
    nh, nw = int(round(h * r)), int(round(w * r))
    if det.get("letterbox", "square") == "auto":
        ph, pw = -(-nh // stride) * stride, -(-nw // stride) * stride
    else:
        ph = pw = size
    resized = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.BILINEAR)).astype(np.float32)
    if det["channel_order"] == "bgr":
        resized = resized[..., ::-1]
    out = np.full((ph, pw, 3), 114.0, dtype=np.float32)
    top, left = (ph - nh) // 2, (pw - nw) // 2
    out[top:top + nh, left:left + nw] = resized
    return np.ascontiguousarray((out / 255.0).transpose(2, 0, 1)[None])


class Feeder:
    """ONNX Runtime's CalibrationDataReader: one pre-processed input per calibration image."""

    def __init__(self, name: str, inputs: list[np.ndarray]):
        self.name, self.inputs = name, iter(inputs)

    def get_next(self):
        x = next(self.inputs, None)
        return None if x is None else {self.name: x}


def quantize(src: Path, dst: Path, input_name: str, inputs: list[np.ndarray]) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # Shape inference and ONNX Runtime's basic graph fusions first (BatchNorm into Conv),
        # as ONNX Runtime advises: ranges are then measured on the tensors that run.
        quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared), str(dst), Feeder(input_name, inputs),
            quant_format=QuantFormat.QDQ, op_types_to_quantize=["Conv", "MatMul"],
            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            # Bounds the memory of calibration: ranges are gathered this many tensors at a
            # time (a full-size DeepLab's intermediate tensors at 1024x1867 are tens of GB).
            extra_options={"CalibMaxIntermediateOutputs": 8},
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True, help="the fp32 pack (manifest.json and two ONNX files)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--calibration", type=Path, nargs="*", help="radiographs (default: the sample and its mirror)")
    args = ap.parse_args()
    manifest = json.loads((args.pack / "manifest.json").read_text())
    if manifest.get("precision", "fp32") != "fp32":
        raise SystemExit(f"{args.pack} is already a {manifest['precision']} pack")
    images = [np.asarray(Image.open(p).convert("RGB")) for p in (args.calibration or [SAMPLE])]
    if not args.calibration:
        images.append(images[0][:, ::-1].copy())
    args.out.mkdir(parents=True, exist_ok=True)
    seg, det = manifest["segmentation"], manifest["detection"]
    for spec, make in ((seg, deeplab_input), (det, yolo_input)):
        t = time.perf_counter()
        quantize(args.pack / spec["file"], args.out / spec["file"], spec["input"], [make(i, spec) for i in images])
        spec["sha256"] = sha256(args.out / spec["file"])
        print(f"{spec['file']}: quantized in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    write_faster_pack_manifest(manifest, args.out, "int8")


if __name__ == "__main__":
    main()
