"""Running one restore command over a batch: load the model once, then read -> restore -> write per file."""

from __future__ import annotations

import json
import sys
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import torch
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from irestore.cli.batch import STDIO, Job, check_extension, parse_shard, plan_jobs, select_shard, summary_table
from irestore.cli.jpeg_notes import inspect_jpeg
from irestore.cli.options import RunOptions
from irestore.cli.tables import render
from irestore.engine import Restorer
from irestore.engine.calibrate import EXACT_PASSES
from irestore.engine.device import choose_precision, resolve_device
from irestore.errors import IRestoreError
from irestore.io import decode_image, encode_image, read_bytes, write_image
from irestore.io.atomic import OutputExistsError
from irestore.io.claims import OutputClaimedError, claim_output
from irestore.models.zoo import LoadedModel, load_model, release_name
from irestore.models.jpeg_blend import blend, blend_weight
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
        self.gray_loaded: LoadedModel | None = None
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

    def for_channels(self, channels: int) -> tuple[Restorer, LoadedModel]:
        if channels == 1 and self.run.weights is None:
            if not self.gray_tried:
                self.gray, self.gray_loaded = self._load_gray()
                self.gray_tried = True
            if self.gray is not None:
                return self.gray, self.gray_loaded
        return self.primary, self.loaded

    def _load_gray(self) -> tuple[Restorer | None, LoadedModel | None]:
        for i, name in enumerate(self.gray_candidates()):
            try:
                restorer, loaded = self._load(name)
            except IRestoreError:
                continue
            if i > 0 and not self.run.quiet:
                stderr.print(f"irestore: note: gray input: using {name} (no gray {self._name(gray=True)} model is shipped)", markup=False, highlight=False, soft_wrap=True)
            return restorer, loaded
        return None, None

    def _load(self, name: str) -> tuple[Restorer, LoadedModel]:
        loaded = load_model(name, task=self.task, folder=self.run.weights_dir)
        return self._restorer(loaded), loaded

    def _restorer(self, loaded: LoadedModel) -> Restorer:
        run = self.run
        def report(done: int, total: int) -> None:
            if self.progress is not None:
                self.progress(done, total)

        passes = EXACT_PASSES if run.exact or loaded.stats_passes is None else loaded.stats_passes
        precision = choose_precision(run.precision, resolve_device(run.device), loaded.bf16_cost_db)
        return Restorer(
            loaded.model, tile=run.tile, overlap=run.tile_overlap, ensemble=run.ensemble, device=run.device, precision=precision,
            stats_passes=passes, memory_mb=run.memory_mb, progress=report, low_precision_stream=loaded.low_precision_stream,
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
            f"[bold]irestore {task}[/]: {escape(chooser.loaded.name)} ({_describe(restorer)}), device {restorer.device}, "
            f"{restorer.precision}{' (auto)' if run.precision == 'auto' else ''}, tile {run.tile if run.tile is not None else 'auto'} "
            f"({restorer.stats_passes} statistics pass{'es' if restorer.stats_passes != 1 else ''}{'' if run.exact or chooser.loaded.stats_passes is None else ', calibrated'}), "
            f"ensemble {'x8' if run.ensemble else 'off'}"
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
        render(summary_table(jobs), console=stderr)
    return 1 if failed else 0


def _run_job(job: Job, chooser: ModelChooser, run: RunOptions) -> None:
    """Restore one file and record what happened in ``job``.

    Under ``--skip-existing`` an output that exists, that another process has claimed, or that
    appears while this one restores it means skipped, not failed: reruns racing a running batch
    and workers sharing an output folder then make each file once, and all exit 0.
    """
    start = time.perf_counter()
    try:
        with ExitStack() as claims:
            _restore_job(job, chooser, run, claims)
    except OutputClaimedError as exc:
        job.status, job.reason = "skipped", str(exc)
    except OutputExistsError as exc:
        if run.skip_existing:
            job.status, job.reason = "skipped", "output appeared while restoring (written by another process)"
        else:
            job.status, job.error = "failed", str(exc)
    except IRestoreError as exc:
        job.status, job.error = "failed", str(exc)
    finally:
        job.seconds = time.perf_counter() - start


def _restore_job(job: Job, chooser: ModelChooser, run: RunOptions, claims: ExitStack) -> None:
    """The claim, when one is taken, is dropped on leaving ``claims``: done, failed or Ctrl-C."""
    check_extension(job.target if job.target == STDIO or run.ext is None else job.target)
    target = None if job.target == STDIO else Path(job.target)
    if target is not None and target.exists():
        if run.skip_existing:
            job.status, job.reason = "skipped", "output exists"
            return
        if not run.overwrite:
            raise IRestoreError(f"{job.target}: output exists (use --overwrite or --skip-existing)")
    if job.make_folder:
        Path(job.target).parent.mkdir(parents=True, exist_ok=True)
    if target is not None and run.skip_existing:
        claims.enter_context(claim_output(target))
        if target.exists():  # finished by another process between the check above and the claim
            job.status, job.reason = "skipped", "output exists"
            return
    data = sys.stdin.buffer.read() if job.source == STDIO else read_bytes(job.source)
    image = decode_image(data, name="<stdin>" if job.source == STDIO else job.source, max_pixels=run.max_pixels)
    for note in image.notes:
        job.warnings.append(f"{note} restored")
        stderr.print(f"irestore: warning: {image.source}: {note} restored", markup=False, highlight=False, soft_wrap=True)
    restorer, loaded = chooser.for_channels(image.pixels.shape[2])
    weight = _jpeg_weight(job, image.source, data, loaded, run.quiet) if chooser.task == "jpeg" else 1.0
    restored = restore_image(image, restorer) if weight > 0 else image
    if 0 < weight < 1:
        restored = replace(restored, pixels=blend(image.pixels, restored.pixels, weight))
    if target is None:
        sys.stdout.buffer.write(encode_image(restored, (run.ext or "png").lstrip(".")))
        sys.stdout.buffer.flush()
    else:
        write_image(target, restored, overwrite=run.overwrite)
    h, w = restored.pixels.shape[:2]
    job.size, job.status = f"{w}x{h}", "ok"


def _jpeg_weight(job: Job, source: str, data: bytes, loaded: LoadedModel, quiet: bool) -> float:
    """How much of the model's change to keep for this file (:mod:`irestore.models.jpeg_blend`).

    The quality read from the file goes to the report and a note line; a quality the model was not
    trained for is a warning."""
    info, warning = inspect_jpeg(data, loaded.meta)
    job.details["jpeg"] = info.to_dict() if info else None
    weight = blend_weight(info.quality, loaded.entry.get("jpeg_blend")) if info else 1.0
    if info is not None:
        job.details["jpeg"]["kept"] = round(weight, 3)
        if not quiet:
            kept = "" if weight >= 1 else ": nothing to remove, written unchanged" if weight <= 0 else f": keeping {weight:.0%} of the model's change, as fitted for this quality"
            stderr.print(f"irestore: {source}: {info.describe()}{kept}", markup=False, highlight=False, soft_wrap=True)
    if warning:
        job.warnings.append(warning)
        stderr.print(f"irestore: warning: {source}: {warning}", markup=False, highlight=False, soft_wrap=True)
    return weight

def _describe(restorer: Restorer) -> str:
    c = restorer.config
    blocks = sum(c.enc_blocks) + c.mid_blocks + sum(c.dec_blocks)
    return f"{c.mixer}/{c.norm}, width {c.width}, {blocks} blocks"


def _progress(disabled: bool) -> Progress:
    """A bar on a terminal only: in a log or a pipe it would leave a stray blank line."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
        disable=disabled or not stderr.is_terminal,
        transient=True,
    )
