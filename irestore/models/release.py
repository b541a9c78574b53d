"""Adding a trained checkpoint to ``weights/manifest.json`` with its hash and measured scores.

The manifest is what ``irestore models`` shows and what loading verifies: file, sha256, task,
provenance summary, and the PSNR/SSIM that ``irestore eval`` measured (model and baselines of the
same run), with the commands that reproduce them.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from irestore.checkpoint import read_metadata, sha256_of
from irestore.errors import WeightsError
from irestore.models.zoo import MANIFEST, read_manifest


def scored_checkpoints(path: Path) -> set[str]:
    """The sha256 prefixes of the checkpoints an eval JSON scored (empty for baseline-only runs)."""
    rows = json.loads(Path(path).read_text())["results"]
    return {r["settings"]["sha256"] for r in rows if r.get("settings", {}).get("sha256")}


def scores_from_eval(path: Path) -> tuple[dict, dict, dict]:
    """(model scores, baseline scores, x8 self-ensemble scores) keyed ``dataset`` or ``dataset/level``
    from an eval JSON.

    Scores under an 8-bit-input variant of a preset are keyed ``dataset-8bit`` (``dataset-444`` for
    4:4:4 JPEGs), and scores of the first N images ``dataset[:N]``, so they sit beside, not over,
    the full published protocol's.
    Ensemble scores are kept apart: the headline figure is the single pass users get by default.
    """
    rows = json.loads(Path(path).read_text())["results"]
    model, baselines, ensemble = {}, {}, {}
    for r in rows:
        settings = r.get("settings", {})
        variant = next((v for v in ("-8bit", "-444") if str(r.get("preset", "")).endswith(v)), "")
        dataset = r["dataset"] + variant
        if settings.get("limit"):
            dataset += f"[:{settings['limit']}]"
        key = dataset if r["level"] in ("", "-", None) else f"{dataset}/{r['level']}"
        entry = {k: r[k] for k in ("psnr", "ssim", "psnr_b", "preset", "images") if r.get(k) is not None}
        if r["method"] in ("identity", "bicubic", "nlm", "bm3d"):
            baselines.setdefault(r["method"], {})[key] = entry
        elif settings.get("ensemble"):
            ensemble[key] = entry
        else:
            model[key] = entry
    return model, baselines, ensemble


def register(weights: Path, *, eval_files: list[Path] = (), commands: list[str] = ()) -> dict:
    """Write (or replace) the manifest entry of ``weights``, which must sit in the weights folder."""
    weights = Path(weights)
    folder = weights.parent
    config, info = read_metadata(weights)
    name = info.get("name") or weights.stem
    if weights.name != f"{name}.safetensors":
        raise WeightsError(f"{weights}: release files are named after their entry ({name}.safetensors)")
    sha256 = sha256_of(weights)
    metrics, baselines, ensemble = {}, {}, {}
    for f in eval_files:
        other = [s for s in scored_checkpoints(f) if not sha256.startswith(s)]
        if other:
            raise WeightsError(f"{f}: scores checkpoint {other[0]}, not {weights.name} ({sha256[:12]})")
        m, b, e = scores_from_eval(f)
        metrics.update(m)
        ensemble.update(e)
        for method, scores in b.items():
            baselines.setdefault(method, {}).update(scores)
    entry = {
        "file": weights.name,
        "sha256": sha256,
        "task": info.get("task"),
        "variant": info.get("variant", {}),
        "config": config.to_dict(),
        "training": {k: info.get(k) for k in ("training_data", "steps", "wall_time_s", "hardware", "weights", "val")}
        | {k: info[k] for k in ("initialized_from", "averaged_from") if info.get(k)},
        "metrics": metrics,
        "baselines": baselines,
        **({"ensemble_metrics": ensemble} if ensemble else {}),
        "eval_commands": list(commands),
        "licence": info.get("licence"),
    }
    manifest = read_manifest(folder)
    old = manifest["models"].get(name, {})
    if old.get("speed") and old.get("config") == json.loads(json.dumps(entry["config"])):
        entry["speed"] = old["speed"]  # same network, same speed: weights do not change it
    manifest["models"][name] = entry
    _write_manifest(folder, manifest)
    return entry


def record(folder: Path, name: str, **measured: dict) -> None:
    """Store measurements of a release in its manifest entry: ``speed`` (kept while the network is
    unchanged) or ``tiling`` (the calibrated statistics passes, dropped with new weights)."""
    manifest = read_manifest(folder)
    if name not in manifest["models"]:
        raise WeightsError(f"{folder / MANIFEST}: no entry {name!r}")
    manifest["models"][name].update(measured)
    _write_manifest(folder, manifest)


def _write_manifest(folder: Path, manifest: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{MANIFEST}.", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the manifest from other users of the install
    os.replace(tmp, folder / MANIFEST)
