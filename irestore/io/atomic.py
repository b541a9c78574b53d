"""Put bytes at a path so that readers see either the old file or the complete new one."""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from pathlib import Path

from irestore.errors import ImageWriteError


def write_atomically(path: Path, data: bytes) -> None:
    """Write a hidden temp file in the same folder, fsync it, then ``os.replace`` it into place.

    The temp file must share the folder (and so the file system) for the rename to be atomic; its
    leading dot and ``.tmp`` suffix keep it out of image listings should the process be killed.
    It is created with mode 0o666 so the umask applies, as for any new file (``mkstemp`` would give
    0o600). On any failure it is removed and an existing file at ``path`` is left untouched.
    """
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException as error:
        with suppress(OSError):
            temp.unlink()
        if isinstance(error, OSError):
            raise ImageWriteError(f"{path}: cannot write ({error.strerror or error})") from error
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Persist the rename itself (POSIX); best effort, as some systems cannot open a folder."""
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
