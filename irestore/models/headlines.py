"""The one score that stands for a release in one-line listings (`irestore models`, the README).

Each shipped release has a chosen headline: the test set and level its target is stated on, the
classical baseline beside it (measured in the same run where the manifest has it, else its
published figure), and a published learned method on the same protocol. Releases trained by users
get an automatic one.
"""

from __future__ import annotations

# name: (metric key, measured baseline or None, published classical (name, dB) or None, published learned (name, dB) or None)
HEADLINES = {
    "denoise-real": ("SIDD_samples", "bm3d", None, None),
    "denoise-gaussian": ("CBSD68/sigma=25", None, ("CBM3D", 30.71), ("DnCNN", 31.23)),
    "denoise-gaussian-gray": ("Set12/sigma=25", "bm3d", None, ("DnCNN", 30.44)),
    "jpeg": ("LIVE1/q=10", "identity", None, None),
    "jpeg-gray": ("Classic5/q=10", "identity", None, ("DnCNN-3", 29.40)),
    "sr-x2": ("Set5/x2", "bicubic", None, ("VDSR", 37.53)),
    "sr-x4": ("Set5/x4", "bicubic", None, ("VDSR", 31.35)),
    "deblur": ("CBSD68", "identity", None, None),
    "derain": ("Rain100L", "identity", None, None),
}
LABELS = {"identity": "input", "bicubic": "bicubic", "nlm": "NLM", "bm3d": "BM3D"}


def headline(name: str, entry: dict) -> dict | None:
    """``{"benchmark", "psnr", "baseline", "baseline_psnr", "published", "anchor", "anchor_psnr"}``;
    ``published`` is true when the baseline's figure is a published one, not measured here."""
    chosen = HEADLINES.get(name)
    metrics = entry.get("metrics", {})
    if chosen is None or chosen[0] not in metrics:
        return _default_headline(entry)
    key, measured, published, anchor = chosen
    scores = entry.get("baselines", {}).get(measured or "", {}).get(key)
    if scores is not None:
        baseline, baseline_psnr, is_published = LABELS.get(measured, measured), scores["psnr"], False
    elif published is not None:
        (baseline, baseline_psnr), is_published = published, True
    else:
        baseline, baseline_psnr, is_published = None, None, False
    return {
        "benchmark": key, "psnr": metrics[key]["psnr"], "baseline": baseline, "baseline_psnr": baseline_psnr, "published": is_published,
        "anchor": anchor[0] if anchor else None, "anchor_psnr": anchor[1] if anchor else None,
    }


BASELINE_PREFERENCE = ("identity", "bicubic")


def _default_headline(entry: dict) -> dict | None:
    """A standard benchmark at a middle level, and its baseline, for a release not in :data:`HEADLINES`.

    The benchmark is the first of the model's scored datasets in the evaluation catalogue's order
    (CBSD68 before BSD68, Set5 before Set14; subsets like ``CBSD68[:10]`` and variants like
    ``-8bit`` are not catalogue names), at the lower middle of its levels (sigma 25 of 15/25/50).
    The baseline is the input itself (``identity``), else ``bicubic``, else any scored on that key.
    """
    from irestore.evaluation.datasets import CATALOG

    order = {name: i for i, name in enumerate(CATALOG)}
    metrics = {k: v for k, v in entry.get("metrics", {}).items() if isinstance(v, dict) and isinstance(v.get("psnr"), (int, float))}
    standard = sorted((k for k in metrics if k.split("/")[0].lower() in order), key=lambda k: order[k.split("/")[0].lower()])
    if standard:
        dataset = standard[0].split("/")[0]
        levels = sorted((k for k in standard if k.split("/")[0] == dataset), key=_level_value)
        key = levels[(len(levels) - 1) // 2]
    elif metrics:
        key = next(iter(metrics))
    else:
        return None
    scored = {name: scores[key]["psnr"] for name, scores in entry.get("baselines", {}).items() if isinstance(scores.get(key), dict) and "psnr" in scores[key]}
    baseline = next((b for b in BASELINE_PREFERENCE if b in scored), next(iter(scored), None))
    return {"benchmark": key, "psnr": metrics[key]["psnr"], "baseline": baseline, "baseline_psnr": scored.get(baseline), "published": False, "anchor": None, "anchor_psnr": None}


def _level_value(key: str) -> float:
    digits = "".join(c for c in key.partition("/")[2] if c.isdigit() or c == ".")
    try:
        return float(digits)
    except ValueError:
        return 0.0
