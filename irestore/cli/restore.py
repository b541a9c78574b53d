"""Running one restore command over a batch: load the model once, then read -> restore -> write per file."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from irestore.cli.batch import STDIO, Job, check_extension, parse_shard, plan_jobs, select_shard
from irestore.cli.options import RunOptions
from irestore.engine import Restorer
from irestore.errors import IRestoreError
from irestore.io import decode_image, encode_image, read_image, write_image
from irestore.models.zoo import LoadedModel, load_model, release_name
from irestore.pipeline import restore_image

stderr = Console(stderr=True)


class ModelChooser:
    """The task's model, and its gray sibling for gray images when one is shipped (loaded on first use).

    A colour model sees a gray image as three identical channels, and noise identical in all three
    looks like image content to a denoiser trained on per-channel noise: the shipped colour
    denoisers leave it almost untouched (+0.2-0.3 dB on a gray photo). So a gray image given to
    ``denoise`` uses a gray model even when only the Gaussian one is shipped, and says so once.
    """

    def __init__(self, task: str, variant: dict, run: RunOptions) -> None:
        self.task, self.variant, self.run = task, variant, run
        self.gray: Restorer | None = None
        self.gray_tried = False
        self.progress = None
        self.primary, self.loaded = self._load(self._name(gray=False))

    def _name(self, gray: bool, **variant) -> str:
        return str(self.run.weights) if self.run.weights else release_name(self.task, gray=gray, **{**self.variant, **variant})

    def gray_candidates(self) -> list[str]:
        names = [self._name(gray=True)]
        if self.task == "denoise" and self.variant.get("noise", "real") != "gaussian":
            names.append(self._name(gray=True, noise="gaussian"))
        return names

    def for_channels(self, channels: int) -> Restorer:
        if channels == 1 and self.run.weights is None:
            if not self.gray_tried:
                self.gray, self.gray_tried = self._load_gray(), True
            if self.gray is not None:
                return self.gray
        return self.primary

    def _load_gray(self) -> Restorer | None:
        for i, name in enumerate(self.gray_candidates()):
            try:
                restorer, _ = self._load(name)
            except IRestoreError:
                continue
            if i > 0 and not self.run.quiet:
                stderr.print(f"irestore: note: gray input: using {name} (no gray {self._name(gray=True)} model is shipped)", markup=False, highlight=False, soft_wrap=True)
            return restorer
        return None

    def _load(self, name: str) -> tuple[Restorer, LoadedModel]:
        loaded = load_model(name, task=self.task)
        return self._restorer(loaded), loaded

    def _restorer(self, loaded: LoadedModel) -> Restorer:
        run = self.run
        def report(done: int, total: int) -> None:
            if self.progress is not None:
                self.progress(done, total)

        return Restorer(
            loaded.model, tile=run.tile, overlap=run.tile_overlap, ensemble=run.ensemble, device=run.device, precision=run.precision, memory_mb=run.memory_mb, progress=report
        )


def sigma_note(meta: dict, sigma: float) -> str | None:
    """The models are blind; a noise-level hint outside their training range earns a warning."""
    low, high = meta.get("recipe", {}).get("degradation", {}).get("sigma_range", (0, 50))
    if low <= sigma <= high:
        return None
    return f"--sigma {sigma:g} lies outside the sigma {low:g}-{high:g} this model was trained on; expect a weaker result"


def run_restore(task: str, variant: dict, run: RunOptions, *, sigma: float | None = None) -> int:
    """Restore every input; return the exit code (1 when any file failed)."""
    if run.threads:
        torch.set_num_threads(run.threads)
    if run.overwrite and run.skip_existing:
        raise IRestoreError("--overwrite and --skip-existing contradict each other; choose one")
    if run.json_report and run.output == STDIO:
        raise IRestoreError("--json and -o - both want stdout; write the image to a file instead")
    jobs = plan_jobs(run.inputs, run.output, recursive=run.recursive, suffix=run.suffix, ext=run.ext, default_suffix=f"_{task}")
    index, count = parse_shard(run.shard)
    jobs = select_shard(jobs, index, count)
    chooser = ModelChooser(task, variant, run)
    quiet = run.quiet
    note = sigma_note(chooser.loaded.meta, sigma) if sigma is not None else None
    if note:
        stderr.print(f"irestore: warning: {note}", markup=False, highlight=False, soft_wrap=True)
    if not quiet:
        restorer = chooser.primary
        header = (
            f"[bold]irestore {task}[/]: {chooser.loaded.name} ({_describe(restorer)}), device {restorer.device}, {run.precision}, "
            f"tile {run.tile if run.tile is not None else 'auto'}, ensemble {'x8' if run.ensemble else 'off'}"
        )
        stderr.print(header + (f", shard {index}/{count}" if count > 1 else ""), soft_wrap=True)
    with _progress(quiet or not jobs) as progress:
        files = progress.add_task("files", total=len(jobs))
        tiles = progress.add_task("tiles", total=None, visible=False)
        chooser.progress = lambda done, total: progress.update(tiles, completed=done, total=total, visible=total > 1)
        for job in jobs:
            _run_job(job, chooser, run)
            progress.advance(files)
    failed = sum(j.status == "failed" for j in jobs)
    if run.json_report:
        summary = {"task": task, "ok": sum(j.status == "ok" for j in jobs), "skipped": sum(j.status == "skipped" for j in jobs), "failed": failed, "files": [j.report() for j in jobs]}
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    if len(jobs) == 1 and failed:
        stderr.print(f"irestore: error: {jobs[0].error}", markup=False, highlight=False, soft_wrap=True)
    elif not quiet and len(jobs) > 1:
        stderr.print(_summary_table(jobs))
    return 1 if failed else 0


def _run_job(job: Job, chooser: ModelChooser, run: RunOptions) -> None:
    start = time.perf_counter()
    try:
        check_extension(job.target if job.target == STDIO or run.ext is None else job.target)
        if job.target != STDIO and Path(job.target).exists():
            if run.skip_existing:
                job.status = "skipped"
                return
            if not run.overwrite:
                raise IRestoreError(f"{job.target}: output exists (use --overwrite or --skip-existing)")
        if job.make_folder:
            Path(job.target).parent.mkdir(parents=True, exist_ok=True)
        if job.source == STDIO:
            image = decode_image(sys.stdin.buffer.read(), name="<stdin>", max_pixels=run.max_pixels)
        else:
            image = read_image(job.source, max_pixels=run.max_pixels)
        restored = restore_image(image, chooser.for_channels(image.pixels.shape[2]))
        if job.target == STDIO:
            sys.stdout.buffer.write(encode_image(restored, (run.ext or "png").lstrip(".")))
            sys.stdout.buffer.flush()
        else:
            write_image(job.target, restored, overwrite=run.overwrite)
        h, w = restored.pixels.shape[:2]
        job.size, job.status = f"{w}x{h}", "ok"
    except IRestoreError as exc:
        job.status, job.error = "failed", str(exc)
    finally:
        job.seconds = time.perf_counter() - start


def _describe(restorer: Restorer) -> str:
    c = restorer.config
    blocks = sum(c.enc_blocks) + c.mid_blocks + sum(c.dec_blocks)
    return f"{c.mixer}/{c.norm}, width {c.width}, {blocks} blocks"


def _progress(disabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=stderr, disable=disabled, transient=True
    )


def _summary_table(jobs: list[Job]) -> Table:
    table = Table(title="irestore summary", show_lines=False)
    for column in ("input", "status", "seconds", "size", "output / error"):
        table.add_column(column)
    colours = {"ok": "green", "skipped": "yellow", "failed": "red"}
    for j in jobs:
        table.add_row(j.source, f"[{colours.get(j.status, 'white')}]{j.status}[/]", f"{j.seconds:.2f}", j.size, j.error or j.target)
    return table
