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

from irestore.cli.tables import FORMAT_HELP, Column, Format, Table, render
from irestore.errors import ConfigError, IRestoreError

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
    passes: Annotated[str, typer.Option("--passes", help="Statistics passes for tiled images: auto (each release's calibrated number, as the restore commands run it) and/or numbers, e.g. auto,2 to compare with exact tiles.", rich_help_panel=WHAT)] = "auto",
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Timed runs per case up to 1 MP (the median is reported); larger images run once.", rich_help_panel=WHAT)] = 3,
    quick: Annotated[bool, typer.Option("--quick", help="A short run: 0.25 and 1 MP, the ensemble at 0.25 MP only, one timed run.", rich_help_panel=WHAT)] = False,
    calibrate_memory: Annotated[bool, typer.Option("--calibrate", help="Instead, measure activation bytes per pixel (the figure behind the automatic tile size).", rich_help_panel=WHAT)] = False,
    timeout: Annotated[Optional[float], typer.Option("--timeout", min=1, help="Give up on a case after this many seconds.", rich_help_panel=WHAT, show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the full JSON rows instead of a table.", rich_help_panel=OUTPUT)] = False,
    fmt: Annotated[Optional[Format], typer.Option("--format", help="How to print the table: " + FORMAT_HELP, rich_help_panel=OUTPUT, show_default=False, case_sensitive=False)] = None,
) -> None:
    """Measure speed (MP/s) and peak memory of the shipped models on this machine, per image size and thread count."""
    from irestore.engine.benchmark import CONFIG_PREFIX, SIZES_MP, calibrate, plan_cases, run_bench

    models = list(model or []) + [CONFIG_PREFIX + c for c in config or []] or default_models()
    if calibrate_memory:
        first_precision = precision.split(",")[0].strip() or "fp32"
        result = calibrate(models[0], **({"sizes": _numbers(sizes, "--sizes")} if sizes else {}), precision=first_precision)
        if json_out:
            print(json.dumps(result, indent=2))
        else:
            Console().print(f"{result['model']} ({first_precision}): {result['bytes_per_pixel']} activation bytes per pixel = {result['bytes_per_pixel_per_channel']} per unit of width {result['model_width']} ({result['constant']})")
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
        passes=_passes(passes),
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
        render(results_table(rows), fmt)


def _passes(text: str) -> tuple[int | None, ...]:
    values = [p.strip() for p in text.split(",") if p.strip()]
    if not values or any(v != "auto" and not v.isdigit() for v in values):
        raise IRestoreError(f"--passes {text}: give auto and/or numbers of statistics passes, e.g. auto,2")
    return tuple(None if v == "auto" else int(v) for v in values)


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def results_table(rows: list[dict]) -> Table:
    """One row per case; on a narrow terminal the CPU and FLOP detail goes before speed and memory."""
    from irestore.engine.benchmark import CONFIG_PREFIX

    load = max((r.get("load", 0.0) for r in rows), default=0.0)
    errors = any("error" in r for r in rows)
    columns = [
        Column("model"), Column("backend"), Column("MP", numeric=True, key="megapixels"), Column("threads", numeric=True, short="thr"),
        Column("ens", drop=1), Column("tiles", drop=3), Column("s", key="seconds", numeric=True, drop=2),
        Column("CPU s", key="cpu_seconds", numeric=True, drop=5), Column("MP/s", key="mp_per_s", numeric=True),
        Column("GFLOP/s", key="gflops", numeric=True, drop=4), Column("conv2d GFLOP/s", key="conv2d_gflops", numeric=True, short="conv2d", drop=6),
        Column("of conv2d", key="of_conv2d", numeric=True, short="of c2d", drop=6), Column("peak RSS MB", key="peak_rss_mb", numeric=True, short="RSS MB", drop=2),
        Column("load", numeric=True, drop=5),
    ]
    if errors:
        columns.append(Column("error"))
    table = Table(columns, title=f"irestore bench ({os.cpu_count()} CPUs, highest 1-min load average {load:.2f})")
    for r in rows:
        backend = r["backend"] if r["backend"] != "torch" else f"torch {r['precision']}"
        head = [r["model"].removeprefix(CONFIG_PREFIX), backend, f"{r['megapixels']:g}", str(r["threads"]), "x8" if r["ensemble"] else "-"]
        tail = [r.get("error", "")] if errors else []
        if "error" in r:
            table.add_row(*head, *["-"] * 8, f"{r['load']:.2f}", *tail)
            continue
        tiles = "whole" if r["tiles"] == 1 else f"{r['tiles']} x {r['tile_size'][0]}x{r['tile_size'][1]}, {r['passes']} passes"
        share = f"{100 * r['gflops'] / r['conv2d_gflops']:.0f}%" if r["conv2d_gflops"] else "-"
        table.add_row(*head, tiles, f"{r['seconds']:.2f}", f"{r['cpu_seconds']:.2f}", f"{r['mp_per_s']:.2f}", f"{r['gflops']:.1f}", f"{r['conv2d_gflops']:.1f}", share, str(r["peak_rss_mb"] or "-"), f"{r['load']:.2f}", *tail)
    return table
