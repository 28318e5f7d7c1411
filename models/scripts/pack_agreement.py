"""How far a faster model pack's results are from the fp32 pack's, on the parity images.

    python3 models/scripts/pack_agreement.py --fp32 PACK --candidate PACK [--provider cpu|cuda]
        [--threshold 0.5] [IMAGE ...]

Runs `pano analyze` (release build) with each pack over the same images (default: the sample
and tests/parity/images) and compares the CSVs: the largest |score difference| per image and
overall, and the (tooth, finding) decisions that change at the threshold (the app's default,
0.5: a score at or above it counts as present). Prints a Markdown table. The rule the issue
sets: a faster pack may become the default only with every difference within 1e-2 and no
decision changed.
"""
import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def analyze(pack: Path, images: list[Path], out: Path, provider: str) -> float:
    pano = ROOT / "target" / "release" / "pano"
    t = time.perf_counter()
    subprocess.run([str(pano), "--data-dir", str(out / "data"), "analyze", *map(str, images), "--models", str(pack),
                    "--backend", "local", "--provider", provider, "--out", str(out / "results"), "--json"],
                   check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t


def scores(path: Path) -> dict:
    with open(path) as f:
        return {(r["fdi"], r["finding"]): float(r["score"]) for r in csv.DictReader(f)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fp32", type=Path, required=True)
    ap.add_argument("--candidate", type=Path, required=True)
    ap.add_argument("--provider", default="cpu")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("images", type=Path, nargs="*")
    args = ap.parse_args()
    images = args.images or [ROOT / "tests/data/pan-01432.jpg", *sorted((ROOT / "tests/parity/images").iterdir())]
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "pano-cli"], cwd=ROOT, check=True)
    candidate = json.loads((args.candidate / "manifest.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wall_ref = analyze(args.fp32, images, tmp / "fp32", args.provider)
        wall_cand = analyze(args.candidate, images, tmp / "candidate", args.provider)
        print(f"\n{candidate.get('precision', 'fp32')} pack ({candidate['model_version']}) against fp32, "
              f"{args.provider}, threshold {args.threshold}\n")
        print("| image | max abs score diff | decisions changed (of 256) |")
        print("|---|---:|---:|")
        worst, changed_total = 0.0, 0
        for image in images:
            a = scores(tmp / "fp32" / "results" / f"{image.stem}.csv")
            b = scores(tmp / "candidate" / "results" / f"{image.stem}.csv")
            if a.keys() != b.keys():
                raise SystemExit(f"{image.name}: the CSVs hold different entries")
            diff = max(abs(a[k] - b[k]) for k in a)
            changed = sum((a[k] >= args.threshold) != (b[k] >= args.threshold) for k in a)
            worst, changed_total = max(worst, diff), changed_total + changed
            print(f"| {image.name} | {diff:.2e} | {changed} |")
        print(f"| all {len(images)} | {worst:.2e} | {changed_total} |")
        print(f"\nbatch wall (incl. load): fp32 {wall_ref:.1f} s, candidate {wall_cand:.1f} s "
              f"({wall_ref / wall_cand:.2f}x)")
        verdict = worst <= 1e-2 and changed_total == 0
        print("may be the default (within 1e-2, no decision changed): " + ("yes" if verdict else "no"))


if __name__ == "__main__":
    sys.exit(main())
