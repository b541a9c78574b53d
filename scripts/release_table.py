"""Print the README's release tables from weights/manifest.json, so no figure is typed by hand.

    python scripts/release_table.py [NAME ...]
    python scripts/release_table.py --readme docs/models.md   # rewrite the block between the markers
    python scripts/release_table.py --summary README.md       # the README's short models table


One Markdown table per release: a row per test set and level, the model's PSNR (and PSNR-B for
JPEG, SSIM otherwise) next to every baseline scored in the same run, then the x8 self-ensemble
(`--ensemble`) where it was scored, then the commands.
"""

import argparse
from pathlib import Path

from irestore.cli.models_cmd import model_rows
from irestore.models.headlines import HEADLINES, headline
from irestore.models.zoo import read_manifest

START, END = "<!-- release tables: start (scripts/release_table.py) -->", "<!-- release tables: end -->"
SUMMARY_START, SUMMARY_END = "<!-- models summary: start (scripts/release_table.py --summary) -->", "<!-- models summary: end -->"


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


def summary_row(name: str, entry: dict, params: int) -> str:
    h = headline(name, entry)
    speed = entry.get("speed", {}).get("mp_per_s")
    cells = [
        f"`{entry['task']}`", f"`{name}`", f"{params / 1e6:.2f} M", f"{speed:.2f}" if speed else "",
        h["benchmark"], f"**{h['psnr']:.2f}**",
        f"{h['baseline']} {h['baseline_psnr']:.2f}{' (pub.)' if h['published'] else ''}" if h["baseline"] else "-",
        f"{h['anchor']} {h['anchor_psnr']:.2f}" if h["anchor"] else "-",
    ]
    return "| " + " | ".join(cells) + " |"


def summary(models: dict) -> str:
    header = ["task", "model", "params", "MP/s", "test set", "PSNR", "classical", "published"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    order = [n for n in HEADLINES if n in models] + sorted(set(models) - set(HEADLINES))
    params = {row["name"]: row["params"] for row in model_rows()}  # as `irestore models` counts them
    return "\n".join(lines + [summary_row(n, models[n], params[n]) for n in order])


def replace_block(path: Path, start: str, end: str, text: str) -> None:
    head, rest = path.read_text().split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n\n{text}\n{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--readme", type=Path, help="replace the text between the release-table markers in this file")
    parser.add_argument("--summary", type=Path, help="replace the text between the models-summary markers in this file")
    args = parser.parse_args()
    models = read_manifest()["models"]
    if args.summary:
        replace_block(args.summary, SUMMARY_START, SUMMARY_END, summary(models))
    text = "\n".join(table(name, models[name]) for name in args.names or sorted(models))
    if args.readme:
        replace_block(args.readme, START, END, text)
    elif not args.summary:
        print(text)


if __name__ == "__main__":
    main()
