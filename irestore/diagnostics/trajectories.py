"""Diagnostics over training: the ``diag`` records a run wrote to ``log.jsonl``, as series per key."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from irestore.diagnostics.report import DiagnosticsError
from irestore.models import ModelConfig, RestorationUNet


@dataclass
class Trajectory:
    """``steps[k]`` is the step of the k-th diagnostics record; ``series[key][k]`` its value (NaN if absent)."""

    run: str
    steps: list[int]
    series: dict[str, list[float]]
    loss: list[tuple[int, float]] = field(default_factory=list)
    skipped_steps: int = 0
    stopped: str | None = None

    def blocks(self) -> list[str]:
        """Block names in forward order, as the hook wrote them (``block.<name>.ms``)."""
        return [key[len("block.") : -len(".ms")] for key in self.series if key.startswith("block.") and key.endswith(".ms")]

    def skips(self) -> list[int]:
        return sorted({int(key.split(".")[1]) for key in self.series if key.startswith("skip.")})

    def last(self, key: str) -> float:
        values = self.series.get(key, [])
        return values[-1] if values else math.nan

    @property
    def diverged(self) -> bool:
        """Stopped for non-finite losses, or features that stopped being finite."""
        return self.stopped == "diverged" or not math.isfinite(self.last("peak_max"))

    def summary(self) -> list[str]:
        first, last = self.steps[0], self.steps[-1]
        peak, entropy = self.series.get("peak_max", [math.nan]), self.series.get("entropy_ratio_mean", [math.nan])
        lines = [
            f"Run {self.run}, steps {first}-{last}: peak feature magnitude {peak[0]:.2g} -> {peak[-1]:.2g}, "
            f"channel entropy {entropy[0]:.2f} -> {entropy[-1]:.2f} of its maximum."
        ]
        if self.diverged or self.skipped_steps:
            lines.append(f"{'It diverged' if self.diverged else 'It did not diverge'}; {self.skipped_steps} steps were skipped for non-finite losses or gradients.")
        return lines

    def to_dict(self) -> dict:
        return {"run": self.run, "steps": self.steps, "series": self.series, "skipped_steps": self.skipped_steps, "stopped": self.stopped, "diverged": self.diverged}


def log_file(run: Path) -> Path:
    path = Path(run)
    path = path / "log.jsonl" if path.is_dir() else path
    if not path.is_file():
        raise DiagnosticsError(f"{path}: no training log (pass a run folder holding log.jsonl)")
    return path


def read_trajectory(run: Path) -> Trajectory:
    """Read a run folder (or its ``log.jsonl``); a resumed run's repeated steps keep the latest record."""
    path = log_file(run)
    records: dict[int, dict] = {}
    loss: dict[int, float] = {}
    skipped, stopped = 0, None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise DiagnosticsError(f"{path}:{number}: not a JSON line") from None
        event = record.get("event")
        if event == "diag" and "error" not in record:
            records[int(record["step"])] = record
        elif event == "train" and "loss" in record:
            loss[int(record["step"])] = float(record["loss"])
        elif event == "skip":
            skipped += 1
        elif event == "stop":
            stopped = record.get("reason")
    if not records:
        raise DiagnosticsError(f"{path}: no diagnostics records (train with diag_every > 0, e.g. --set diag_every=100)")
    steps = sorted(records)
    keys = list(dict.fromkeys(k for s in steps for k in records[s] if k not in ("event", "step", "time")))
    series = {k: [float(records[s].get(k, math.nan)) for s in steps] for k in keys}
    return Trajectory(path.parent.name, steps, series, sorted(loss.items()), skipped, stopped)


def ema_model(run: Path) -> RestorationUNet:
    """The EMA weights a run folder's ``last.pt`` holds: the network that run would release now.

    The training package is imported here, not at the top, so the hook module the training loop
    imports does not import the training loop back.
    """
    from irestore.train.state import STATE_FILE, load_state

    path = Path(run) / STATE_FILE
    if not path.is_file():
        raise DiagnosticsError(f"{path}: no training state in this run folder (give --weights FILE or --model NAME)")
    state = load_state(path)
    model = RestorationUNet(ModelConfig.from_dict(state["model_config"]))
    model.load_state_dict(state["ema"]["model"])
    return model.eval()
