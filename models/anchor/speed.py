"""Both stacks on the same full-size weights, images and machine, back to back.

    .cache/anchor-venv/bin/python models/anchor/speed.py --anchor-src PATH/dental-pano-ai \
        [--pair .cache/anchor-models/full] [--pack .cache/anchor-models/full-pack] [--images 20]

PAIR is a models.tar.gz-layout folder (`make_checkpoints.py --size full` makes the full-size
random-weight one), PACK the exporter's ONNX pack of it (`export_real_models.py`); both are made
first when missing. What runs:

- the anchor: its own main.py code, imported from PATH (never copied here) and run as main.py
  runs, once over all images in one process (models loaded once), with timers wrapped around
  its three modules (SemanticSegmentationModule, InstanceDetectionModule,
  PostProcessingModule); decode and CSV writing are the rest of each image's time;
- Pano: `pano analyze` over the same images in one process (models loaded once, a fresh data
  folder, so nothing is reused), the product's path: SQLite, the CSV, and also the geometry
  and the two debug images it files with every analysis, which main.py (debug off) does not
  make; and the pipeline benchmark on the sample for Pano's per-stage times;
- each model's GFLOPs at the sample's input shapes (Conv, ConvTranspose, MatMul, Gemm counted
  from the ONNX graphs), the achieved GFLOP/s of each ONNX run, and the machine's measured
  fp32 peak (NumPy's OpenBLAS matmul, 2048 x 2048, on all cores).

Prints a Markdown table (docs/benchmarks.md keeps it) and the agreement of the two stacks' CSVs
on every image (they must agree: the same weights).
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "pan-01432.jpg"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def make_batch(out: Path, count: int) -> list[Path]:
    """`count` distinct radiographs from the sample: the sample, its mirror image, crops of
    several sizes and places, rescaled copies and a greyscale one (JPEG, quality 95)."""
    from PIL import Image, ImageOps

    img = Image.open(SAMPLE).convert("RGB")
    w, h = img.size
    variants = [img, ImageOps.mirror(img), ImageOps.grayscale(img).convert("RGB")]
    for scale in (0.6, 0.75, 0.9, 1.2):
        variants.append(img.resize((round(w * scale), round(h * scale)), Image.BILINEAR))
    for fx, fy, fw, fh in [(0, 0, 0.8, 0.9), (0.2, 0.1, 0.8, 0.9), (0.1, 0, 0.7, 1.0),
                           (0, 0.1, 0.9, 0.8), (0.3, 0, 0.6, 1.0), (0.05, 0.05, 0.9, 0.9),
                           (0.15, 0.2, 0.7, 0.75), (0, 0, 0.5, 1.0), (0.5, 0, 0.5, 1.0),
                           (0.25, 0.05, 0.5, 0.9), (0.1, 0.15, 0.85, 0.8), (0.02, 0, 0.96, 0.95),
                           (0.2, 0.2, 0.6, 0.6)]:
        variants.append(img.crop((round(fx * w), round(fy * h), round((fx + fw) * w), round((fy + fh) * h))))
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, v in enumerate(variants[:count]):
        p = out / f"pan-{i:02d}.jpg"
        v.save(p, quality=95)
        paths.append(p)
    if len(paths) < count:
        raise SystemExit(f"only {len(paths)} variants; ask for fewer images")
    return paths


def anchor_worker(anchor_src: Path, pair: Path, images: list[Path], out: Path) -> dict:
    """Runs in its own process: main.py's main() over the images, timed around its modules."""
    from parity import load_anchor

    t_start = time.perf_counter()
    anchor = load_anchor(anchor_src)
    current: dict[str, float] = {}
    per_image: list[dict] = []
    marks = {"ready": None, "last": None}

    def timed(cls, name):
        original = cls.__call__

        def call(self, *a, **k):
            t = time.perf_counter()
            try:
                return original(self, *a, **k)
            finally:
                current[name] = time.perf_counter() - t
        cls.__call__ = call

    for cls, name in [(anchor.SemanticSegmentationModule, "segmentation"),
                      (anchor.InstanceDetectionModule, "detection"),
                      (anchor.PostProcessingModule, "postprocess")]:
        timed(cls, name)
    post_init = anchor.PostProcessingModule.__init__

    def ready(self, *a, **k):
        post_init(self, *a, **k)
        marks["ready"] = marks["last"] = time.perf_counter()
    anchor.PostProcessingModule.__init__ = ready
    to_csv = anchor.FindingAssessment.to_csv

    def written(self, *a, **k):
        to_csv(self, *a, **k)
        now = time.perf_counter()
        entry = dict(current)
        entry["total"] = now - marks["last"]
        entry["decode and CSV"] = entry["total"] - sum(current.values())
        per_image.append(entry)
        current.clear()
        marks["last"] = now
    anchor.FindingAssessment.to_csv = written

    staged = out / "in"
    staged.mkdir(parents=True)
    for p in images:
        (staged / p.name).symlink_to(p)
    anchor.FLAGS([
        "main.py", "--input", str(staged / "*"), "--output", str(out / "results"),
        "--deeplab_config", str(pair / "deeplab" / "config.yaml"),
        "--deeplab_weights", str(pair / "deeplab" / "model.pth"),
        "--yolo_config", str(pair / "yolo" / "config.yaml"),
        "--yolo_weights", str(pair / "yolo" / "model.pt"),
    ])
    anchor.main(None)
    t_end = time.perf_counter()
    return {
        "load_s": marks["ready"] - t_start,
        "batch_s": t_end - t_start,
        "images": per_image,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_measured(cmd: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float, float]:
    """Runs `cmd` in a fresh Python parent, so that its peak RSS is its own."""
    wrapper = ("import resource, subprocess, sys, time, json\n"
               "t = time.perf_counter()\n"
               "r = subprocess.run(sys.argv[1:])\n"
               "print(json.dumps({'rc': r.returncode, 'wall': time.perf_counter() - t, "
               "'rss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, **kwargs)
    stats = json.loads(proc.stderr.strip().splitlines()[-1])
    if stats["rc"] != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc, stats["wall"], stats["rss"]


def pano_batch(pack: Path, images: list[Path], out: Path) -> dict:
    pano = ROOT / "target" / "release" / "pano"
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "pano-cli"], cwd=ROOT, check=True)
    data = out / "data"
    proc, wall, rss = run_measured([str(pano), "--data-dir", str(data), "analyze", *map(str, images),
                                    "--models", str(pack), "--backend", "local", "--provider", "cpu",
                                    "--out", str(out / "results"),
                                    "--json"], cwd=ROOT)
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    return {"batch_s": wall, "peak_rss_mb": rss, "run_ms": [l["run_ms"] for l in lines],
            "results": out / "results"}


