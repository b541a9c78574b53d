"""``irestore models``: what is shipped, what it costs, how good it measured."""

from __future__ import annotations

import json
from pathlib import Path

from irestore.checkpoint import load_checkpoint
from irestore.cli.tables import Column, Format, Table, render
from irestore.models.complexity import count_parameters, gflops_per_megapixel
from irestore.models.headlines import headline
from irestore.models.zoo import read_manifest, weights_dir


def model_rows(folder: Path | None = None) -> list[dict]:
    folder = folder or weights_dir()
    rows = []
    for name, entry in sorted(read_manifest(folder)["models"].items()):
        path = folder / entry["file"]
        row = {"name": name, "task": entry.get("task", "?"), "file": str(path), "sha256": entry.get("sha256", ""), "metrics": entry.get("metrics", {}), "headline": headline(name, entry), "speed": entry.get("speed")}
        if path.is_file():
            model, info = load_checkpoint(path, sha256=entry.get("sha256"))
            c = model.config
            row.update(config=f"{c.mixer}/{c.norm}/skip {c.skip}, width {c.width}", params=count_parameters(model), gflops_per_mp=round(gflops_per_megapixel(model), 2))
        else:
            row.update(config="(file missing)", params=None, gflops_per_mp=None)
        rows.append(row)
    return rows


def models_table(rows: list[dict], folder: Path) -> Table:
    """One line per model: what it is, what it costs, and its headline PSNR beside its baseline's.

    Cost is the measured speed (MP/s) the manifest records; while no entry has one, the computed
    GFLOPs per megapixel stand in (and stay as a column that narrow terminals hide first).
    """
    speeds = [r.get("speed") or {} for r in rows]
    measured = any("mp_per_s" in s for s in speeds)
    table = Table(
        [
            Column("name"),
            Column("task", drop=4),
            Column("params", numeric=True, drop=2),
            *([Column("MP/s", key="mp_per_s", numeric=True)] if measured else []),
            Column("GFLOPs/MP", key="gflops_per_mp", numeric=True, short="GF/MP", drop=5 if measured else 3),
            Column("benchmark"),
            Column("PSNR", key="psnr", numeric=True),
            Column("baseline PSNR", key="baseline", short="baseline", drop=1),
        ],
        title="irestore models",
    )
    for r, speed in zip(rows, speeds):
        h = r.get("headline")
        base = f"{h['baseline']} {h['baseline_psnr']:.2f}{'*' if h.get('published') else ''}" if h and h["baseline"] else "-"
        mp_per_s = [f"{speed['mp_per_s']:.2f}" if "mp_per_s" in speed else "-"] if measured else []
        table.add_row(
            r["name"],
            r["task"],
            f"{r['params'] / 1e6:.2f}M" if r["params"] else "-",
            *mp_per_s,
            f"{r['gflops_per_mp']:.1f}" if r["gflops_per_mp"] else "-",
            h["benchmark"] if h else "-",
            f"{h['psnr']:.2f}" if h else "-",
            base,
        )
    how = next((s for s in speeds if "mp_per_s" in s), None)
    table.notes = [
        f"MP/s: measured on a {how.get('megapixels', 1):g} MP image, {how.get('threads', '?')} threads, {how.get('precision', 'fp32')} "
        "(see `irestore models --json` for each command and load); GFLOPs/MP: compute per output megapixel."
        if how else "GFLOPs/MP: compute per output megapixel (the manifest records no speed yet: measure MP/s with `irestore bench`).",
        f"weights: {folder}; every score, file and sha256: `irestore models --json`.",
    ]
    if any((r.get("headline") or {}).get("published") for r in rows):
        table.notes.insert(0, "*: a published figure, not measured here.")
    if not rows:
        table.notes.insert(0, "no release weights yet: see README, 'Release weights'")
    return table


def show_models(as_json: bool, override: Path | None = None, fmt: Format | None = None) -> None:
    folder = weights_dir(override)
    rows = model_rows(folder)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    render(models_table(rows, folder), fmt)
