"""PNG plots of a report and of a run's trajectories. matplotlib is the optional extra ``plots``,
imported only here and only when a plot is asked for."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

from irestore.diagnostics.report import DiagnosticsError, Report
from irestore.diagnostics.trajectories import Trajectory


def pyplot() -> ModuleType:
    """matplotlib's pyplot on the file-only Agg backend, or a one-line error saying how to get it."""
    try:
        import matplotlib
    except ImportError:
        raise DiagnosticsError("plots need matplotlib: pip install 'irestore[plots]' (or pip install matplotlib)") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path = Path(path)
    if not path.parent.is_dir():
        raise DiagnosticsError(f"{path}: folder {path.parent} does not exist")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path


def plot_report(report: Report, path: Path) -> Path:
    """Per block, in forward order: mean square and peak |x| (log scale), and entropy / ln C."""
    plt = pyplot()
    names = [b.name for b in report.blocks]
    x = range(len(names))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(6.0, 0.45 * len(names) + 2), 6), sharex=True)
    top.semilogy(x, [b.mean_square for b in report.blocks], "o-", label="mean(x²)")
    top.semilogy(x, [b.peak for b in report.blocks], "s--", label="peak |x|")
    top.set_ylabel("feature magnitude")
    top.legend()
    bottom.plot(x, [b.entropy_ratio for b in report.blocks], "o-", color="tab:green")
    bottom.set_ylim(0, 1.05)
    bottom.set_ylabel("channel entropy / ln C")
    bottom.set_xticks(list(x), names, rotation=60, ha="right", fontsize=8)
    return _save(fig, path)


def plot_trajectory(trajectory: Trajectory, path: Path) -> Path:
    """Over training steps: each block's mean square (log scale) and entropy / ln C, and the skip RMS."""
    plt = pyplot()
    blocks, skips = trajectory.blocks(), trajectory.skips()
    panels = 3 if skips else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4))
    cmap = plt.get_cmap("viridis")
    for k, name in enumerate(blocks):
        colour = cmap(k / max(len(blocks) - 1, 1))
        axes[0].semilogy(trajectory.steps, _positive(trajectory.series[f"block.{name}.ms"]), ".-", color=colour, label=name)
        axes[1].plot(trajectory.steps, trajectory.series[f"block.{name}.entropy_ratio"], ".-", color=colour)
    axes[0].set(title=f"{trajectory.run}: feature mean square", xlabel="step")
    axes[1].set(title="channel entropy / ln C", xlabel="step", ylim=(0, 1.05))
    axes[0].legend(fontsize=6, ncol=2)
    if skips:
        for i in skips:
            line = axes[2].semilogy(trajectory.steps, _positive(trajectory.series[f"skip.{i}.rms_before"]), ".-", label=f"skip {i} before")
            axes[2].semilogy(trajectory.steps, _positive(trajectory.series[f"skip.{i}.rms_after"]), ".--", color=line[0].get_color(), label=f"skip {i} after")
        axes[2].set(title="long-skip RMS (1 = outermost)", xlabel="step")
        axes[2].legend(fontsize=7)
    return _save(fig, path)


def _positive(values: list[float]) -> list[float]:
    """Log axes cannot show 0 or non-finite values; leave gaps there instead of failing."""
    return [v if math.isfinite(v) and v > 0 else math.nan for v in values]