def pano_stages(pack: Path) -> dict:
    """The pipeline benchmark on the sample: Pano's per-stage times (median of 3 runs)."""
    # The release profile: the same build as `pano` above (the bench profile would be a
    # second full build of every dependency).
    proc = subprocess.run(["cargo", "bench", "-q", "--locked", "--profile", "release", "-p", "pano-engine",
                           "--bench", "pipeline", "--",
                           str(SAMPLE), "--models", str(pack), "--runs", "3"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    stages = {}
    for line in proc.stdout.splitlines():
        parts = line.strip().rsplit(None, 2)
        if len(parts) == 3 and parts[2] in ("ms", "MB"):
            try:
                stages[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return stages


def onnx_gflops(path: Path, shape: list[int]) -> float:
    """Multiply-adds x 2 of the convolutions and matrix products at the given input shape."""
    import numpy as np
    import onnx
    from onnx import shape_inference

    model = onnx.load(str(path))
    graph = model.graph
    inp = graph.input[0]
    for dim, v in zip(inp.type.tensor_type.shape.dim, shape):
        dim.ClearField("dim_param")
        dim.dim_value = v
    model = shape_inference.infer_shapes(model, data_prop=True)
    shapes = {}
    for vi in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        shapes[vi.name] = dims
    inits = {i.name: list(i.dims) for i in model.graph.initializer}
    flops = 0.0
    for node in model.graph.node:
        if node.op_type in ("Conv", "ConvTranspose"):
            w = inits.get(node.input[1])
            out = shapes.get(node.output[0])
            x = shapes.get(node.input[0])
            if not w or not out or 0 in out or not x:
                raise SystemExit(f"{path.name}: no shape for {node.name}")
            if node.op_type == "Conv":
                # w: [Cout, Cin/groups, kh, kw]; each output element costs Cin/groups*kh*kw MACs.
                flops += 2 * float(np.prod(out)) * float(np.prod(w[1:]))
            else:
                # w: [Cin, Cout/groups, kh, kw]; each input element spreads to Cout/groups*kh*kw.
                flops += 2 * float(np.prod(x)) * float(np.prod(w[1:]))
        elif node.op_type in ("MatMul", "Gemm"):
            a = shapes.get(node.input[0]) or inits.get(node.input[0])
            out = shapes.get(node.output[0])
            if a and out:
                flops += 2 * float(np.prod(out)) * a[-1]
    return flops / 1e9


def machine_peak_gflops() -> float:
    import numpy as np

    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def csv_agreement(ours: Path, theirs: Path, stems: list[str]) -> float:
    import csv

    worst = 0.0
    for stem in stems:
        def read(p):
            with open(p) as f:
                return {(r["fdi"], r["finding"]): float(r["score"]) for r in csv.DictReader(f)}
        a, b = read(ours / f"{stem}.csv"), read(theirs / f"{stem}.csv")
        if a.keys() != b.keys():
            raise SystemExit(f"{stem}: the CSVs hold different entries")
        worst = max(worst, max(abs(a[k] - b[k]) for k in a))
    return worst


def median(values):
    v = sorted(values)
    return v[len(v) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--anchor-src", type=Path, required=True)
    ap.add_argument("--pair", type=Path, default=ROOT / ".cache" / "anchor-models" / "full")
    ap.add_argument("--pack", type=Path, default=ROOT / ".cache" / "anchor-models" / "full-pack")
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--int8-pack", type=Path, help="also run Pano's batch on this INT8 pack (quantize_pack.py)")
    ap.add_argument("--worker", nargs=3, metavar=("PAIR", "LIST", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.anchor_src = args.anchor_src.resolve()
    if args.worker:
        pair, listing, out = (Path(p) for p in args.worker)
        images = [Path(l) for l in listing.read_text().split("\n") if l]
        print(json.dumps(anchor_worker(args.anchor_src, pair, images, out)))
        return
    pair, pack = args.pair.resolve(), args.pack.resolve()
    if not (pair / "yolo" / "model.pt").exists():
        subprocess.run([sys.executable, str(ROOT / "models/anchor/make_checkpoints.py"), "--size", "full",
                        "--out", str(pair)], check=True)
    if not (pack / "manifest.json").exists():
        subprocess.run([sys.executable, str(ROOT / "models/scripts/export_real_models.py"), "--reference-models",
                        str(pair), "--out", str(pack), "--model-version", "anchor-format-full-random-1",
                        "--test-model", "Random-weight full-size models: results are not for diagnosis."],
                       check=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        images = make_batch(tmp / "images", args.images)
        listing = tmp / "images.txt"
        listing.write_text("\n".join(str(p) for p in images) + "\n")
        (tmp / "anchor").mkdir()
        env = dict(os.environ, YOLO_CONFIG_DIR=str(tmp / "yolo-config"))
        proc, anchor_wall, anchor_rss = run_measured(
            [sys.executable, __file__, "--anchor-src", str(args.anchor_src), "--worker", str(pair), str(listing),
             str(tmp / "anchor")], env=env)
        anchor = json.loads(proc.stdout.strip().splitlines()[-1])
        pano = pano_batch(pack, images, tmp / "pano")
        stems = [p.stem for p in images]
        agreement = csv_agreement(pano["results"], tmp / "anchor" / "results", stems)
        int8 = None
        if args.int8_pack:
            int8 = pano_batch(args.int8_pack.resolve(), images, tmp / "pano-int8")
            int8["agreement"] = csv_agreement(int8["results"], pano["results"], stems)
    stages = pano_stages(pack)
    manifest = json.loads((pack / "manifest.json").read_text())
    seg_gflops = onnx_gflops(pack / manifest["segmentation"]["file"], [1, 3, 1024, 1867])
    det_gflops = onnx_gflops(pack / manifest["detection"]["file"], [1, 3, 352, 640])
    peak = machine_peak_gflops()

    a_img = anchor["images"]
    n = len(images)
    first = a_img[0]  # the sample is image 0
    a_total = median([i["total"] for i in a_img])
    p_total = median(pano["run_ms"]) / 1000
    print(f"\n{n} images from the sample, this machine ({os.cpu_count()} cores); "
          f"full-size random-weight checkpoints ({pair}), Pano on their ONNX pack ({pack})\n")
    print("| measure | anchor (main.py) | Pano | Pano's advantage |")
    print("|---|---:|---:|---:|")
    rows = [
        ("model load (s)", anchor["load_s"], None),
        ("sample: segmentation (s)", first["segmentation"],
         (stages.get("segmentation pre-processing", 0) + stages.get("segmentation run (ONNX)", 0)) / 1000),
        ("sample: detection (s)", first["detection"],
         (stages.get("YOLO pre-processing", 0) + stages.get("YOLO run (ONNX)", 0)
          + stages.get("decoding + NMS + masks", 0)) / 1000),
        ("sample: post-processing (s)", first["postprocess"],
         (stages.get("post-processing + class map", 0) + stages.get("geometry (polygons)", 0)) / 1000),
        ("sample: decode and the rest (s)", first["decode and CSV"],
         (stages.get("decode", 0) + stages.get("debug rendering", 0)) / 1000),
        ("sample: end to end (s)", first["total"], stages.get("total (decode to debug images)", 0) / 1000),
        (f"per image, median of {n} (s)", a_total, p_total),
        (f"batch of {n}, wall incl. load (s)", anchor_wall, pano["batch_s"]),
        ("throughput (images/min, incl. load)", 60 * n / anchor_wall, 60 * n / pano["batch_s"]),
        ("peak RSS (MB)", anchor_rss, pano["peak_rss_mb"]),
    ]
    for name, a, p in rows:
        if p is None:
            print(f"| {name} | {a:.2f} | - | - |")
        elif "throughput" in name:
            print(f"| {name} | {a:.2f} | {p:.2f} | {p / a:.1f}x |")
        else:
            print(f"| {name} | {a:.2f} | {p:.2f} | {a / p:.1f}x |")
    seg_s = stages.get("segmentation run (ONNX)", float("nan")) / 1000
    det_s = stages.get("YOLO run (ONNX)", float("nan")) / 1000
    print(f"\nDeepLab {seg_gflops:.0f} GFLOPs at 1024x1867: {seg_gflops / seg_s:.1f} GFLOP/s in Pano's run "
          f"({100 * seg_gflops / seg_s / peak:.0f} % of peak); YOLO {det_gflops:.0f} GFLOPs at 640x352: "
          f"{det_gflops / det_s:.1f} GFLOP/s ({100 * det_gflops / det_s / peak:.0f} % of peak); machine peak "
          f"(OpenBLAS sgemm 2048, all cores) {peak:.1f} GFLOP/s")
    print(f"The two stacks' CSVs agree to {agreement:.2e} on all {n} images.")
    if int8:
        i_total = median(int8["run_ms"]) / 1000
        print(f"\nOptional INT8 pack ({args.int8_pack}), same {n} images: per image (median) {i_total:.2f} s "
              f"({a_total / i_total:.1f}x the anchor), batch {int8['batch_s']:.1f} s ({anchor_wall / int8['batch_s']:.1f}x), "
              f"peak RSS {int8['peak_rss_mb']:.0f} MB ({anchor_rss / int8['peak_rss_mb']:.1f}x less); its CSVs differ "
              f"from the fp32 pack's by up to {int8['agreement']:.2e}")
    print("Pano's times include the geometry and the two debug images it files with every analysis; "
          "main.py (debug off) makes neither.")


if __name__ == "__main__":
    main()
