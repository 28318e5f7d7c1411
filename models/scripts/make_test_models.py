"""Builds the random-weight test models of the real architectures, and their manifest.

    YOLO_OFFLINE=1 YOLO_AUTOINSTALL=0 python models/scripts/make_test_models.py

Needs torch, ultralytics (8.3.80, the version the reference pins), onnx and onnxslim
(models/scripts/requirements.txt). The outputs are committed under models/static-640/, so tests
and CI never need torch. Random weights: the findings these models give mean nothing.

- yolo.onnx: YOLOv8-seg (Ultralytics' own yolov8-seg graph at width 1/16), 39 classes named
  like the real model's (32 TOOTH_ classes, then the seven finding classes), 640x640 input.
  Batch-norm statistics are recalibrated on random input and the class head is scaled and
  biased so that the random model gives dozens of distinct classes and scores.
- deeplab.onnx: a small DeepLabV3+-style segmenter (strided backbone, ASPP with atrous
  convolutions, low-level decoder), 33 classes, normalisation inside the graph, dynamic
  height and width, logits at input resolution.
"""
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_compat  # noqa: E402,F401  (TorchScript ONNX exporter by default)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "models" / "static-640"

TOOTH_CLASSES = [f"TOOTH_{q}{t}" for q in range(1, 5) for t in range(1, 9)]
FINDING_CLASSES = ["IMPLANT", "ROOT_REMNANTS", "CROWN_BRIDGE", "ENDO", "FILLING", "CARIES", "PERIAPICAL_RADIOLUCENT"]
YOLO_NAMES = TOOTH_CLASSES + FINDING_CLASSES
YOLO_IMGSZ = 640
PIXEL_MEAN = [123.675, 116.28, 103.53]
PIXEL_STD = [58.395, 57.12, 57.375]


def build_yolo(workdir: Path) -> Path:
    from ultralytics import YOLO

    # Ultralytics reads the width/depth scale from the file NAME (yolov8[nslmx]); a custom
    # tiny scale has to be written under one of those letters.
    import ultralytics

    base = Path(ultralytics.__file__).parent / "cfg" / "models" / "v8" / "yolov8-seg.yaml"
    text = base.read_text()
    text = text.replace("nc: 80", f"nc: {len(YOLO_NAMES)}")
    text = text.replace("n: [0.33, 0.25, 1024]", "n: [0.33, 0.0625, 1024]")
    cfg = workdir / "yolov8n-seg.yaml"
    cfg.write_text(text)

    torch.manual_seed(1432)
    model = YOLO(str(cfg), task="segment")
    net = model.model
    net.names = {i: n for i, n in enumerate(YOLO_NAMES)}

    # Random weights make activations die out layer by layer. Train-mode passes on
    # radiograph-like input give batch norm statistics that keep them alive.
    calib = calibration_batch()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # a plain average over the calibration passes
    net.train()
    with torch.no_grad():
        for _ in range(6):
            net(calib)
    net.eval()

    # Give every class's logit a spread of ~1.2 around its own offset (-8..-3) over the
    # anchors of a real radiograph, and the mask coefficients a unit spread, so that the
    # random model gives many classes, distinct scores and partial masks.
    head = net.model[-1]
    captured = {}
    hooks = [seq[-1].register_forward_hook(lambda m, i, o, key=("cls", k): captured.__setitem__(key, i[0])) for k, seq in enumerate(head.cv3)]
    hooks += [seq[-1].register_forward_hook(lambda m, i, o, key=("mask", k): captured.__setitem__(key, i[0])) for k, seq in enumerate(head.cv4)]
    with torch.no_grad():
        net(calib[:1])
    for h in hooks:
        h.remove()
    gen = torch.Generator().manual_seed(7)
    offsets = torch.empty(len(YOLO_NAMES)).uniform_(-8.0, -3.0, generator=gen)
    with torch.no_grad():
        for kind, convs, spread in (("cls", head.cv3, 1.2), ("mask", head.cv4, 1.0)):
            for k, seq in enumerate(convs):
                conv = seq[-1]
                z = F.conv2d(captured[(kind, k)], conv.weight)  # without bias
                mu = z.mean(dim=(0, 2, 3))
                sd = z.std(dim=(0, 2, 3)).clamp_min(1e-6)
                conv.weight.mul_((spread / sd).view(-1, 1, 1, 1))
                target = offsets if kind == "cls" else torch.zeros_like(mu)
                conv.bias.copy_(target - mu * spread / sd)

    pt = workdir / "yolov8n-seg.pt"
    ckpt = {"model": net.half().float(), "train_args": {"imgsz": YOLO_IMGSZ, "task": "segment"}}
    torch.save(ckpt, pt)
    exported = YOLO(str(pt), task="segment").export(format="onnx", imgsz=YOLO_IMGSZ, opset=17, dynamic=False, simplify=True)
    return Path(exported)


