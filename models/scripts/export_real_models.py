"""Turns the reference repository's trained weights into our two ONNX files + manifest.

    python models/scripts/export_real_models.py --reference-models PATH/models --out models/real \
        --model-version dental-pano-ai-2025

PATH/models is the `models/` folder of stmharry/dental-pano-ai: deeplab/{config.yaml,model.pth}
and yolo/{config.yaml,model.pt}. Needs models/scripts/requirements.txt and, for the DeepLab
half, detectron2 with its DeepLab project (not on PyPI: install it from its repository).

Channel order: the reference hands an RGB array to both predictors, and both treat their
input as BGR (detectron2 flips it for an "RGB" model, Ultralytics flips it for every model),
so both trained models see the channels reversed. The manifest therefore says "bgr" for
both, and the engine feeds them the same way.

    python models/scripts/export_real_models.py --selftest-yolo

exports a random-initialised YOLOv8-seg with the real class names through the same YOLO code
path and checks the ONNX file (runs here; detectron2 cannot be installed here, so the
DeepLab half is kept short and has not been run).
"""
import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_compat  # noqa: E402,F401  (TorchScript ONNX exporter by default)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_yolo(weights: Path, out_dir: Path, channel_order: str = "bgr") -> dict:
    """Ultralytics' own ONNX export (opset 17, static 1x3xSxS); returns the manifest section."""
    from ultralytics import YOLO

    model = YOLO(str(weights), task="segment")
    imgsz = int(model.model.args.get("imgsz", 640)) if hasattr(model.model, "args") else 640
    exported = Path(model.export(format="onnx", imgsz=imgsz, opset=17, dynamic=False, simplify=True))
    target = out_dir / "yolo.onnx"
    target.write_bytes(exported.read_bytes())
    names = [model.names[i] for i in sorted(model.names)]
    return {
        "file": target.name,
        "sha256": sha256(target),
        "input": "images",
        "outputs": ["output0", "output1"],
        "channel_order": channel_order,
        "image_size": imgsz,
        "class_names": names,
        "conf_threshold": 0.0001,
        "iou_threshold": 0.5,
        "max_det": 500,
    }


def export_deeplab(config: Path, weights: Path, out_dir: Path) -> dict:
    """detectron2 DeepLab with normalisation inside the graph and dynamic H x W."""
    from detectron2.checkpoint import DetectionCheckpointer
    from detectron2.config import get_cfg
    from detectron2.modeling import build_model
    from detectron2.projects.deeplab import add_deeplab_config

    cfg = get_cfg()
    add_deeplab_config(cfg)
    cfg.merge_from_file(str(config))
    cfg.MODEL.DEVICE = "cpu"
    model = build_model(cfg).eval()
    DetectionCheckpointer(model).load(str(weights))

    class Exportable(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, image):  # [1, 3, H, W], 0..255, channels as the model was trained
            x = (image - self.net.pixel_mean.view(1, -1, 1, 1)) / self.net.pixel_std.view(1, -1, 1, 1)
            features = self.net.backbone(x)
            logits, _ = self.net.sem_seg_head.layers(features), None
            return F.interpolate(logits, size=image.shape[-2:], mode="bilinear", align_corners=False)

    target = out_dir / "deeplab.onnx"
    div = max(int(model.backbone.size_divisibility), 1)
    dummy = torch.rand(1, 3, 512, 1024) * 255
    torch.onnx.export(
        Exportable(model), (dummy,), str(target), input_names=["image"], output_names=["logits"],
        dynamic_axes={"image": {2: "height", 3: "width"}, "logits": {2: "height", 3: "width"}}, opset_version=17,
    )
    return {
        "file": target.name,
        "sha256": sha256(target),
        "input": "image",
        "output": "logits",
        "channel_order": "bgr",
        "value_range": [0, 255],
        "num_classes": int(cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES),
        "resize": {"rule": "shortest_edge", "short_edge": int(cfg.INPUT.MIN_SIZE_TEST), "max_size": int(cfg.INPUT.MAX_SIZE_TEST), "filter": "pil_bilinear"},
        "size_divisibility": div if div > 1 else 0,
        # detectron2 pads normalised images with 0, i.e. with the mean before normalisation.
        "pad_value": [float(v) for v in model.pixel_mean.flatten()],
    }


def write_manifest(out_dir: Path, version: str, segmentation: dict, detection: dict, test_model: bool) -> None:
    manifest = {
        "model_version": version,
        "test_model": test_model,
        "segmentation": segmentation,
        "detection": detection,
        "postprocess": {"tooth_nms_threshold": 0.3, "debug_min_score": 0.01},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def selftest_yolo() -> None:
    import numpy as np
    import onnxruntime as ort
    from ultralytics import YOLO

    sys.path.insert(0, str(Path(__file__).parent))
    from make_test_models import YOLO_NAMES

    import ultralytics

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        text = (Path(ultralytics.__file__).parent / "cfg/models/v8/yolov8-seg.yaml").read_text()
        (tmp / "yolov8n-seg.yaml").write_text(text.replace("nc: 80", f"nc: {len(YOLO_NAMES)}"))
        model = YOLO(str(tmp / "yolov8n-seg.yaml"), task="segment")
        model.model.names = {i: n for i, n in enumerate(YOLO_NAMES)}
        torch.save({"model": model.model, "train_args": {"imgsz": 640, "task": "segment"}}, tmp / "model.pt")
        section = export_yolo(tmp / "model.pt", tmp)
        session = ort.InferenceSession(str(tmp / section["file"]), providers=["CPUExecutionProvider"])
        out0, out1 = session.run(None, {"images": np.zeros((1, 3, 640, 640), np.float32)})
        assert out0.shape == (1, 4 + len(YOLO_NAMES) + 32, 8400), out0.shape
        assert out1.shape == (1, 32, 160, 160), out1.shape
        names = session.get_modelmeta().custom_metadata_map["names"]
        assert section["class_names"] == YOLO_NAMES and "'TOOTH_11'" in names
        print(f"YOLO export self-test passed: {out0.shape}, {out1.shape}, {len(section['class_names'])} classes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference-models", type=Path)
    ap.add_argument("--out", type=Path, default=Path("models/real"))
    ap.add_argument("--model-version", default="dental-pano-ai")
    ap.add_argument("--selftest-yolo", action="store_true")
    args = ap.parse_args()
    if args.selftest_yolo:
        selftest_yolo()
        return
    if not args.reference_models:
        ap.error("--reference-models is required")
    src = args.reference_models
    args.out.mkdir(parents=True, exist_ok=True)
    detection = export_yolo(src / "yolo" / "model.pt", args.out)
    segmentation = export_deeplab(src / "deeplab" / "config.yaml", src / "deeplab" / "model.pth", args.out)
    write_manifest(args.out, args.model_version, segmentation, detection, test_model=False)
    print(f"wrote {args.out}/manifest.json, yolo.onnx, deeplab.onnx")


if __name__ == "__main__":
    main()
