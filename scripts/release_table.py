"""Print the README's release tables from weights/manifest.json, so no figure is typed by hand.

    python scripts/release_table.py [NAME ...]
    python scripts/release_table.py --readme README.md   # rewrite the block between the markers

One Markdown table per release: a row per test set and level, the model's PSNR (and PSNR-B for
JPEG, SSIM otherwise) next to every baseline scored in the same run, then the x8 self-ensemble
(`--ensemble`) where it was scored, then the commands.
"""

import argparse
from pathlib import Path

from irestore.models.zoo import read_manifest

START, END = "<!-- release tables: start (scripts/release_table.py) -->", "<!-- release tables: end -->"

BASELINE_ORDER = ("identity", "bicubic", "nlm", "bm3d")
LABELS = {"identity": "input", "bicubic": "bicubic", "nlm": "NLM", "bm3d": "BM3D"}


def cell(score: dict | None, with_second: bool = True) -> str:
    if score is None:
        return ""
    second = score.get("psnr_b")
    if second is not None:
        return f"{score['psnr']:.2f} / {second:.2f}"
    return f"{score['psnr']:.2f} / {score['ssim']:.3f}" if with_second else f"{score['psnr']:.2f}"


def table(name: str, entry: dict) -> str:
    metrics = entry["metrics"]
    baselines = [b for b in BASELINE_ORDER if b in entry.get("baselines", {})]
    ensemble = entry.get("ensemble_metrics", {})
    unit = "PSNR / PSNR-B" if any("psnr_b" in m for m in metrics.values()) else "PSNR / SSIM"
    header = [f"{name} ({unit})", *(LABELS[b] for b in baselines), f"**{name}**"] + ([f"{name} x8 ensemble"] if ensemble else [])
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for key, score in sorted(metrics.items(), key=lambda item: ("-8bit" in item[0], "[:" in item[0], item[0])):
        row = [key, *(cell(entry["baselines"][b].get(key)) for b in baselines), f"**{cell(score)}**"]
        if ensemble:
            row.append(cell(ensemble.get(key)))
        lines.append("| " + " | ".join(row) + " |")
    commands = "\n".join(f"`{c}`  " for c in entry.get("eval_commands", []))
    return "\n".join(lines) + "\n\n" + commands + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--readme", type=Path, help="replace the text between the markers in this file")
    args = parser.parse_args()
    models = read_manifest()["models"]
    text = "\n".join(table(name, models[name]) for name in args.names or sorted(models))
    if not args.readme:
        print(text)
        return
    readme = args.readme.read_text()
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    args.readme.write_text(f"{head}{START}\n\n{text}\n{END}{tail}")


if __name__ == "__main__":
    main()