def calibration_batch() -> torch.Tensor:
    """The sample radiograph, squashed to the model's input, and three random crops of it."""
    from PIL import Image

    img = Image.open(ROOT / "tests" / "data" / "pan-01432.jpg").convert("RGB")
    views = [img.resize((YOLO_IMGSZ, YOLO_IMGSZ))]
    gen = np.random.default_rng(3)
    for _ in range(3):
        w = int(gen.integers(500, 1200))
        x, y = int(gen.integers(0, img.width - w)), int(gen.integers(0, img.height - w // 2))
        views.append(img.crop((x, y, x + w, y + w)).resize((YOLO_IMGSZ, YOLO_IMGSZ)))
    arr = np.stack([np.asarray(v, dtype=np.float32) / 255.0 for v in views]).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(arr))


class ConvBnRelu(nn.Sequential):
    def __init__(self, cin, cout, k=3, stride=1, dilation=1):
        pad = dilation * (k // 2)
        super().__init__(nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TinyDeepLabV3Plus(nn.Module):
    """DeepLabV3+: encoder to 1/16, ASPP, decoder fusing 1/4 features, 33-class logits."""

    def __init__(self, num_classes=33, width=16):
        super().__init__()
        self.register_buffer("mean", torch.tensor(PIXEL_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(PIXEL_STD).view(1, 3, 1, 1))
        w = width
        self.stem = nn.Sequential(ConvBnRelu(3, w, stride=2), ConvBnRelu(w, w, stride=2))  # 1/4
        self.stage2 = ConvBnRelu(w, 2 * w, stride=2)  # 1/8
        self.stage3 = nn.Sequential(ConvBnRelu(2 * w, 4 * w, stride=2), ConvBnRelu(4 * w, 4 * w))  # 1/16
        self.aspp = nn.ModuleList([ConvBnRelu(4 * w, 2 * w, k=1)] + [ConvBnRelu(4 * w, 2 * w, dilation=d) for d in (6, 12, 18)])
        self.aspp_pool = ConvBnRelu(4 * w, 2 * w, k=1)
        self.aspp_project = ConvBnRelu(10 * w, 2 * w, k=1)
        self.low_project = ConvBnRelu(w, w // 2, k=1)
        self.fuse = nn.Sequential(ConvBnRelu(2 * w + w // 2, 2 * w), ConvBnRelu(2 * w, 2 * w))
        self.classifier = nn.Conv2d(2 * w, num_classes, 1)

    def forward(self, image):  # [1, 3, H, W] float RGB 0..255
        x = (image - self.mean) / self.std
        low = self.stem(x)
        deep = self.stage3(self.stage2(low))
        pooled = self.aspp_pool(deep.mean(dim=(2, 3), keepdim=True)).expand(-1, -1, deep.shape[2], deep.shape[3])
        deep = self.aspp_project(torch.cat([m(deep) for m in self.aspp] + [pooled], dim=1))
        deep = F.interpolate(deep, size=low.shape[-2:], mode="bilinear", align_corners=False)
        fused = self.fuse(torch.cat([deep, self.low_project(low)], dim=1))
        logits = self.classifier(fused)
        return F.interpolate(logits, size=image.shape[-2:], mode="bilinear", align_corners=False)


def build_deeplab(path: Path) -> None:
    torch.manual_seed(2502)
    net = TinyDeepLabV3Plus()
    net.train()
    with torch.no_grad():
        for _ in range(6):
            net(torch.rand(2, 3, 256, 512) * 255)
        net.classifier.weight.mul_(4.0)
        net.classifier.bias.copy_(torch.linspace(-1.0, 1.0, 33))
    net.eval()
    torch.onnx.export(
        net,
        (torch.rand(1, 3, 256, 512) * 255,),
        str(path),
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {2: "height", 3: "width"}, "logits": {2: "height", 3: "width"}},
        opset_version=17,
        dynamo=False,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    work = OUT / ".build"
    work.mkdir(exist_ok=True)
    yolo_tmp = build_yolo(work)
    yolo = OUT / "yolo.onnx"
    yolo.write_bytes(yolo_tmp.read_bytes())
    deeplab = OUT / "deeplab.onnx"
    build_deeplab(deeplab)

    manifest = {
        "model_version": "test-random-weights-1",
        "test_model": True,
        "notice": "Random-weight test models of the real architectures: results are not for diagnosis.",
        "segmentation": {
            "file": "deeplab.onnx",
            "sha256": sha256(deeplab),
            "input": "image",
            "output": "logits",
            "channel_order": "rgb",
            "value_range": [0, 255],
            "num_classes": 33,
            "resize": {"rule": "shortest_edge", "short_edge": 1024, "max_size": 2048, "filter": "pil_bilinear"},
            "size_divisibility": 0,
        },
        "detection": {
            "file": "yolo.onnx",
            "sha256": sha256(yolo),
            "input": "images",
            "outputs": ["output0", "output1"],
            "channel_order": "rgb",
            "image_size": YOLO_IMGSZ,
            "class_names": YOLO_NAMES,
            "conf_threshold": 0.0001,
            "iou_threshold": 0.5,
            "max_det": 500,
        },
        "postprocess": {"tooth_nms_threshold": 0.3, "debug_min_score": 0.01},
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for p in work.iterdir():
        p.unlink() if p.is_file() else None
    print(f"wrote {yolo} ({yolo.stat().st_size} B), {deeplab} ({deeplab.stat().st_size} B)", file=sys.stderr)


if __name__ == "__main__":
    main()
