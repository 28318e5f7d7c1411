"""Random-weight checkpoints in exactly the layout of the anchor's `models.tar.gz`.

    .cache/anchor-venv/bin/python models/anchor/make_checkpoints.py --size narrow --out models/anchor/narrow
    .cache/anchor-venv/bin/python models/anchor/make_checkpoints.py --size full --out .cache/anchor-models/full

writes OUT/deeplab/{config.yaml,model.pth} and OUT/yolo/{config.yaml,model.pt}, which the
anchor's own main.py loads unmodified (--deeplab_config OUT/deeplab/config.yaml ...). Needs the
anchor's venv (models/anchor/anchor-env.sh): detectron2 with its DeepLab project, Ultralytics
8.3.80, torch 2.6.0.

- DeepLab: detectron2's DeepLabV3+ R-103 Cityscapes config (projects/DeepLab), 33 classes,
  dumped as one self-contained config.yaml the way `cfg.dump()` writes a trained run's config;
  model.pth is {"model": state_dict, "iteration": ...} as DetectionCheckpointer saves it.
- YOLO: Ultralytics' yolov8-seg graph, 39 classes (32 TOOTH_ classes, then the seven
  findings), saved the way a finished training run leaves best.pt: the model in fp16, no EMA
  or optimizer, `train_args`, epoch -1, date and version. config.yaml is the predictor
  configuration main.py passes (Ultralytics' default configuration with the run's values).

Sizes: "full" is R-103 and YOLOv8x-seg (the paper's families at the largest scale; for the
real-size benchmarks, never committed). "narrow" keeps both architectures (the same depth,
blocks, heads and strides) at a small width so the pair can be committed as a test pair.

Random weights are made to behave like a trained model's in the ways the pipeline notices:
batch-norm statistics are recalibrated on radiograph crops (otherwise 101 layers of random
convolutions saturate the softmax into ties), and the YOLO class head gets a per-class offset,
shifted as a whole until the sample gives --target-detections detections at main.py's
settings (a random head gives either none or max_det=500).
"""
import argparse
import copy
import datetime
import os
import sys
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "pan-01432.jpg"
TOOTH_CLASSES = [f"TOOTH_{q}{t}" for q in range(1, 5) for t in range(1, 9)]
FINDING_CLASSES = ["IMPLANT", "ROOT_REMNANTS", "CROWN_BRIDGE", "ENDO", "FILLING", "CARIES", "PERIAPICAL_RADIOLUCENT"]
YOLO_NAMES = TOOTH_CLASSES + FINDING_CLASSES
DEEPLAB_CLASSES = 33
YOLO_IMGSZ = 640
DETECTRON2_CONFIG = "projects/DeepLab/configs/Cityscapes-SemanticSegmentation/deeplab_v3_plus_R_103_os16_mg124_poly_90k_bs16.yaml"

# width per size: (ResNet stem, res2 out, width per group, ASPP/decoder, projection) and the
# YOLO (depth, width, max channels) scale.
SIZES = {
    "full": {"deeplab": (128, 256, 64, 256, 48), "yolo": (1.00, 1.25, 512)},
    "narrow": {"deeplab": (16, 32, 8, 32, 8), "yolo": (0.33, 0.0625, 1024)},
}


