"""Turns a `models.tar.gz`-layout folder (the anchor's trained weights) into a model pack:
two ONNX files and the manifest the engine reads.

    python models/scripts/export_real_models.py --reference-models DIR --out OUT \
        [--only yolo|deeplab] [--model-version NAME] [--test-model NOTICE]

DIR holds deeplab/{config.yaml,model.pth} (detectron2) and yolo/{config.yaml,model.pt}
(Ultralytics), as stmharry/dental-pano-ai's models.tar.gz unpacks. Run it in the anchor's
environment (models/anchor/anchor-env.sh): the DeepLab half needs detectron2 to read its
config and build its network (a plain-torch re-implementation would be a second DeepLab to
keep equal to the first; detectron2 is built by that script instead). `--only` re-exports one
model into an existing pack and rewrites that model's manifest section.

What each export keeps of the reference's behaviour (main.py, Ultralytics 8.3.80, detectron2):
- YOLO: exported with dynamic height and width. Ultralytics' predictor letterboxes `.pt`
  weights with `auto=True`: the long side to `imgsz`, the short side padded only to a multiple
  of the stride (640x352 for the 2356x1292 sample); a static square export sees a different
  image and gives different detections. The manifest says `"letterbox": "auto"` and the
  stride. `imgsz` is read from yolo/config.yaml, the predictor configuration main.py passes
  (not from the checkpoint's training arguments).
- DeepLab: the graph is normalisation, backbone and head as detectron2's SemanticSegmentor
  runs them at inference, up to the head's predictor: its logits are at 1/`common_stride` of
  the padded input, and the manifest's `logit_stride` says so. The head's last step, the
  bilinear upsample by `common_stride` (`scale_factor`, which samples other positions than
  interpolating to a size), is left to the engine, which does it row by row as it resizes:
  in the graph it made a [33, H, W] map of a quarter of a gigabyte that the engine only ever
  reads once. The engine pads the resized image to `size_divisibility` with the pixel mean
  (detectron2 pads normalised images with 0), upsamples the logits, crops them to the
  resized image and resizes them to the original size (`sem_seg_postprocess`).
  main.py's overrides are applied before the network is built (INPUT.CROP.ENABLED = False,
  which makes ASPP pool globally instead of with the training crop's kernel).
- Channels: main.py hands RGB arrays to both predictors, and both treat them as BGR
  (detectron2 flips "RGB"-format input, Ultralytics flips every array), so both networks see
  the channels reversed: the manifest says "bgr" for both and the engine feeds them so.
"""
import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_compat  # noqa: E402,F401  (TorchScript ONNX exporter by default)

