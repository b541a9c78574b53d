"""Batch mechanics of the restore commands: which inputs, which outputs, which share, what happened.

Inputs are files, folders (``--recursive`` for sub-folders) or ``-`` for stdin. Outputs keep the
relative path and name of each input under an output folder (``--suffix`` and ``--ext`` adjust the
name). A file is never overwritten unless asked. Work is split over processes by a stable
round-robin of the sorted job list: ``--shard I/N`` for job arrays, and the ``RANK``/``WORLD_SIZE``
variables that ``torchrun`` sets, so each process restores its own files and none twice.

Reruns converge: what a run writes is never input to the next one with the same arguments. The
output folder is not entered when listing an input folder that contains it, and a file named as
this run would name the output of another input beside it (``NAME_<task>.*`` next to ``NAME.*``)
is left out, whatever its extension, so that a rerun does not restore its own outputs again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from irestore.errors import IRestoreError
from irestore.io import IMAGE_EXTENSIONS, list_images

STDIO = "-"


@dataclass
class Job:
    source: str
    target: str
    status: str = "pending"
    seconds: float = 0.0
    size: str = ""
    error: str = ""
    make_folder: bool = False
    reason: str = ""  # why a file was skipped
    warnings: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)  # what the input itself says, e.g. its JPEG quality

    def report(self) -> dict:
        return {"input": self.source, "output": self.target, "status": self.status, "seconds": round(self.seconds, 3), "size": self.size, "error": self.error, "reason": self.reason, "warnings": self.warnings, **self.details}


def parse_shard(text: str | None) -> tuple[int, int]:
    """``I/N`` with 0 <= I < N, combined with torchrun's RANK/WORLD_SIZE when present."""
    index, count = 0, 1
    if text:
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise IRestoreError(f"--shard {text}: expected I/N, e.g. 0/4") from None
        if count < 1 or not 0 <= index < count:
            raise IRestoreError(f"--shard {text}: need 0 <= I < N")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return index * world + rank, count * world


def plan_jobs(inputs: list[str], output: str | None, *, recursive: bool, suffix: str, ext: str | None, default_suffix: str) -> list[Job]:
    """Map every input image to its output path (without touching the disk beyond listing)."""
    if not inputs:
        raise IRestoreError("no input given (a file, a folder, or - for stdin)")
    if STDIO in inputs:
        if len(inputs) > 1:
            raise IRestoreError("- (stdin) cannot be combined with other inputs")
        if output is None:
            raise IRestoreError("reading stdin needs -o FILE or -o - for stdout")
        return [Job(STDIO, output)]
    outside = [output] if output not in (None, STDIO) else []
    sources: list[tuple[Path, Path]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            sources += [(p, p.relative_to(path)) for p in list_images(path, recursive=recursive, exclude=outside)]
        else:
            sources.append((path, Path(path.name)))
    folder_mode = len(sources) > 1 or any(Path(i).is_dir() for i in inputs)
    sources = _once_each(sources)
    if output == STDIO:
        if folder_mode:
            raise IRestoreError("-o - (stdout) takes exactly one input image")
        return [Job(str(sources[0][0]), STDIO)]
    if output is not None and not folder_mode and not _is_folder(output):
        return [Job(str(sources[0][0]), output)]
    name_suffix = suffix or ("" if output else default_suffix)
    jobs = [Job(str(src), str(_target(src, rel, output, name_suffix, ext)), make_folder=output is not None) for src, rel in sources]
    return _one_input_per_output(_without_own_outputs(jobs))


def _once_each(sources: list[tuple[Path, Path]]) -> list[tuple[Path, Path]]:
    """A file named twice (``a.png a.png``, or a file and its folder) is restored once."""
    seen: set[str] = set()
    kept = []
    for src, rel in sources:
        key = os.path.normcase(os.path.realpath(src))
        if key not in seen:
            seen.add(key)
            kept.append((src, rel))
    return kept


def _one_input_per_output(jobs: list[Job]) -> list[Job]:
    """Refuse a plan that writes two inputs to one file (``x/a.png y/a.png -o out``, or ``a.jpg``
    and ``a.png`` with ``--ext png``): the second would fail on the first's output, or overwrite it."""
    owners: dict[str, str] = {}
    for job in jobs:
        key = os.path.normcase(os.path.abspath(job.target))
        if key in owners:
            raise IRestoreError(f"{owners[key]} and {job.source} would both be written to {job.target}; restore them separately or with --suffix")
        owners[key] = job.source
    return jobs


def _without_own_outputs(jobs: list[Job]) -> list[Job]:
    """Drop jobs whose input is, but for the extension, the output of another job of this run.

    ``photo_denoise.png`` beside ``photo.jpg`` came from it (the user may have changed ``--ext``
    since), and restoring it would make ``photo_denoise_denoise.png`` on every rerun. A job whose
    output is its own input is not dropped: writing it fails on the existing file unless asked.
    """
    folders: dict[Path, str] = {}

    def key(path: str) -> tuple[str, str]:
        where = Path(path)
        if where.parent not in folders:
            folders[where.parent] = os.path.normcase(os.path.realpath(where.parent))
        return folders[where.parent], where.stem

    made: set[tuple[str, str]] = set()
    for job in jobs:
        if key(job.target) != key(job.source):  # not in place (-o its own folder, no suffix)
            made.add(key(job.target))
    return [job for job in jobs if key(job.source) not in made]


def _is_folder(output: str) -> bool:
    return output.endswith(("/", os.sep)) or Path(output).is_dir()


def _target(src: Path, rel: Path, output: str | None, suffix: str, ext: str | None) -> Path:
    new_ext = ext if ext is None or ext.startswith(".") else f".{ext}"
    name = f"{rel.stem}{suffix}{new_ext or rel.suffix}"
    if output is None:
        return src.with_name(name)
    return Path(output) / rel.parent / name


def select_shard(jobs: list[Job], index: int, count: int) -> list[Job]:
    return jobs[index::count]


def check_extension(path: str) -> None:
    if path != STDIO and Path(path).suffix.lower() not in IMAGE_EXTENSIONS:
        raise IRestoreError(f"{path}: unsupported output extension (use one of {', '.join(sorted(IMAGE_EXTENSIONS))})")


def summary_table(jobs: list[Job]):
    """What happened to each file, as an :class:`irestore.cli.tables.Table` (paths are never cut short).

    Print it with ``tables.render(summary_table(jobs), console=stderr)``: a rich table when stderr is
    a terminal (timing and size hidden first when narrow), Markdown when stderr goes to a file.
    """
    from irestore.cli.tables import Column, Table

    colours = {"ok": "green", "skipped": "yellow", "failed": "red"}
    table = Table(
        [Column("input"), Column("status", styles=colours), Column("seconds", numeric=True, short="s", drop=2),
         Column("size", drop=1), Column("output / error", key="output_or_error")],
        title="irestore summary",
    )
    for j in jobs:
        table.add_row(j.source, j.status, f"{j.seconds:.2f}", j.size, j.error or j.target)
    return table