def radiograph_crops(size_hw: tuple[int, int], n: int, seed: int) -> torch.Tensor:
    """The sample squashed to size_hw, and n-1 random crops of it: RGB floats 0..255."""
    img = Image.open(SAMPLE).convert("RGB")
    h, w = size_hw
    views = [img.resize((w, h), Image.BILINEAR)]
    gen = np.random.default_rng(seed)
    for _ in range(n - 1):
        cw = int(gen.integers(img.width // 3, img.width - 1))
        ch = min(img.height - 1, int(cw * h / w))
        x, y = int(gen.integers(0, img.width - cw)), int(gen.integers(0, img.height - ch))
        views.append(img.crop((x, y, x + cw, y + ch)).resize((w, h), Image.BILINEAR))
    arr = np.stack([np.asarray(v, dtype=np.float32) for v in views]).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(arr))


def recalibrate_batch_norm(net: nn.Module, run, passes: int = 4) -> None:
    """Train-mode passes with plain averaging give BN statistics that keep activations alive."""
    bns = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    net.train()
    with torch.no_grad():
        for _ in range(passes):
            run()
    net.eval()


# --- DeepLab (detectron2) -------------------------------------------------------------------


def deeplab_config(detectron2_src: Path, size: str):
    from detectron2.config import get_cfg
    from detectron2.projects.deeplab import add_deeplab_config

    cfg = get_cfg()
    add_deeplab_config(cfg)
    cfg.merge_from_file(str(detectron2_src / DETECTRON2_CONFIG))
    stem, res2, wpg, aspp, proj = SIZES[size]["deeplab"]
    cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = stem
    cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = res2
    cfg.MODEL.RESNETS.WIDTH_PER_GROUP = wpg
    cfg.MODEL.SEM_SEG_HEAD.ASPP_CHANNELS = aspp
    cfg.MODEL.SEM_SEG_HEAD.CONVS_DIM = aspp
    cfg.MODEL.SEM_SEG_HEAD.PROJECT_CHANNELS = [proj]
    cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES = DEEPLAB_CLASSES
    # What a trained run's dumped config holds instead of the ImageNet-pretrained start.
    cfg.MODEL.WEIGHTS = ""
    cfg.DATASETS.TRAIN = ("dental_pano_train",)
    cfg.DATASETS.TEST = ("dental_pano_val",)
    cfg.MODEL.DEVICE = "cpu"
    return cfg


def make_deeplab(out: Path, detectron2_src: Path, size: str) -> None:
    from detectron2.modeling import build_model

    cfg = deeplab_config(detectron2_src, size)
    torch.manual_seed(1432)
    model = build_model(cfg)
    # SyncBN in train mode needs a process group; the statistics are recalibrated with plain
    # BatchNorm semantics, which is what SyncBN does on one process.
    crops = radiograph_crops((512, 1024), 4, seed=5)

    def run():
        x = (crops - model.pixel_mean) / model.pixel_std
        model.sem_seg_head.layers(model.backbone(x))

    recalibrate_batch_norm(model, run)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(cfg.dump())
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    torch.save({"model": state, "iteration": 89999}, out / "model.pth")
    n = sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k)
    print(f"deeplab ({size}): {n / 1e6:.2f} M parameters -> {out}")


# --- YOLOv8-seg (Ultralytics) ---------------------------------------------------------------


def yolo_train_args(size: str) -> dict:
    from ultralytics.cfg import DEFAULT_CFG_DICT

    args = dict(DEFAULT_CFG_DICT)
    args.update(task="segment", mode="train", model=f"yolov8-seg-{size}.yaml", data="dental-pano.yaml",
                imgsz=YOLO_IMGSZ, epochs=300, batch=16, name="train", save_dir="runs/segment/train")
    return args


def build_yolo(size: str, tmp: Path):
    import ultralytics
    from ultralytics.nn.tasks import SegmentationModel

    depth, width, max_ch = SIZES[size]["yolo"]
    base = Path(ultralytics.__file__).parent / "cfg" / "models" / "v8" / "yolov8-seg.yaml"
    text = base.read_text().replace("nc: 80", f"nc: {len(YOLO_NAMES)}")
    # One scale only: Ultralytics takes the first scale when the file name names none.
    lines, out, skipping = text.splitlines(), [], False
    for line in lines:
        if line.startswith("scales:"):
            out += [line, f"  {size[0]}: [{depth}, {width}, {max_ch}]"]
            skipping = True
            continue
        if skipping and line.startswith("  "):
            continue
        skipping = False
        out.append(line)
    cfg = tmp / f"yolov8-seg-{size}.yaml"
    cfg.write_text("\n".join(out) + "\n")
    torch.manual_seed(1432)
    net = SegmentationModel(str(cfg), nc=len(YOLO_NAMES), verbose=False)
    net.names = {i: n for i, n in enumerate(YOLO_NAMES)}
    return net


def shape_yolo_head(net, crops: torch.Tensor, offsets: torch.Tensor) -> None:
    """Each class logit gets a spread of 1.2 around its offset over the crops' anchors, the mask
    coefficients a unit spread: many classes, distinct scores, partial masks."""
    head = net.model[-1]
    captured = {}
    hooks = [s[-1].register_forward_hook(lambda m, i, o, key=("cls", k): captured.__setitem__(key, i[0])) for k, s in enumerate(head.cv3)]
    hooks += [s[-1].register_forward_hook(lambda m, i, o, key=("mask", k): captured.__setitem__(key, i[0])) for k, s in enumerate(head.cv4)]
    with torch.no_grad():
        net(crops)
    for h in hooks:
        h.remove()
    with torch.no_grad():
        for kind, convs, spread in (("cls", head.cv3, 1.2), ("mask", head.cv4, 1.0)):
            for k, seq in enumerate(convs):
                conv = seq[-1]
                z = F.conv2d(captured[(kind, k)], conv.weight)
                mu, sd = z.mean(dim=(0, 2, 3)), z.std(dim=(0, 2, 3)).clamp_min(1e-6)
                conv.weight.mul_((spread / sd).view(-1, 1, 1, 1))
                target = offsets if kind == "cls" else torch.zeros_like(mu)
                conv.bias.copy_(target - mu * spread / sd)


