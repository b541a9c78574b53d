"""Find the images in a folder, in a stable order."""

from __future__ import annotations

import os
from pathlib import Path

from irestore.errors import DatasetError
from irestore.io.image import IMAGE_EXTENSIONS


def list_images(folder: str | Path, *, recursive: bool = False) -> list[Path]:
    """Image files (by extension, any case) sorted by path, so paired folders line up.

    Hidden files and folders are skipped: they hold irestore's own ``.name.tmp`` files, macOS
    ``._name.png`` resource forks and ``.ipynb_checkpoints`` copies, none of which are inputs.
    Symlinked folders are not followed when recursing, so a link cycle cannot loop forever.
    """
    folder = Path(folder)
    if not folder.is_dir():
        reason = "is not a folder" if folder.exists() else "folder not found"
        raise DatasetError(f"{folder}: {reason}")
    found: list[Path] = []
    for root, subfolders, files in os.walk(folder):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")] if recursive else []
        found.extend(
            Path(root, name)
            for name in files
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_EXTENSIONS
        )
    if not found:
        where = " or its subfolders" if recursive else ""
        raise DatasetError(f"{folder}: no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) in this folder{where}")
    return sorted(found)
