"""Claim an output file before making it, so that processes sharing an output folder split the work.

Several ``irestore ... --skip-existing`` runs on one folder (started by hand, by a job scheduler,
or one resuming while another still runs) would otherwise all restore the files nobody has
finished yet. A claim is a hidden file beside the output, ``.NAME.irestore-claim``, created with
``O_CREAT | O_EXCL``, which exactly one process can do, even on NFS; it holds the owner's PID and
host name. It is removed when the output is written, when restoring it fails and on Ctrl-C.

A process that died without removing its claim (killed, or the machine went down) leaves it
behind. A claim whose PID is no longer running on this host is stale and is taken over. One from
another host cannot be checked from here and holds until it is deleted by hand; so does one of a
Windows process, since checking a PID there is not safe from Python.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from irestore.errors import IRestoreError

CLAIM_SUFFIX = ".irestore-claim"
_UNWRITTEN_GRACE_S = 60.0  # a claim still empty after this lost its owner between create and write


class OutputClaimedError(IRestoreError):
    """Another live process holds the claim on this output."""

    def __init__(self, output: Path, holder: str) -> None:
        super().__init__(f"{output}: being made by another irestore ({holder})")


class Claim:
    """A held claim; leaving the ``with`` block (or :meth:`release`) removes it if it is still ours."""

    def __init__(self, path: Path, content: str) -> None:
        self.path, self.content = path, content

    def release(self) -> None:
        if _read(self.path) == self.content:
            with suppress(OSError):
                self.path.unlink()

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.release()


def claim_path(output: Path) -> Path:
    return output.with_name(f".{output.name}{CLAIM_SUFFIX}")


def claim_output(output: Path) -> Claim:
    """Claim ``output`` (whose folder must exist), or raise :class:`OutputClaimedError`.

    A stale claim is taken over by renaming it aside first: of several processes finding it stale
    at once, one rename succeeds, and a process whose rename caught a fresh claim instead (made
    by a faster one in between) puts that back.
    """
    path = claim_path(output)
    content = f"{os.getpid()} {socket.gethostname()}\n"
    for _ in range(3):
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            held = _read(path)
            if held is None:
                continue  # removed since: try again
            if not _stale(path, held):
                raise OutputClaimedError(output, _describe(held)) from None
            _take_over(path, held)
            continue
        except OSError as error:
            raise IRestoreError(f"{output}: cannot claim ({error.strerror or error})") from None
        with os.fdopen(descriptor, "w") as file:
            file.write(content)
        return Claim(path, content)
    raise OutputClaimedError(output, _describe(_read(path) or ""))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def _describe(held: str) -> str:
    parts = held.split(maxsplit=1)
    return f"pid {parts[0]} on {parts[1].strip()}" if len(parts) == 2 else "claim being written"


def _stale(path: Path, held: str) -> bool:
    parts = held.split(maxsplit=1)
    if len(parts) != 2 or not parts[0].isdigit():
        with suppress(OSError):
            return time.time() - path.stat().st_mtime > _UNWRITTEN_GRACE_S
        return False
    pid, host = int(parts[0]), parts[1].strip()
    if host != socket.gethostname():
        return False
    if pid == os.getpid():  # not one of ours (those are released): a PID reused, e.g. in a container
        return True
    return not _running(pid)


def _running(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl-C there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _take_over(path: Path, held: str) -> None:
    aside = path.with_name(f"{path.name}.{secrets.token_hex(4)}.stale")
    try:
        os.rename(path, aside)
    except OSError:
        return  # another process took it over first
    if _read(aside) != held:
        with suppress(OSError):
            os.link(aside, path)
    with suppress(OSError):
        aside.unlink()