def save_yolo(net, args: dict, out: Path) -> None:
    """As a finished Ultralytics training run leaves best.pt: the trainer's checkpoint (the EMA
    model in fp16, optimizer state, `train_args`), then Ultralytics' own strip_optimizer."""
    import ultralytics
    from ultralytics.utils import IterableSimpleNamespace
    from ultralytics.utils.torch_utils import strip_optimizer

    ema = copy.deepcopy(net)
    ema.args = IterableSimpleNamespace(**args)  # the trainer sets model.args to its arguments
    optimizer = torch.optim.SGD(ema.parameters(), lr=0.01, momentum=0.937)
    ckpt = {
        "epoch": 299,
        "best_fitness": 0.5,
        "model": None,
        "ema": ema.half(),
        "updates": 30000,
        "optimizer": optimizer.state_dict(),
        "train_args": dict(args),
        "train_metrics": {},
        "train_results": {},
        "date": datetime.datetime(2024, 11, 1).isoformat(),
        "version": ultralytics.__version__,
    }
    torch.save(ckpt, out / "model.pt")
    strip_optimizer(out / "model.pt")


def write_predictor_config(args: dict, out: Path) -> None:
    import yaml

    cfg = dict(args)
    cfg.update(mode="predict")
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def count_detections(out: Path) -> tuple[int, set[str], int]:
    """Detections main.py's InstanceDetectionModule gets on the sample (same overrides)."""
    from ultralytics.models.yolo.segment import SegmentationPredictor

    predictor = SegmentationPredictor(str(out / "config.yaml"), overrides={
        "mode": "predict", "model": str(out / "model.pt"), "batch": 1, "conf": 0.0001, "iou": 0.5,
        "max_det": 500, "retina_masks": True, "show": False, "save": False, "device": "cpu", "verbose": False})
    predictor.args.embed = None
    predictor.setup_model(model=None)
    image = np.asarray(Image.open(SAMPLE).convert("RGB"))
    r = list(predictor(image))[0]
    scores = r.boxes.conf.numpy()
    names = {r.names[int(c)] for c in r.boxes.cls}
    ties = len(scores) - len(np.unique(scores))
    return len(scores), names, ties


def make_yolo(out: Path, size: str, target: int) -> None:
    import tempfile

    out.mkdir(parents=True, exist_ok=True)
    args = yolo_train_args(size)
    write_predictor_config(args, out)
    with tempfile.TemporaryDirectory() as tmp:
        net = build_yolo(size, Path(tmp))
    # Ultralytics feeds /255 floats; the crops are RGB like main.py's array (channel order
    # does not matter for random statistics).
    crops = radiograph_crops((352, 640), 4, seed=3) / 255.0
    recalibrate_batch_norm(net, lambda: net(crops))
    gen = torch.Generator().manual_seed(7)
    base = torch.empty(len(YOLO_NAMES)).uniform_(-2.0, 2.0, generator=gen)
    # Findings somewhat likelier than single teeth, so several finding classes appear.
    base[len(TOOTH_CLASSES):] += 1.0
    pristine = copy.deepcopy(net)
    lo, hi, best = -40.0, 0.0, None
    for _ in range(14):
        shift = (lo + hi) / 2
        net = copy.deepcopy(pristine)
        shape_yolo_head(net, crops, base + shift)
        save_yolo(net, args, out)
        n, names, ties = count_detections(out)
        findings = sorted(names & set(FINDING_CLASSES))
        print(f"  yolo shift {shift:+.3f}: {n} detections, {len(findings)} finding classes, {ties} tied scores")
        if best is None or abs(n - target) < abs(best[1] - target):
            best = (shift, n)
        if abs(n - target) <= target // 4:
            break
        lo, hi = (shift, hi) if n < target else (lo, shift)
    if best[0] != shift:
        net = copy.deepcopy(pristine)
        shape_yolo_head(net, crops, base + best[0])
        save_yolo(net, args, out)
    n, names, ties = count_detections(out)
    params = sum(p.numel() for p in net.parameters())
    print(f"yolo ({size}): {params / 1e6:.2f} M parameters, {n} detections on the sample "
          f"({len(names & set(FINDING_CLASSES))} finding classes, {ties} tied scores) -> {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--detectron2-src", type=Path, default=Path(os.environ.get("DETECTRON2_SRC", ROOT / ".cache" / "detectron2-2a420edb307c9bdf640f036d3b196bed474b8593")))
    ap.add_argument("--target-detections", type=int, default=50)
    ap.add_argument("--only", choices=["yolo", "deeplab"])
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.only in (None, "deeplab"):
        make_deeplab(args.out / "deeplab", args.detectron2_src, args.size)
    if args.only in (None, "yolo"):
        make_yolo(args.out / "yolo", args.size, args.target_detections)


if __name__ == "__main__":
    sys.exit(main())
