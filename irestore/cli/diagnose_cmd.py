"""``irestore diagnose``: feature magnitude, peak and channel entropy per block, long-skip RMS, and their
trajectories over a training run. Thin: it loads the network and images and calls
:mod:`irestore.diagnostics`, which tests call directly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.console import Console

from irestore.cli.tables import Column, Table, render

WHAT = "What to diagnose"
OUTPUT = "Output"


def diagnose_command(
    images: Annotated[Optional[list[Path]], typer.Argument(help="Images to run the network on (the inputs it is meant for: noisy photos for a denoiser).", show_default=False)] = None,
    weights: Annotated[Optional[Path], typer.Option("--weights", "-w", help="A .safetensors checkpoint to diagnose.", rich_help_panel=WHAT, show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="A shipped model by name (see `irestore models`).", rich_help_panel=WHAT, show_default=False)] = None,
    run: Annotated[Optional[Path], typer.Option("--run", help="A training run folder: trajectories from its log.jsonl, and its EMA weights when no --weights/--model is given.", rich_help_panel=WHAT, show_default=False)] = None,
    crop: Annotated[int, typer.Option("--crop", min=0, help="Centre-crop each image to at most this side (0 = whole image): diagnostics need statistics, not megapixels.", rich_help_panel=WHAT)] = 512,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="CPU threads (default: all cores).", rich_help_panel=WHAT, show_default=False)] = None,
    json_file: Annotated[Optional[Path], typer.Option("--json", help="Write the full report (every block and skip, the run's series) as JSON.", rich_help_panel=OUTPUT, show_default=False)] = None,
    plots: Annotated[Optional[Path], typer.Option("--plots", help="Folder for PNG plots (needs matplotlib: pip install 'irestore\\[plots]').", rich_help_panel=OUTPUT, show_default=False)] = None,
) -> int:
    """Diagnose a network's features: where magnitudes grow, whether channel entropy collapsed, what the long skips pass on."""
    import json

    import torch

    from irestore.diagnostics import DiagnosticsError, diagnose, read_trajectory

    if not images and run is None:
        raise DiagnosticsError("nothing to diagnose: give images (with --weights, --model or --run) or --run DIR for a training log")
    if threads:
        torch.set_num_threads(threads)
    console = Console()
    report = diagnose(_network(weights, model, run), (_load(path, crop) for path in images)) if images else None
    trajectory = read_trajectory(run) if run is not None else None
    lines = []
    if report is not None:
        render(block_table(report), console=console)
        if report.skips:
            render(skip_table(report), console=console)
        lines += report.summary()
    if trajectory is not None:
        lines += trajectory.summary()
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=not console.is_terminal)
    if json_file is not None:
        if not Path(json_file).parent.is_dir():
            raise DiagnosticsError(f"{json_file}: folder {Path(json_file).parent} does not exist")
        payload = {"report": report.to_dict() if report else None, "run": trajectory.to_dict() if trajectory else None}
        Path(json_file).write_text(json.dumps(payload, indent=2) + "\n")
    if plots is not None:
        for written in _plot(report, trajectory, Path(plots)):
            console.print(f"wrote {written}", markup=False)
    return 0


def _network(weights: Path | None, name: str | None, run: Path | None):
    from irestore.diagnostics import DiagnosticsError, ema_model
    from irestore.models.zoo import load_model

    if weights is not None and name is not None:
        raise DiagnosticsError("give --weights or --model, not both")
    if weights is not None or name is not None:
        return load_model(str(weights) if weights is not None else name).model
    if run is not None:
        return ema_model(run)
    raise DiagnosticsError("say which network to diagnose: --weights FILE, --model NAME or --run DIR")


def _load(path: Path, crop: int) -> np.ndarray:
    from irestore.io import read_image

    pixels = read_image(path).pixels
    if crop:
        h, w = pixels.shape[:2]
        top, left = max(0, (h - crop) // 2), max(0, (w - crop) // 2)
        pixels = pixels[top : top + crop, left : left + crop]
    return pixels


def block_table(report) -> Table:
    table = Table(
        [Column("block"), Column("C", key="channels", numeric=True), Column("mean(x²)", key="mean_square", numeric=True),
         Column("peak |x|", key="peak", numeric=True), Column("entropy / ln C", key="entropy_ratio", numeric=True, short="H/ln C")],
        title=f"features per block ({report.images} image{'s' if report.images != 1 else ''})",
    )
    for b in report.blocks:
        table.add_row(b.name, str(b.channels), f"{b.mean_square:.3g}", f"{b.peak:.3g}", f"{b.entropy_ratio:.3f}")
    return table


def skip_table(report) -> Table:
    table = Table(
        [Column("skip", numeric=True), Column("C", key="channels", numeric=True), Column("RMS before", key="rms_before", numeric=True, short="before"),
         Column("RMS after", key="rms_after", numeric=True, short="after"), Column("after / before", key="ratio", numeric=True, short="ratio")],
        title="long skips (1 = outermost)",
    )
    for s in report.skips:
        table.add_row(str(s.index), str(s.channels), f"{s.rms_before:.3g}", f"{s.rms_after:.3g}", f"{s.ratio:.3g}")
    return table


def _plot(report, trajectory, folder: Path) -> list[Path]:
    from irestore.diagnostics.plots import plot_report, plot_trajectory, pyplot

    pyplot()  # fail with the install hint before creating anything
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if report is not None:
        written.append(plot_report(report, folder / "blocks.png"))
    if trajectory is not None:
        written.append(plot_trajectory(trajectory, folder / "trajectory.png"))
    return written
