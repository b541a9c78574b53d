"""Find the images in a folder, in a stable order."""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

from irestore.errors import DatasetError
from irestore.io.image import IMAGE_EXTENSIONS


def list_images(folder: str | Path, *, recursive: bool = False, exclude: Iterable[str | Path] = ()) -> list[Path]:
    """Image files (by extension, any case) sorted by path, so paired folders line up.

    Hidden files and folders are skipped: they hold irestore's own ``.name.tmp`` files, macOS
    ``._name.png`` resource forks and ``.ipynb_checkpoints`` copies, none of which are inputs.
    Symlinked folders are not followed when recursing, so a link cycle cannot loop forever.
    Sub-folders that are one of ``exclude`` (compared as files, so any spelling or link to them
    matches) are not entered: a restore's output folder inside its input tree is not input.
    """
    folder = Path(folder)
    if not folder.is_dir():
        reason = "is not a folder" if folder.exists() else "folder not found"
        raise DatasetError(f"{folder}: {reason}")
    skipped = _identities(exclude)
    found: list[Path] = []
    for root, subfolders, files in os.walk(folder):
        entered = [name for name in subfolders if not name.startswith(".")] if recursive else []
        subfolders[:] = [name for name in entered if not skipped or _identity(Path(root, name)) not in skipped]
        found.extend(
            Path(root, name)
            for name in files
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_EXTENSIONS
        )
    if not found:
        where = " or its subfolders" if recursive else ""
        raise DatasetError(f"{folder}: no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) in this folder{where}")
    return sorted(found)


def _identity(path: Path) -> tuple[int, int] | None:
    with suppress(OSError):
        stat = path.stat()
        return stat.st_dev, stat.st_ino
    return None


def _identities(paths: Iterable[str | Path]) -> set[tuple[int, int]]:
    return {identity for path in paths if (identity := _identity(Path(path))) is not None}
