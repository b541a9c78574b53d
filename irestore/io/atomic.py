"""Put bytes at a path so that readers see either the old file or the complete new one."""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from pathlib import Path

from irestore.errors import ImageWriteError


class OutputExistsError(ImageWriteError):
    """The output exists, perhaps written by another process a moment ago, and may not be replaced."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path}: already exists; refusing to overwrite it")


def write_atomically(path: Path, data: bytes, *, replace: bool = True) -> None:
    """Write a hidden temp file in the same folder, fsync it, then move it into place.

    The temp file must share the folder (and so the file system) for the move to be atomic; its
    leading dot and ``.tmp`` suffix keep it out of image listings should the process be killed.
    It is created with mode 0o666 so the umask applies, as for any new file (``mkstemp`` would give
    0o600). On any failure it is removed and an existing file at ``path`` is left untouched.

    ``replace=False`` publishes only where nothing is at ``path`` yet, in one step: checking first
    and renaming after would let a process sharing the folder write the file in between, and be
    silently replaced. It raises :class:`OutputExistsError` then.
    """
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temp, path)
        else:
            _publish_new(temp, path)
    except BaseException as error:
        with suppress(OSError):
            temp.unlink()
        if isinstance(error, FileExistsError):
            raise OutputExistsError(path) from None
        if isinstance(error, OSError):
            raise ImageWriteError(f"{path}: cannot write ({error.strerror or error})") from error
        raise
    _sync_folder(path.parent)


def _publish_new(temp: Path, path: Path) -> None:
    """Give ``temp`` the name ``path`` unless that exists (FileExistsError), atomically where possible.

    POSIX ``rename`` replaces, but ``link`` fails on an existing name; Windows' ``rename`` fails on
    one itself. A file system without hard links (FAT, some network shares) falls back to a check
    and a rename, which leaves the race open there only.
    """
    if os.name == "nt":
        os.rename(temp, path)
        return
    try:
        os.link(temp, path)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(temp, path)
        return
    with suppress(OSError):
        temp.unlink()


def _sync_folder(folder: Path) -> None:
    """Persist the rename itself (POSIX); best effort, as some systems cannot open a folder."""
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
