"""``irestore models``: what is shipped, what it costs, how good it measured."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from irestore.checkpoint import load_checkpoint
from irestore.models.complexity import count_parameters, gflops_per_megapixel
from irestore.models.zoo import read_manifest, weights_dir


def model_rows() -> list[dict]:
    folder = weights_dir()
    rows = []
    for name, entry in sorted(read_manifest(folder)["models"].items()):
        path = folder / entry["file"]
        row = {"name": name, "task": entry.get("task", "?"), "file": str(path), "sha256": entry.get("sha256", ""), "metrics": entry.get("metrics", {})}
        if path.is_file():
            model, info = load_checkpoint(path, sha256=entry.get("sha256"))
            c = model.config
            row.update(config=f"{c.mixer}/{c.norm}/skip {c.skip}, width {c.width}", params=count_parameters(model), gflops_per_mp=round(gflops_per_megapixel(model), 2))
        else:
            row.update(config="(file missing)", params=None, gflops_per_mp=None)
        rows.append(row)
    return rows


def show_models(as_json: bool) -> None:
    rows = model_rows()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"irestore models ({weights_dir()})")
    for column in ("name", "task", "config", "params", "GFLOPs/MP", "PSNR", "file", "sha256"):
        table.add_column(column)
    for r in rows:
        psnr = ", ".join(f"{k} {v['psnr']:.2f}" for k, v in r["metrics"].items() if isinstance(v, dict) and "psnr" in v)
        params = f"{r['params'] / 1e6:.2f} M" if r["params"] else "-"
        table.add_row(r["name"], r["task"], r["config"], params, str(r["gflops_per_mp"] or "-"), psnr or "-", r["file"].split("/")[-1], r["sha256"][:12])
    if not rows:
        table.caption = "no release weights yet: see README, 'Release weights'"
    Console().print(table)
