"""The reference pipeline in Python, written independently from docs/reference-pipeline.md.

    python models/scripts/reference_pipeline.py --models models/static-640 --out DIR IMAGE...

For every image it writes `<stem>.csv` (the 256 scores) and `<stem>.detections.json`
(Ultralytics' own detections: class, score, float box, mask cropped to the integer box),
and prints per-stage times and peak RSS. Its committed outputs under tests/reference/ are
what the Rust engine is tested against; it is also the Python side of the benchmark.

Segmentation: PIL bilinear shortest-edge resize, ONNX Runtime, torch bilinear resize of the
logits to the original size, softmax. Detection: Ultralytics' SegmentationPredictor on the
ONNX file (conf 0.0001, IoU 0.5, max_det 500, retina masks). Post-processing: NumPy.
"""
import argparse
import gzip
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F
from PIL import Image

FINDINGS = [
    ("MISSING", None),
    ("IMPLANT", "IMPLANT"),
    ("RESIDUAL_ROOT", "ROOT_REMNANTS"),
    ("CROWN_BRIDGE", "CROWN_BRIDGE"),
    ("ROOT_CANAL_FILLING", "ENDO"),
    ("FILLING", "FILLING"),
    ("CARIES", "CARIES"),
    ("PERIAPICAL_RADIOLUCENCY", "PERIAPICAL_RADIOLUCENT"),
]


def shortest_edge_size(h, w, short, max_size):
    scale = short / min(h, w)
    nh, nw = (short, scale * w) if h < w else (scale * h, short)
    if max(nh, nw) > max_size:
        s = max_size / max(nh, nw)
        nh, nw = nh * s, nw * s
    return int(nh + 0.5), int(nw + 0.5)


def segment(session, manifest, rgb):
    seg = manifest["segmentation"]
    h, w = rgb.shape[:2]
    nh, nw = shortest_edge_size(h, w, seg["resize"]["short_edge"], seg["resize"]["max_size"])
    resized = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.BILINEAR))
    x = np.ascontiguousarray(resized.transpose(2, 0, 1)[None].astype(np.float32))
    logits = torch.from_numpy(session.run([seg["output"]], {seg["input"]: x})[0])
    stride = seg.get("logit_stride", 1)
    if stride > 1:
        # The head's upsample, left out of newer exports (detectron2: scale_factor, bilinear).
        logits = F.interpolate(logits, scale_factor=stride, mode="bilinear", align_corners=False)
    logits = logits[:, :, :nh, :nw]
    logits = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)[0]
    return logits.softmax(dim=0).numpy()


class Instance:
    def __init__(self, name, score, box_float, mask):
        self.name = name
        self.score = score
        self.box_float = box_float
        self.box = box_float.astype(int)  # truncation, as numpy's astype(int)
        self.mask = mask

    def region(self):
        xb, yb, xe, ye = self.box
        return slice(yb, ye + 1), slice(xb, xe + 1)

    def area(self):
        return int(self.mask[self.region()].sum())


def intersection_over_minimum(a, b):
    xa0, ya0, xa1, ya1 = a.box
    xb0, yb0, xb1, yb1 = b.box
    if min(ya1, yb1) < max(ya0, yb0) or min(xa1, xb1) < max(xa0, xb0):
        return 0.0
    region = slice(min(ya0, yb0), max(ya1, yb1) + 1), slice(min(xa0, xb0), max(xa1, xb1) + 1)
    ma, mb = a.mask[region], b.mask[region]
    inter = np.logical_and(ma, mb).sum()
    return inter / (min(ma.sum(), mb.sum()) + 1e-5)


def detect(model, rgb, manifest):
    det = manifest["detection"]
    # The manifest states the channel order the model wants; Ultralytics flips BGR to RGB.
    source = rgb[..., ::-1] if det["channel_order"] == "rgb" else rgb
    results = model.predict(
        np.ascontiguousarray(source), conf=det["conf_threshold"], iou=det["iou_threshold"],
        max_det=det["max_det"], retina_masks=True, imgsz=det["image_size"], verbose=False,
    )[0]
    instances = []
    if results.masks is None:
        return instances
    masks = results.masks.data.numpy().astype(bool)
    for score, cls, box, mask in zip(results.boxes.conf.numpy(), results.boxes.cls.numpy(), results.boxes.xyxy.numpy(), masks):
        instances.append(Instance(results.names[int(cls)], float(score), box, mask))
    return instances


