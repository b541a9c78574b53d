"""Show and save evaluation results; every output echoes the protocol behind the numbers.

A PSNR without its convention is not comparable (RGB vs Y, rounding, crop, SSIM variant), so the
table prints one protocol line per preset and the JSON/CSV carry the same fields on every row.
Non-finite values (PSNR of identical images) are written as JSON ``null`` / empty CSV cells.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from irestore.errors import ImageWriteError
from irestore.evaluation.protocols import PRESETS
from irestore.evaluation.runner import Result

CSV_FIELDS = (
    "method", "dataset", "task", "level", "preset", "psnr", "ssim", "psnr_b", "images", "seconds",
    "mp_per_s", "color_space", "ssim_variant", "data_range", "rounding", "crop", "degradation", "settings",
)


def _finite(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _fmt(value: float | None, digits: int) -> str:
    if value is None:
        return "-"
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


def protocol_lines(results: list[Result]) -> list[str]:
    """One line per preset (and input recipe) used, then one per method's settings."""
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.preset, r.degradation), []).append(r)
    lines = []
    for (preset, degradation), members in groups.items():
        r = members[0]
        crops = ", ".join(str(c) for c in dict.fromkeys(m.crop for m in members))
        extra = " + PSNR-B" if r.psnr_b is not None else ""
        lines.append(
            f"{preset}: {r.color_space.upper()}, {r.rounding}, PSNR peak {r.data_range:g}{extra}, "
            f"SSIM {r.ssim_variant} (L={r.data_range:g}), crop {crops}; input: {degradation}"
        )
    methods: dict[str, dict] = {}
    for r in results:
        if r.settings:
            methods.setdefault(r.method, r.settings)
    for method, settings in methods.items():
        lines.append(f"{method}: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    return lines


def render_table(results: list[Result], console: Console | None = None) -> Table:
    """Print (and return) a rich table of the results followed by the protocol lines."""
    console = console or Console()
    table = Table(title="irestore eval")
    with_b = any(r.psnr_b is not None for r in results)
    for name in ("Method", "Dataset", "Level", "Preset", "N", "PSNR", "SSIM") + (("PSNR-B",) if with_b else ()) + ("s", "MP/s"):
        table.add_column(name, justify="left" if name in ("Method", "Dataset", "Level", "Preset") else "right", no_wrap=True)
    for r in results:
        row = [r.method, r.dataset, r.level, r.preset, str(r.images), _fmt(r.psnr, 2), _fmt(r.ssim, 4)]
        if with_b:
            row.append(_fmt(r.psnr_b, 2))
        row += [_fmt(r.seconds, 1), _fmt(r.mp_per_s, 3)]
        table.add_row(*row)
    console.print(table)
    for line in protocol_lines(results):
        console.print(line, markup=False, highlight=False)
    return table


def _row(r: Result) -> dict:
    return {k: _finite(v) for k, v in asdict(r).items()}


def _write(path: Path, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ImageWriteError(f"{path}: cannot write results ({exc.strerror or exc})") from None


def write_json(results: list[Result], path: Path) -> None:
    """Results with their per-image scores and the preset definitions they refer to."""
    rows = []
    for r in results:
        row = _row(r)
        row["per_image"] = [{k: _finite(v) for k, v in img.items()} for img in row["per_image"]]
        rows.append(row)
    presets = {name: asdict(PRESETS[name]) for name in dict.fromkeys(r.preset for r in results)}
    _write(path, json.dumps({"results": rows, "presets": presets}, indent=2, allow_nan=False, default=str) + "\n")


def write_csv(results: list[Result], path: Path) -> None:
    """One row per (method, dataset, level); settings as a JSON cell, per-image scores left out."""
    try:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for r in results:
                row = {k: v for k, v in _row(r).items() if k in CSV_FIELDS}
                row["settings"] = json.dumps(r.settings, sort_keys=True, default=str)
                writer.writerow(row)
    except OSError as exc:
        raise ImageWriteError(f"{path}: cannot write results ({exc.strerror or exc})") from None
