"""Batch mechanics of the restore commands: which inputs, which outputs, which share, what happened.

Inputs are files, folders (``--recursive`` for sub-folders) or ``-`` for stdin. Outputs keep the
relative path and name of each input under an output folder (``--suffix`` and ``--ext`` adjust the
name). A file is never overwritten unless asked. Work is split over processes by a stable
round-robin of the sorted job list: ``--shard I/N`` for job arrays, and the ``RANK``/``WORLD_SIZE``
variables that ``torchrun`` sets, so each process restores its own files and none twice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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

    def report(self) -> dict:
        return {"input": self.source, "output": self.target, "status": self.status, "seconds": round(self.seconds, 3), "size": self.size, "error": self.error}


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
    sources: list[tuple[Path, Path]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            sources += [(p, p.relative_to(path)) for p in list_images(path, recursive=recursive)]
        else:
            sources.append((path, Path(path.name)))
    folder_mode = len(sources) > 1 or any(Path(i).is_dir() for i in inputs)
    if output == STDIO:
        if folder_mode:
            raise IRestoreError("-o - (stdout) takes exactly one input image")
        return [Job(str(sources[0][0]), STDIO)]
    if output is not None and not folder_mode and not _is_folder(output):
        return [Job(str(sources[0][0]), output)]
    name_suffix = suffix or ("" if output else default_suffix)
    return [Job(str(src), str(_target(src, rel, output, name_suffix, ext)), make_folder=output is not None) for src, rel in sources]


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