def postprocess(prob, instances, tooth_nms=0.3):
    num_classes = prob.shape[0]
    scores = []
    for csv_name, cls in FINDINGS:
        if cls is None:
            pool = sorted((i for i in instances if i.name.startswith("TOOTH")), key=lambda i: -i.score)
            kept = []
            while pool:
                first = pool.pop(0)
                kept.append(first)
                pool = [o for o in pool if intersection_over_minimum(first, o) < tooth_nms]
            candidates = [i for i in kept if i.area() > 0]
        else:
            candidates = [i for i in instances if i.name == cls and i.area() > 0]
        per_instance = []
        if candidates:
            discount = np.sum([c.mask for c in candidates], axis=0).astype(np.float32)
            for c in candidates:
                region = c.region()
                m = c.mask[region]
                p = prob[:, region[0], region[1]][:, m]
                d = discount[region][m]
                p = 1.0 - np.power(1.0 - p, 1.0 / d)
                if p.size == 0:
                    continue
                share = p.mean(axis=-1)
                share = np.r_[0, share[1:]] / np.sum(share[1:])
                per_instance.append(share if cls is None else c.score * share)
        if per_instance:
            finding = 1 - np.prod(1 - np.stack(per_instance), axis=0)
        else:
            finding = np.zeros((num_classes,), dtype=np.float32)
        if cls is None:
            finding = 1 - finding
        scores.append((csv_name, finding))
    return scores


def fdi(index):
    return f"{(index - 1) // 8 + 1}{(index - 1) % 8 + 1}"


def write_csv(path, name, scores):
    lines = ["file_name,fdi,finding,score"]
    for csv_name, finding in scores:
        for index in range(1, len(finding)):
            lines.append(f"{name},{fdi(index)},{csv_name},{float(np.float32(finding[index]))!r}")
    path.write_text("\n".join(lines) + "\n")


def write_detections(path, instances):
    out = []
    for i in instances:
        xb, yb, xe, ye = (int(v) for v in i.box)
        crop = i.mask[yb : ye + 1, xb : xe + 1]
        out.append({
            "class_name": i.name,
            "score": i.score,
            "box": [float(v) for v in i.box_float],
            "mask_box": [xb, yb, xe, ye],
            "mask_area": int(crop.sum()),
            "mask_bits": np.packbits(crop.reshape(-1)).tobytes().hex(),
        })
    with gzip.open(path, "wt") as f:
        f.write(json.dumps(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="models/static-640")
    ap.add_argument("--out", required=True)
    ap.add_argument("images", nargs="+")
    args = ap.parse_args()
    from ultralytics import YOLO

    models = Path(args.models)
    manifest = json.loads((models / "manifest.json").read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    opts = ort.SessionOptions()
    t0 = time.perf_counter()
    seg_session = ort.InferenceSession(str(models / manifest["segmentation"]["file"]), opts, providers=["CPUExecutionProvider"])
    yolo = YOLO(str(models / manifest["detection"]["file"]), task="segment")
    print(f"load: {time.perf_counter() - t0:.3f} s", file=sys.stderr)
    for image_path in args.images:
        image_path = Path(image_path)
        times = {}
        t = time.perf_counter()
        rgb = np.asarray(Image.open(image_path).convert("RGB"))
        times["decode"] = time.perf_counter() - t
        t = time.perf_counter()
        prob = segment(seg_session, manifest, rgb)
        times["segmentation"] = time.perf_counter() - t
        t = time.perf_counter()
        instances = detect(yolo, rgb, manifest)
        times["detection"] = time.perf_counter() - t
        t = time.perf_counter()
        scores = postprocess(prob, instances, manifest["postprocess"]["tooth_nms_threshold"])
        times["postprocess"] = time.perf_counter() - t
        write_csv(out / f"{image_path.stem}.csv", image_path.stem, scores)
        write_detections(out / f"{image_path.stem}.detections.json.gz", instances)
        total = sum(times.values())
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stages = " ".join(f"{k}={v:.3f}s" for k, v in times.items())
        print(f"{image_path.name}: {len(instances)} detections; {stages} total={total:.3f}s peak_rss={peak_mb:.0f}MB")


if __name__ == "__main__":
    main()