SEGMENTATION_GRAPH = (
    "normalise, backbone, head up to its predictor (logits at 1/logit_stride); the engine pads "
    "to size_divisibility, upsamples the logits by logit_stride (bilinear, scale_factor, as the "
    "head does), crops them to the resized image and resizes them to the original"
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def predictor_imgsz(config: Path) -> int:
    """`imgsz` as main.py's SegmentationPredictor reads it from yolo/config.yaml."""
    import yaml

    imgsz = (yaml.safe_load(config.read_text()) or {}).get("imgsz", 640)
    if isinstance(imgsz, (list, tuple)):
        if len(set(imgsz)) != 1:
            raise SystemExit(f"{config}: imgsz {imgsz} is not square; the engine letterboxes to a square bound")
        imgsz = imgsz[0]
    return int(imgsz)


def export_yolo(weights: Path, config: Path, out_dir: Path) -> dict:
    """Ultralytics' own ONNX export (opset 17, dynamic height and width)."""
    from ultralytics import YOLO

    imgsz = predictor_imgsz(config)
    model = YOLO(str(weights), task="segment")
    stride = int(max(model.model.stride.tolist()))
    if imgsz % stride:
        raise SystemExit(f"{config}: imgsz {imgsz} is not a multiple of the model's stride {stride}")
    exported = Path(model.export(format="onnx", imgsz=imgsz, opset=17, dynamic=True, simplify=True, batch=1))
    target = out_dir / "yolo.onnx"
    target.write_bytes(exported.read_bytes())
    exported.unlink()
    names = [model.names[i] for i in sorted(model.names)]
    return {
        "file": target.name,
        "sha256": sha256(target),
        "input": "images",
        "outputs": ["output0", "output1"],
        "channel_order": "bgr",
        "image_size": imgsz,
        "letterbox": "auto",
        "stride": stride,
        "class_names": names,
        # main.py's InstanceDetectionModule
        "conf_threshold": 0.0001,
        "iou_threshold": 0.5,
        "max_det": 500,
    }


def deeplab_as_main_py_builds_it(config: Path, weights: Path):
    """The config with main.py's overrides, the network built and loaded as DefaultPredictor does."""
    from detectron2.checkpoint import DetectionCheckpointer
    from detectron2.config import get_cfg
    from detectron2.modeling import build_model
    from detectron2.projects.deeplab import add_deeplab_config

    cfg = get_cfg()
    add_deeplab_config(cfg)
    cfg.merge_from_file(str(config))
    cfg.DATASETS.TEST = ()
    cfg.INPUT.FORMAT = "RGB"
    cfg.INPUT.CROP.ENABLED = False
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.WEIGHTS = str(weights)
    cfg.SOLVER.IMS_PER_BATCH = 1
    model = build_model(cfg).eval()
    DetectionCheckpointer(model).load(str(weights))
    return cfg, model


class SegmentationGraph(torch.nn.Module):
    """[1, 3, H, W] floats 0..255 in the network's channel order -> logits [1, C, H/s, W/s]."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image):
        x = (image - self.net.pixel_mean.view(1, -1, 1, 1)) / self.net.pixel_std.view(1, -1, 1, 1)
        # The head's forward() without its final upsample (the engine does that).
        return self.net.sem_seg_head.layers(self.net.backbone(x))


def export_deeplab(config: Path, weights: Path, out_dir: Path) -> dict:
    cfg, model = deeplab_as_main_py_builds_it(config, weights)
    target = out_dir / "deeplab.onnx"
    div = max(int(model.backbone.size_divisibility), 0)
    dummy = torch.rand(1, 3, 256, 480) * 255
    with torch.no_grad():
        torch.onnx.export(
            SegmentationGraph(model), (dummy,), str(target), input_names=["image"], output_names=["logits"],
            dynamic_axes={"image": {2: "height", 3: "width"}, "logits": {2: "out_height", 3: "out_width"}},
            opset_version=17,
        )
    return {
        "file": target.name,
        "sha256": sha256(target),
        "input": "image",
        "output": "logits",
        "channel_order": "bgr",
        "value_range": [0, 255],
        "num_classes": int(cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES),
        "resize": {
            "rule": "shortest_edge",
            "short_edge": int(cfg.INPUT.MIN_SIZE_TEST),
            "max_size": int(cfg.INPUT.MAX_SIZE_TEST),
            "filter": "pil_bilinear",
        },
        "size_divisibility": div if div > 1 else 0,
        "logit_stride": int(model.sem_seg_head.common_stride),
        # detectron2 pads normalised images with 0, i.e. with the mean before normalisation.
        "pad_value": [float(v) for v in model.pixel_mean.flatten()],
        "graph": SEGMENTATION_GRAPH,
    }


def write_manifest(out_dir: Path, version: str, segmentation: dict, detection: dict, notice: str | None) -> None:
    manifest = {
        "model_version": version,
        "test_model": notice is not None,
        **({"notice": notice} if notice else {}),
        "segmentation": segmentation,
        "detection": detection,
        "postprocess": {"tooth_nms_threshold": 0.3, "debug_min_score": 0.01},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def write_faster_pack_manifest(manifest: dict, out_dir: Path, precision: str) -> None:
    """The manifest of a pack derived from an fp32 one (quantize_pack.py, fp16_pack.py), whose
    model entries already carry the new files' hashes: `precision` set and the model version
    suffixed, so that the app and the CLI name the pack wherever it runs. The notice (a test
    pack's "not for diagnosis") stays the fp32 pack's."""
    manifest["precision"] = precision
    manifest["model_version"] = f"{manifest['model_version']}+{precision}"
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {out_dir}/manifest.json", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference-models", type=Path, required=True, help="deeplab/ and yolo/ as models.tar.gz unpacks")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--only", choices=["yolo", "deeplab"])
    ap.add_argument("--model-version", default="dental-pano-ai")
    ap.add_argument("--test-model", metavar="NOTICE", help="mark the pack as test models with this notice")
    args = ap.parse_args()
    src = args.reference_models
    for part in (["yolo"] if args.only == "yolo" else ["deeplab"] if args.only == "deeplab" else ["deeplab", "yolo"]):
        for f in (("config.yaml", "model.pt") if part == "yolo" else ("config.yaml", "model.pth")):
            if not (src / part / f).is_file():
                raise SystemExit(f"{src / part / f} is missing (expected the models.tar.gz layout)")
    args.out.mkdir(parents=True, exist_ok=True)
    existing = args.out / "manifest.json"
    if args.only and not existing.is_file():
        raise SystemExit(f"--only {args.only} updates an existing pack, and {existing} is missing")
    old = json.loads(existing.read_text()) if args.only else {}
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    detection = (export_yolo(src / "yolo" / "model.pt", src / "yolo" / "config.yaml", args.out)
                 if args.only in (None, "yolo") else old["detection"])
    segmentation = (export_deeplab(src / "deeplab" / "config.yaml", src / "deeplab" / "model.pth", args.out)
                    if args.only in (None, "deeplab") else old["segmentation"])
    notice = args.test_model if args.test_model else (old.get("notice") if args.only else None)
    write_manifest(args.out, args.model_version if not args.only else old.get("model_version", args.model_version),
                   segmentation, detection, notice)
    print(f"wrote {args.out}/manifest.json ({'both models' if not args.only else args.only})")


if __name__ == "__main__":
    main()
