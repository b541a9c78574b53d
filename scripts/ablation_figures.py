"""Figures of the ablation study for docs/ablations.md, from ``OUT/results.json`` and each run's log.

    python scripts/ablation_figures.py [--out runs/ablation] [--figures docs/figures]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from irestore.diagnostics import read_trajectory
from irestore.diagnostics.plots import plot_trajectory, pyplot

FACTORS = {"norm": ("base", "norm-"), "skip": ("base", "skip-"), "seed": ("base", "norm-iln", "seed1-")}


def members(results: list[dict], prefixes: tuple[str, ...]) -> list[dict]:
    return [r for r in results if r["arm"] == "steps" and any(r["name"] == p or (p.endswith("-") and r["name"].startswith(p)) for p in prefixes)]


def trajectories_figure(results: list[dict], out: Path, key: str, title: str, path: Path, log_scale: bool) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for r in results:
        t = read_trajectory(out / r["name"])
        label = f"{r['name']} ({r['psnr']:.2f} dB)"
        values = [v if math.isfinite(v) and v > 0 else math.nan for v in t.series["peak_max"]]
        (axes[0].semilogy if log_scale else axes[0].plot)(t.steps, values, label=label)
        axes[1].plot(t.steps, t.series[key], label=label)
    axes[0].set(title=f"{title}: peak |x| over all blocks", xlabel="step")
    axes[1].set(title=f"{title}: {key}", xlabel="step")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def loss_by_time_figure(results: list[dict], out: Path, path: Path) -> None:
    """Training loss against CPU-seconds for the mixers: what one CPU-second buys.

    Seconds are steps times the calibrated step time, not the wall clock, which on this shared
    machine measured the neighbours' load as much as the model.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for r in results:
        if r["factor"] not in ("baseline", "mixer", "candidate"):
            continue
        loss = read_trajectory(out / r["name"]).loss
        seconds = [step / r["steps_per_s"] for step, _ in loss]
        ax.plot(seconds, [v for _, v in loss], "--" if r["arm"] == "time" else "-", label=f"{r['name']} ({r['psnr']:.2f} dB)")
    ax.set(xlabel="CPU-seconds (steps x calibrated 1-thread step time)", ylabel="L1 loss (50-step mean)", yscale="log", title="mixers: loss per CPU-second")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def psnr_speed_figure(results: list[dict], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for r in results:
        ax.scatter(r["mp_per_s"], r["psnr"], marker="s" if r["arm"] == "time" else "o")
        ax.annotate(r["name"], (r["mp_per_s"], r["psnr"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="MP/s (481x321 whole image, 1 thread, best of 3)", ylabel="PSNR dB (CBSD68 first 10, sigma 25)", title="quality vs inference speed")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"))
    parser.add_argument("--figures", type=Path, default=Path("docs/figures"))
    args = parser.parse_args(argv)
    results = json.loads((args.out / "results.json").read_text())["runs"]
    args.figures.mkdir(parents=True, exist_ok=True)
    trajectories_figure(members(results, FACTORS["norm"]), args.out, "entropy_ratio_mean", "norm", args.figures / "ablation_norm.png", True)
    trajectories_figure(members(results, FACTORS["skip"]), args.out, "skip.3.rms_after", "skip", args.figures / "ablation_skip.png", True)
    trajectories_figure(members(results, FACTORS["seed"]), args.out, "entropy_ratio_min", "ln vs iln, two seeds", args.figures / "ablation_seeds.png", True)
    loss_by_time_figure(results, args.out, args.figures / "ablation_mixer_time.png")
    psnr_speed_figure(results, args.figures / "ablation_psnr_speed.png")
    for name in ("base", "norm-iln"):
        if (args.out / name).is_dir():
            plot_trajectory(read_trajectory(args.out / name), args.figures / f"ablation_blocks_{name}.png")
    print(f"figures in {args.figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
