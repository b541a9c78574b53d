"""Throughput and peak memory of the engine, measured as a user runs it: one fresh process per case.

Peak resident memory only means something per process (freed memory is kept for reuse, see
:mod:`irestore.engine.allocator`), so every case runs in its own ``python -m
irestore.engine.benchmark CASE`` child that prints one JSON line. Each child also times a plain
3x3 convolution at the same thread count and precision: the model's achieved GFLOP/s next to what
a compute-bound convolution reaches says how far a memory-bound small-channel net is from the
arithmetic limit. The machine is shared, so every row records the load average and CPU seconds.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from irestore.engine.device import autocast, check_precision
from irestore.engine.restorer import DEFAULT_MEMORY_BUDGET_MB, Restorer
from irestore.errors import IRestoreError

SIZES_MP = (0.25, 1.0, 4.0, 16.0)
BACKENDS = ("torch", "onnxruntime")
CONFIG_PREFIX = "config:"
RELEASE_ARCHITECTURE = CONFIG_PREFIX + "small,norm=ln"
"""The architecture of the release configs (configs/*.toml), for when no weights are shipped yet."""


@dataclass(frozen=True)
class Case:
    """One measurement. ``model``: ``config:NAME[,key=value...]`` (random init), a release name, or a checkpoint path."""

    model: str
    megapixels: float
    threads: int
    ensemble: bool = False
    backend: str = "torch"
    precision: str = "fp32"
    tile: int | None = None
    stats_passes: int | None = None  # None: the release's calibrated number, as the CLI runs it
    repeat: int = 1
    memory_mb: float = DEFAULT_MEMORY_BUDGET_MB


def image_shape(megapixels: float) -> tuple[int, int]:
    """A 4:3 landscape image of about ``megapixels`` (height, width)."""
    width = round(math.sqrt(megapixels * 1e6 * 4 / 3))
    return round(width * 3 / 4), width


def load(spec: str) -> nn.Module:
    """``config:NAME[,key=value...]`` builds a registry config with random weights (speed does not
    depend on them); anything else is a release name or checkpoint path."""
    if spec.startswith(CONFIG_PREFIX):
        from irestore.models import build_model

        name, *pairs = spec[len(CONFIG_PREFIX) :].split(",")
        overrides = {key: _value(text) for key, text in (pair.split("=", 1) for pair in pairs if "=" in pair)}
        if len(overrides) != len(pairs):
            raise IRestoreError(f"{spec!r}: write overrides as key=value, e.g. config:small,norm=ln")
        torch.manual_seed(0)
        return build_model(name, **overrides)
    from irestore.models.zoo import load_model

    return load_model(spec).model


def _release_entry(spec: str) -> dict:
    """The manifest record of a release name; empty for configs, checkpoint files and unknown names."""
    from irestore.models.zoo import manifest_entry

    if spec.startswith(CONFIG_PREFIX) or spec.endswith(".safetensors"):
        return {}
    return manifest_entry(spec) or {}


def calibrated_passes(spec: str) -> int:
    """The statistics passes the CLI runs ``spec`` with: a release's calibrated number, else exact."""
    from irestore.engine.calibrate import EXACT_PASSES

    passes = _release_entry(spec).get("tiling", {}).get("stats_passes")
    return EXACT_PASSES if passes is None else int(passes)


def calibrated_stream(spec: str) -> bool:
    """Whether the CLI runs ``spec`` with a low-precision stream: a release's calibrated choice, else not."""
    from irestore.models.zoo import low_precision_stream

    return low_precision_stream(_release_entry(spec))


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run_case(case: Case) -> dict:
    """Measure ``case`` in this process (the child side of :func:`measure`)."""
    torch.set_num_threads(case.threads)
    model = load(case.model)
    h, w = image_shape(case.megapixels)
    img = np.random.default_rng(0).random((h, w, model.config.in_channels), dtype=np.float32)
    restorer, plan = _restorer(case, model, h, w)
    restorer(img[: 4 * model.config.multiple, : 4 * model.config.multiple])
    walls, cpus = [], []
    for _ in range(case.repeat):
        before, start = time.process_time(), time.perf_counter()
        restorer(img)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - before)
    seconds = statistics.median(walls)
    return {
        **asdict(case),
        **plan,
        "height": h,
        "width": w,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(statistics.median(cpus), 3),
        "mp_per_s": round(h * w / 1e6 / seconds, 3),
        "conv2d_gflops": round(conv2d_gflops(case.precision), 1),
        "peak_rss_mb": _peak_rss_mb(),
        "image_mb": round(img.nbytes * (1 + model.config.scale**2) / 2**20),
    }


def _restorer(case: Case, model: nn.Module, h: int, w: int):
    if case.backend == "torch":
        stats_passes = calibrated_passes(case.model) if case.stats_passes is None else case.stats_passes
        restorer = Restorer(
            model, tile=case.tile, ensemble=case.ensemble, precision=case.precision, stats_passes=stats_passes, memory_mb=case.memory_mb,
            low_precision_stream=calibrated_stream(case.model),
        )
        grid = restorer.grid_for(h, w)
        passes = 1 + (stats_passes if len(grid) > 1 else 0)
        return restorer, {"tiles": len(grid), "tile_size": list(grid.tile_size), "passes": passes}
    if case.backend == "onnxruntime":
        return _onnx_restorer(case, model, h, w), {"tiles": 1, "tile_size": [h, w], "passes": 1}
    raise IRestoreError(f"unknown backend {case.backend!r}; choose one of {', '.join(BACKENDS)}")


def _onnx_restorer(case: Case, model: nn.Module, h: int, w: int):
    from irestore.export.onnx import OnnxRestorer, export_onnx

    if case.ensemble or case.precision != "fp32":
        raise IRestoreError("onnxruntime rows are fp32 without --ensemble")
    if len(Restorer(model, memory_mb=case.memory_mb).grid_for(h, w)) > 1:
        raise IRestoreError("the whole image does not fit --memory-mb; onnxruntime has no tiling with whole-image statistics")
    with tempfile.TemporaryDirectory(prefix="irestore-bench-") as folder:
        path = export_onnx(model, Path(folder) / "model.onnx")
        return OnnxRestorer(path, model.config, threads=case.threads)


def _peak_rss_mb() -> int | None:
    """The process's peak resident set (Linux reports kB, macOS bytes); None where unknown."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 1024))


def conv2d_gflops(precision: str = "fp32", channels: int = 64, side: int = 256, repeat: int = 5) -> float:
    """GFLOP/s of a compute-bound 3x3 convolution (channels-last) at the current thread count."""
    dtype = check_precision(precision, torch.device("cpu"))
    x = torch.rand(1, channels, side, side).contiguous(memory_format=torch.channels_last)
    weight = torch.rand(channels, channels, 3, 3).contiguous(memory_format=torch.channels_last)
    flops = 2 * channels * channels * 9 * side * side
    times = []
    with torch.inference_mode(), autocast(torch.device("cpu"), dtype):
        F.conv2d(x, weight, padding=1)
        for _ in range(repeat):
            start = time.perf_counter()
            F.conv2d(x, weight, padding=1)
            times.append(time.perf_counter() - start)
    return flops / min(times) / 1e9


def measure(case: Case, timeout: float | None = None) -> dict:
    """Run ``case`` in a fresh interpreter; the row carries ``error`` when it failed."""
    load_before = os.getloadavg()[0]
    cmd = [sys.executable, "-m", "irestore.engine.benchmark", json.dumps(asdict(case))]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**asdict(case), "error": f"timed out after {timeout:.0f} s", "load": round(load_before, 2)}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {**asdict(case), "error": last, "load": round(load_before, 2)}
    return {**asdict(case), **json.loads(lines[-1]), "load": round(max(load_before, os.getloadavg()[0]), 2)}


def run_bench(cases: list[Case], *, timeout: float | None = None, progress: Callable[[int, Case], None] | None = None) -> list[dict]:
    """Measure every case in its own process; add the model's achieved GFLOP/s to each row.

    FLOPs are the useful work (:func:`gflops_per_megapixel` times the pixels, times 8 for the
    ensemble), counted once per model here: statistics passes and tile overlaps are overhead.
    """
    from irestore.models.complexity import gflops_per_megapixel

    per_mp = {spec: gflops_per_megapixel(load(spec)) for spec in dict.fromkeys(c.model for c in cases)}
    rows = []
    for n, case in enumerate(cases):
        if progress is not None:
            progress(n, case)
        row = measure(case, timeout=timeout)
        if "error" not in row:
            views = 8 if case.ensemble else 1
            row["gflops"] = round(per_mp[case.model] * row["height"] * row["width"] / 1e6 * views / row["seconds"], 1)
        rows.append(row)
    return rows


def plan_cases(
    models: list[str],
    *,
    sizes: tuple[float, ...] = SIZES_MP,
    threads: tuple[int, ...] = (1, 2),
    ensembles: tuple[bool, ...] = (False, True),
    backends: tuple[str, ...] = BACKENDS,
    precisions: tuple[str, ...] = ("fp32",),
    tiles: tuple[int | None, ...] = (None,),
    passes: tuple[int | None, ...] = (None,),
    repeat: int = 3,
) -> list[Case]:
    """The measurement matrix; images above 1 MP are timed once (they take tens of seconds)."""
    cases = []
    for model in models:
        for mp in sizes:
            for n in threads:
                base = Case(model, mp, n, repeat=repeat if mp <= 1 else 1)
                for backend in backends:
                    if backend != "torch":
                        cases.append(replace(base, backend=backend))
                        continue
                    for precision in precisions:
                        for tile in tiles:
                            for p in passes:
                                cases.extend(replace(base, precision=precision, tile=tile, stats_passes=p, ensemble=e) for e in ensembles)
    return cases


def calibrate(model: str, sizes: tuple[float, ...] = (0.25, 0.5, 1.0), precision: str = "fp32") -> dict:
    """Peak activation bytes per pixel per unit of model width: the slope of peak RSS over image size.

    Whole-image runs in fresh processes; the slope removes the interpreter, weights and baseline,
    and the image's own input and output bytes are subtracted. A release with a low-precision
    stream measured in bf16 gives the figure behind ``LOW_PRECISION_STREAM_BYTES``.
    """
    rows = [measure(Case(model, mp, threads=1, tile=0, precision=precision)) for mp in sizes]
    failed = [r for r in rows if "error" in r]
    if failed:
        raise IRestoreError(f"calibration run failed: {failed[0]['error']}")
    pixels = np.array([r["height"] * r["width"] for r in rows], dtype=np.float64)
    activations = np.array([(r["peak_rss_mb"] - r["image_mb"]) * 2**20 for r in rows])
    slope = float(np.polyfit(pixels, activations, 1)[0])
    width = load(model).config.width
    constant = "LOW_PRECISION_STREAM_BYTES" if precision != "fp32" and calibrated_stream(model) else "BYTES_PER_PIXEL_PER_CHANNEL"
    return {"model": model, "precision": precision, "bytes_per_pixel": round(slope), "model_width": width, "bytes_per_pixel_per_channel": round(slope / width, 1), "constant": constant, "runs": rows}


def main(argv: list[str]) -> None:
    case = Case(**json.loads(argv[0]))
    try:
        row = run_case(case)
    except IRestoreError as exc:
        row = {"error": str(exc)}
    print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1:])
