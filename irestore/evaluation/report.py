"""Show and save evaluation results; every output echoes the protocol behind the numbers.

A PSNR without its convention is not comparable (RGB vs Y, rounding, crop, SSIM variant), so the
table prints one protocol line per preset and the JSON/CSV carry the same fields on every row.
Non-finite values (PSNR of identical images) are written as JSON ``null`` / empty CSV cells.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict
from pathlib import Path

from rich.console import Console

from irestore.cli.tables import Column, Format, Table, render, resolve_format
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


def results_table(results: list[Result]) -> Table:
    """One row per method, dataset and level; the protocol lines ride along as the table's notes.

    On a narrow terminal timing goes first, then the preset name (its protocol line stays).
    """
    with_b = any(r.psnr_b is not None for r in results)
    columns = [
        Column("Method"), Column("Dataset"), Column("Level"), Column("Preset", drop=1),
        Column("N", key="images", numeric=True),
        Column("PSNR", numeric=True), Column("SSIM", numeric=True),
        *([Column("PSNR-B", key="psnr_b", numeric=True)] if with_b else []),
        Column("s", key="seconds", numeric=True, drop=3), Column("MP/s", key="mp_per_s", numeric=True, drop=2),
    ]
    table = Table(columns, title="irestore eval", notes=protocol_lines(results))
    for r in results:
        row = [r.method, r.dataset, r.level, r.preset, str(r.images), _fmt(r.psnr, 2), _fmt(r.ssim, 4)]
        if with_b:
            row.append(_fmt(r.psnr_b, 2))
        table.add_row(*row, _fmt(r.seconds, 1), _fmt(r.mp_per_s, 3))
    return table


def render_table(results: list[Result], console: Console | None = None, fmt: Format | str | None = None) -> Table:
    """Print (and return) the results: a table with its protocol lines (rich on a terminal, else
    Markdown), or, for ``json`` / ``csv``, the same full-precision documents ``--json`` / ``--csv``
    write, so a script reads unrounded scores with their protocol."""
    console = console or Console()
    table = results_table(results)
    chosen = resolve_format(fmt, console)
    if chosen in (Format.json, Format.csv):
        text = json_text(results) if chosen is Format.json else csv_text(results)
        console.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True, end="")
    else:
        render(table, chosen, console)
    return table


def _row(r: Result) -> dict:
    return {k: _finite(v) for k, v in asdict(r).items()}


def _write(path: Path, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ImageWriteError(f"{path}: cannot write results ({exc.strerror or exc})") from None


def json_text(results: list[Result]) -> str:
    """Results with their per-image scores and the preset definitions they refer to."""
    rows = []
    for r in results:
        row = _row(r)
        row["per_image"] = [{k: _finite(v) for k, v in img.items()} for img in row["per_image"]]
        rows.append(row)
    presets = {name: asdict(PRESETS[name]) for name in dict.fromkeys(r.preset for r in results)}
    return json.dumps({"results": rows, "presets": presets}, indent=2, allow_nan=False, default=str) + "\n"


def csv_text(results: list[Result]) -> str:
    """One row per (method, dataset, level); settings as a JSON cell, per-image scores left out."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        row = {k: v for k, v in _row(r).items() if k in CSV_FIELDS}
        row["settings"] = json.dumps(r.settings, sort_keys=True, default=str)
        writer.writerow(row)
    return out.getvalue()


def write_json(results: list[Result], path: Path) -> None:
    _write(path, json_text(results))


def write_csv(results: list[Result], path: Path) -> None:
    _write(path, csv_text(results))
