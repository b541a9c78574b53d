"""``irestore bench``: how fast and how big the engine is on this machine.

Thin on purpose: it turns the options into cases for :mod:`irestore.engine.benchmark`, which runs
each in a fresh process, and prints the rows as a table or JSON. The engine (and torch) is imported
only when the command runs, so registering it costs ``irestore --help`` nothing.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from irestore.errors import ConfigError

WHAT = "What to measure"
OUTPUT = "Output"
QUICK_SIZES = (0.25, 1.0)


def _numbers(text: str, option: str, kind=float) -> tuple:
    try:
        values = tuple(kind(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected comma-separated numbers, e.g. 0.25,1,4") from None
    if not values or min(values) <= 0:
        raise ConfigError(f"{option} {text!r}: give positive values")
    return values


def default_models() -> list[str]:
    """The shipped weights whose files exist, else the release architecture with random weights."""
    from irestore.engine.benchmark import RELEASE_ARCHITECTURE
    from irestore.models.zoo import read_manifest, weights_dir

    folder = weights_dir()
    shipped = [name for name, entry in sorted(read_manifest(folder)["models"].items()) if (folder / entry["file"]).is_file()]
    return shipped or [RELEASE_ARCHITECTURE]


def bench_command(
    model: Annotated[Optional[list[str]], typer.Option("--model", "-m", help="A shipped model name or a .safetensors checkpoint (repeatable). Default: every shipped model.", rich_help_panel=WHAT, show_default=False)] = None,
    config: Annotated[Optional[list[str]], typer.Option("--config", help="A model config with random weights and optional overrides, e.g. small or small,norm=ln (repeatable). Default when nothing is shipped: small,norm=ln.", rich_help_panel=WHAT, show_default=False)] = None,
    sizes: Annotated[Optional[str], typer.Option("--sizes", help="Image sizes in megapixels. Default: 0.25,1,4,16 (0.25,1 with --quick).", rich_help_panel=WHAT, show_default=False)] = None,
    threads: Annotated[str, typer.Option("--threads", help="CPU thread counts to compare.", rich_help_panel=WHAT)] = "1,2",
    ensemble: Annotated[bool, typer.Option("--ensemble/--no-ensemble", help="Also time the x8 self-ensemble.", rich_help_panel=WHAT)] = True,
    precision: Annotated[str, typer.Option("--precision", help="Comma-separated precisions for the PyTorch rows: fp32, bf16.", rich_help_panel=WHAT)] = "fp32",
    onnx: Annotated[bool, typer.Option("--onnx/--no-onnx", help="Add onnxruntime rows (whole images that fit --memory-mb; needs the optional onnx and onnxruntime packages).", rich_help_panel=WHAT)] = True,
    tile: Annotated[Optional[list[int]], typer.Option("--tile", help="Force a tile size (repeatable; 0 = whole image). Default: chosen from the memory budget.", rich_help_panel=WHAT, show_default=False)] = None,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Timed runs per case up to 1 MP (the median is reported); larger images run once.", rich_help_panel=WHAT)] = 3,
    quick: Annotated[bool, typer.Option("--quick", help="A short run: 0.25 and 1 MP, the ensemble at 0.25 MP only, one timed run.", rich_help_panel=WHAT)] = False,
    calibrate_memory: Annotated[bool, typer.Option("--calibrate", help="Instead, measure activation bytes per pixel (the figure behind the automatic tile size).", rich_help_panel=WHAT)] = False,
    timeout: Annotated[Optional[float], typer.Option("--timeout", min=1, help="Give up on a case after this many seconds.", rich_help_panel=WHAT, show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON rows instead of a table.", rich_help_panel=OUTPUT)] = False,
) -> None:
    """Measure speed (MP/s) and peak memory of the shipped models on this machine, per image size and thread count."""
    from irestore.engine.benchmark import CONFIG_PREFIX, SIZES_MP, calibrate, plan_cases, run_bench

    models = list(model or []) + [CONFIG_PREFIX + c for c in config or []] or default_models()
    if calibrate_memory:
        result = calibrate(models[0])
        if json_out:
            print(json.dumps(result, indent=2))
        else:
            Console().print(f"{result['model']}: {result['bytes_per_pixel']} activation bytes per pixel = {result['bytes_per_pixel_per_channel']} per unit of width {result['model_width']} (BYTES_PER_PIXEL_PER_CHANNEL)")
        return
    size_list = _numbers(sizes, "--sizes") if sizes else (QUICK_SIZES if quick else SIZES_MP)
    cases = plan_cases(
        models,
        sizes=size_list,
        threads=_numbers(threads, "--threads", int),
        ensembles=(False, True) if ensemble else (False,),
        backends=("torch", "onnxruntime") if onnx and _has_onnxruntime() else ("torch",),
        precisions=tuple(p.strip() for p in precision.split(",") if p.strip()),
        tiles=tuple(tile) if tile else (None,),
        repeat=1 if quick else repeat,
    )
    if quick:
        cases = [c for c in cases if not c.ensemble or c.megapixels <= QUICK_SIZES[0]]
    with Console(stderr=True).status("counting model FLOPs") as status:

        def report(n, case):
            status.update(f"case {n + 1}/{len(cases)}: {case.backend} {case.precision} {case.megapixels:g} MP, {case.threads} thread(s){', ensemble' if case.ensemble else ''}")

        rows = run_bench(cases, timeout=timeout, progress=report)
    if json_out:
        print(json.dumps(rows, indent=2))
    else:
        Console().print(results_table(rows))


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def results_table(rows: list[dict]) -> Table:
    from irestore.engine.benchmark import CONFIG_PREFIX
    load = max((r.get("load", 0.0) for r in rows), default=0.0)
    table = Table(title=f"irestore bench ({os.cpu_count()} CPUs, highest 1-min load average {load:.2f})")
    for column in ("model", "backend", "MP", "threads", "ens", "tiles", "s", "CPU s", "MP/s", "GFLOP/s", "conv2d GFLOP/s", "of conv2d", "peak RSS MB", "load"):
        table.add_column(column, justify="left" if column in ("model", "backend") else "right")
    for r in rows:
        backend = r["backend"] if r["backend"] != "torch" else f"torch {r['precision']}"
        head = [r["model"].removeprefix(CONFIG_PREFIX), backend, f"{r['megapixels']:g}", str(r["threads"]), "x8" if r["ensemble"] else "-"]
        if "error" in r:
            table.add_row(*head, f"[yellow]{r['error']}[/]", *[""] * 7, f"{r['load']:.2f}")
            continue
        tiles = "whole" if r["tiles"] == 1 else f"{r['tiles']} x {r['tile_size'][0]}x{r['tile_size'][1]}, {r['passes']} passes"
        share = f"{100 * r['gflops'] / r['conv2d_gflops']:.0f}%" if r["conv2d_gflops"] else "-"
        table.add_row(*head, tiles, f"{r['seconds']:.2f}", f"{r['cpu_seconds']:.2f}", f"{r['mp_per_s']:.2f}", f"{r['gflops']:.1f}", f"{r['conv2d_gflops']:.1f}", share, str(r["peak_rss_mb"] or "-"), f"{r['load']:.2f}")
    return table
