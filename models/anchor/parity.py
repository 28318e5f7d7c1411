"""The anchor's own outputs on the parity images, for the engine's parity tests.

    .cache/anchor-venv/bin/python models/anchor/parity.py --anchor-src PATH/dental-pano-ai \
        --pair models/anchor/narrow --out tests/parity/narrow

PATH/dental-pano-ai is a checkout of github.com/stmharry/dental-pano-ai (read from there,
never copied here). For each parity image it writes into OUT:
- `<stem>.csv`: what the anchor's main.py writes, run unmodified as a program on the pair's
  checkpoints (`--deeplab_config PAIR/deeplab/config.yaml ...`);
- `<stem>.detections.json.gz`: the detections of the anchor's InstanceDetectionModule (the
  class main.py uses, imported from its main.py): class, score, float box, integer box and the
  mask cropped to it, bit-packed; the float box comes from the Ultralytics results it wraps.

The parity images are made first (`make_images`, deterministic, from the sample) into
tests/parity/images/. Deliberate differences are handled here, not hidden: main.py opens
files with PIL without EXIF orientation and converts 16-bit greyscale to RGB by clipping at
255 (a 16-bit radiograph turns white); Pano scales 16-bit samples to 8 bits (v * 255 / 65535,
rounded). For the 16-bit PNG the anchor is therefore run on an 8-bit PNG holding exactly the
pixels Pano decodes, and the parity test pins that Pano's decode of the 16-bit file gives the
anchor's outputs on those pixels.
"""
import argparse
import gzip
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "pan-01432.jpg"
IMAGES = ROOT / "tests" / "parity" / "images"
# stem -> file, in table order. The sample and the small PNGs are the committed test images.
PARITY_IMAGES = {
    "pan-01432": SAMPLE,
    "portrait": IMAGES / "portrait.jpg",
    "max-size": IMAGES / "max-size.jpg",
    "small": ROOT / "tests" / "data" / "pan-small-wide.png",
    "grayscale": IMAGES / "grayscale.jpg",
    "sixteen-bit": IMAGES / "sixteen-bit.png",
}


def make_images() -> None:
    """The parity images that are not already test data, from the sample."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    img = Image.open(SAMPLE).convert("RGB")
    # Portrait: the front teeth, taller than wide.
    img.crop((760, 0, 1560, 1292)).save(IMAGES / "portrait.jpg", quality=95)
    # Wide enough that resizing the short edge to 1024 makes the long edge pass max_size 2048.
    img.crop((0, 150, 2356, 1150)).save(IMAGES / "max-size.jpg", quality=95)
    grey = img.convert("L")
    grey.resize((1400, 768), Image.BILINEAR).save(IMAGES / "grayscale.jpg", quality=95)
    # 16-bit: the sample's grey values spread over 16 bits with deterministic low bits.
    small = np.asarray(grey.resize((900, 494), Image.BILINEAR), dtype=np.uint32)
    low = np.random.default_rng(16).integers(0, 257, size=small.shape, dtype=np.uint32)
    sixteen = np.minimum(small * 257 + low, 65535).astype(np.uint16)
    Image.fromarray(sixteen, mode="I;16").save(IMAGES / "sixteen-bit.png")


def as_pano_decodes(path: Path, tmp: Path) -> Path:
    """The file main.py is given: the image itself, or for 16-bit PNGs an 8-bit PNG holding
    the pixels Pano decodes (the image crate's 16 -> 8 bit: (v * 255 + 32895) >> 16)."""
    with Image.open(path) as im:
        if im.mode not in ("I;16", "I;16B", "I"):
            return path
        v = np.asarray(im, dtype=np.uint32)
    eight = ((v * 255 + 32895) >> 16).astype(np.uint8)
    out = tmp / f"{path.stem}.png"
    Image.fromarray(eight, mode="L").save(out)
    return out


def load_anchor(anchor_src: Path):
    spec = importlib.util.spec_from_file_location("anchor_main", anchor_src / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dump_detections(anchor, pair: Path, inputs: dict[str, Path], out: Path) -> None:
    module = anchor.InstanceDetectionModule(
        config_path=str(pair / "yolo" / "config.yaml"), weights_path=str(pair / "yolo" / "model.pt"))
    for stem, path in inputs.items():
        image = np.asarray(Image.open(path).convert("RGB"))  # as main.py reads it
        results = list(module.predictor(image))[0]
        pred = anchor.InstanceDetectionPrediction.from_ultralytics_results(results)
        rows = []
        for inst, box in zip(pred.instances, results.boxes.xyxy.numpy()):
            xb, yb, xe, ye = (int(v) for v in inst.bbox_xyxy)
            crop = inst.mask[yb:ye + 1, xb:xe + 1]
            rows.append({
                "class_name": inst.category_name,
                "score": float(inst.score),
                "box": [float(v) for v in box],
                "mask_box": [xb, yb, xe, ye],
                "mask_area": int(crop.sum()),
                "mask_bits": np.packbits(crop.reshape(-1)).tobytes().hex(),
            })
        with gzip.open(out / f"{stem}.detections.json.gz", "wt") as f:
            f.write(json.dumps(rows) + "\n")
        print(f"{stem}: {len(rows)} detections (image {results.orig_shape[1]}x{results.orig_shape[0]})")


def run_main_py(anchor_src: Path, pair: Path, inputs: dict[str, Path], out: Path, tmp: Path) -> None:
    """main.py, unmodified, as a program: one run over all images (it names CSVs by stem)."""
    staged = tmp / "in"
    staged.mkdir()
    for stem, path in inputs.items():
        (staged / f"{stem}{path.suffix}").symlink_to(path.resolve())
    results = tmp / "results"
    cmd = [sys.executable, str(anchor_src / "main.py"), "--input", str(staged / "*"), "--output", str(results),
           "--deeplab_config", str((pair / "deeplab" / "config.yaml").resolve()),
           "--deeplab_weights", str((pair / "deeplab" / "model.pth").resolve()),
           "--yolo_config", str((pair / "yolo" / "config.yaml").resolve()),
           "--yolo_weights", str((pair / "yolo" / "model.pt").resolve())]
    subprocess.run(cmd, cwd=anchor_src, check=True)
    for stem in inputs:
        (out / f"{stem}.csv").write_bytes((results / f"{stem}.csv").read_bytes())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--anchor-src", type=Path, required=True, help="a checkout of stmharry/dental-pano-ai")
    ap.add_argument("--pair", type=Path, required=True, help="deeplab/ and yolo/ in the models.tar.gz layout")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--only", nargs="*", help="stems to run (default: all)")
    args = ap.parse_args()
    args.anchor_src = args.anchor_src.resolve()  # main.py runs with it as working directory
    if not (args.anchor_src / "main.py").is_file():
        raise SystemExit(f"{args.anchor_src}/main.py not found")
    make_images()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        stems = args.only or list(PARITY_IMAGES)
        inputs = {s: as_pano_decodes(PARITY_IMAGES[s], tmp) for s in stems}
        run_main_py(args.anchor_src, args.pair, inputs, args.out, tmp)
        sys.path.insert(0, str(args.anchor_src))
        anchor = load_anchor(args.anchor_src)
        dump_detections(anchor, args.pair, inputs, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
