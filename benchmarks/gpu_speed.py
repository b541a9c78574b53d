"""Time every release on a GPU (issue 36): 1, 12 and 50 MP photos, fp32/bf16/fp16, tile batches.

A lent GPU comes for minutes, so this is the one prepared script to run there at once:

    run(command="python benchmarks/gpu_speed.py --out $OUT", timeout_s=540)

Each release restores a photo (the shipped example, mirrored out to the size) through the same
``Restorer`` as the CLI, with the release's calibrated statistics passes. Agreement is the PSNR
between the GPU output and the CPU fp32 output of the same 1 MP image: what a user would see change
by moving to the GPU. Sizes are *output* megapixels (an x4 model restores a 12 MP photo from a
0.75 MP input). The table is written after every release, so a run cut short still reports, and a
time budget stops starting new releases. Smoke test without a GPU:

    python benchmarks/gpu_speed.py --device cpu --sizes 0.06 --models denoise-real --precisions fp32 --out /tmp/g
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch

from irestore.engine.restorer import DEFAULT_MEMORY_BUDGET_MB, Restorer
from irestore.errors import IRestoreError
from irestore.models.zoo import load_model, read_manifest

PHOTO = Path(__file__).resolve().parents[1] / "examples" / "coffee.png"
LARGE_BUDGET_MB = 16384
"""A memory budget for whole-image rows: an 80 GB GPU fits a 12 MP image whole."""


@functools.lru_cache(maxsize=4)
def photo(megapixels: float, channels: int) -> np.ndarray:
    """The example photo mirrored out (no seams) to about ``megapixels``, 4:3, float32 in [0, 1]."""
    img = iio.imread(PHOTO)[..., :3].astype(np.float32) / 255
    img = img.mean(axis=2, keepdims=True) if channels == 1 else img
    h = max(16, int(math.sqrt(megapixels * 1e6 * 3 / 4)))
    w = h * 4 // 3
    reps = (-(-h // img.shape[0]), -(-w // img.shape[1]))
    band = np.concatenate([img if j % 2 == 0 else img[:, ::-1] for j in range(reps[1])], axis=1)
    full = np.concatenate([band if i % 2 == 0 else band[::-1] for i in range(reps[0])], axis=0)
    out = np.ascontiguousarray(full[:h, :w])
    out.flags.writeable = False
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return math.inf if mse == 0 else -10 * math.log10(mse)


def timed(restorer: Restorer, img: np.ndarray, device: torch.device) -> tuple[float, float]:
    """Seconds and peak device memory (MB; 0 on the CPU) of one restore."""
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    restorer(img)  # returns a host array, so the device work is done when it returns
    seconds = time.perf_counter() - start
    return seconds, torch.cuda.max_memory_allocated() / 2**20 if cuda else 0.0


def cases(sizes: list[float], precisions: list[str]) -> list[dict]:
    """Every precision at each size; tile batches 1 and 4 and a whole-image budget at the middle size."""
    out = []
    for i, size in enumerate(sizes):
        for precision in precisions:
            out.append({"mp": size, "precision": precision, "batch": 4, "memory_mb": DEFAULT_MEMORY_BUDGET_MB})
            if 0 < i < len(sizes) - 1 or len(sizes) == 1:
                out.append({"mp": size, "precision": precision, "batch": 1, "memory_mb": DEFAULT_MEMORY_BUDGET_MB})
                out.append({"mp": size, "precision": precision, "batch": 4, "memory_mb": LARGE_BUDGET_MB})
    return out


def release_rows(name: str, device: torch.device, sizes: list[float], precisions: list[str]) -> list[dict]:
    loaded = load_model(name)
    passes = loaded.stats_passes if loaded.stats_passes is not None else 2
    channels, scale = loaded.model.config.in_channels, loaded.model.config.scale
    reference_input = photo(1.0 / scale**2, channels)
    cpu = Restorer(loaded.model, tile=0, device="cpu", precision="fp32", stats_passes=passes)
    reference = cpu(reference_input)
    rows = []
    for case in cases(sizes, precisions):
        try:
            restorer = Restorer(loaded.model, device=str(device), precision=case["precision"], stats_passes=passes, batch=case["batch"], memory_mb=case["memory_mb"])
        except IRestoreError as exc:  # a precision this device lacks
            rows.append({"model": name, **case, "error": str(exc)})
            continue
        agreement = psnr(restorer(reference_input), reference)
        img = photo(case["mp"] / scale**2, channels)
        restorer(img[: min(img.shape[0], 512), : min(img.shape[1], 512)])  # warm-up: kernels, allocator
        seconds, peak = timed(restorer, img, device)
        grid = restorer.grid_for(*img.shape[:2])
        out_mp = img.shape[0] * img.shape[1] * scale**2 / 1e6
        rows.append({
            "model": name, **case, "input_mp": round(img.shape[0] * img.shape[1] / 1e6, 2), "output_mp": round(out_mp, 2),
            "tiles": f"{len(grid)} x {grid.tile_size[0]}x{grid.tile_size[1]}", "passes": passes, "seconds": round(seconds, 3),
            "mp_per_s": round(out_mp / seconds, 2), "peak_mb": round(peak), "agreement_db": round(agreement, 1),
        })
        print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown(rows: list[dict], device_name: str) -> str:
    lines = [
        (
            f"GPU timing, {device_name}, torch {torch.__version__} (`python benchmarks/gpu_speed.py`). MP/s of output; "
            "agreement: PSNR against the CPU fp32 output of the same 1 MP image."
        ),
        "",
        "| model | out MP | precision | tile batch | budget MB | tiles | passes | s | MP/s | peak GPU MB | agreement dB |",
        "|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['mp']} | {r['precision']} | {r['batch']} | {r['memory_mb']} | {r['error']} | | | | | |")
            continue
        lines.append(
            f"| {r['model']} | {r['output_mp']} | {r['precision']} | {r['batch']} | {r['memory_mb']} | {r['tiles']} | {r['passes']} | "
            f"{r['seconds']} | {r['mp_per_s']} | {r['peak_mb']} | {r['agreement_db']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--models", default="", help="comma-separated release names (default: every release)")
    parser.add_argument("--sizes", default="1,12,50", help="output megapixels")
    parser.add_argument("--precisions", default="fp32,bf16,fp16")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds after which no new release starts")
    args = parser.parse_args()
    device = torch.device(args.device)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    names = [n for n in args.models.split(",") if n] or sorted(read_manifest()["models"])
    sizes = [float(s) for s in args.sizes.split(",")]
    precisions = [p for p in args.precisions.split(",") if p]
    args.out.mkdir(parents=True, exist_ok=True)
    start, rows = time.monotonic(), []
    for name in names:
        if time.monotonic() - start > args.budget:
            print(f"budget spent: {name} and later not timed", flush=True)
            break
        rows += release_rows(name, device, sizes, precisions)
        (args.out / "gpu_speed.json").write_text(json.dumps(rows, indent=1))
        (args.out / "gpu_speed.md").write_text(markdown(rows, device_name))
    print(markdown(rows, device_name))


if __name__ == "__main__":
    main()
