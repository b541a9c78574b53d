"""What a run reports: a live progress bar for the person watching and ``log.jsonl`` for later.

Every record is one JSON object per line with an ``event`` (``start``, ``train``, ``val``, ``diag``,
``skip``, ``checkpoint``, ``stop``, ``export``) and the ``step`` it belongs to, so a log can be read
with one ``json.loads`` per line and plotted without parsing text. A resumed run appends to the same
log, so steps between the last checkpoint and a kill appear twice: the later records are the ones
the final weights went through.
"""

from __future__ import annotations

import json
import math
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class RunLog:
    """Appends records to ``log.jsonl`` (flushed each time: a killed run keeps its log)."""

    def __init__(self, path: Path | None) -> None:
        self.file = open(path, "a", buffering=1) if path is not None else None

    def write(self, event: str, step: int, **fields: Any) -> None:
        if self.file is not None:
            record = {"event": event, "step": step, "time": round(time.time(), 3), **fields}
            self.file.write(json.dumps(record, default=_plain) + "\n")

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class ProgressBar:
    """Loss, val PSNR, steps/s and ETA; silent when disabled (other ranks, tests).

    On a terminal it is a live bar. In a log file or a pipe (``nohup irestore train ... > run.out``)
    a bar prints nothing until the run ends, so there it writes one plain line per validation.
    """

    def __init__(self, total: int, start: int, enabled: bool) -> None:
        console = Console(stderr=True)
        self.enabled = enabled
        self.live = enabled and console.is_terminal
        self.total = total
        self.started = time.monotonic()
        self.fields = {"loss": "-", "val": "-", "speed": "-"}
        self.progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  val {task.fields[val]}  {task.fields[speed]} it/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not self.live,
            refresh_per_second=4,
        )
        self.task = self.progress.add_task("train", total=total, completed=start, **self.fields)
        if self.live:
            self.progress.start()

    def update(self, step: int, *, loss: float | None = None, val: float | None = None, speed: float | None = None) -> None:
        if loss is not None:
            self.fields["loss"] = f"{loss:.4f}" if math.isfinite(loss) else "nan"
        if val is not None:
            self.fields["val"] = f"{val:.2f} dB"
        if speed is not None:
            self.fields["speed"] = f"{speed:.1f}"
        self.progress.update(self.task, completed=step, **self.fields)
        if self.enabled and not self.live and val is not None:
            f, elapsed = self.fields, timedelta(seconds=int(time.monotonic() - self.started))
            self.print(f"step {step}/{self.total}  loss {f['loss']}  val {f['val']}  {f['speed']} it/s  {elapsed}")

    def print(self, message: str) -> None:
        if self.enabled:
            self.progress.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        if self.live:
            self.progress.stop()
