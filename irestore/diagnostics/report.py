"""What ``diagnose`` found: per-block and per-skip numbers, a flat form for logs, JSON, and a summary."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from irestore.errors import IRestoreError


class DiagnosticsError(IRestoreError):
    """Diagnostics cannot be made: no model or images, a log without diagnostics, plots unavailable."""


@dataclass
class BlockStats:
    name: str
    channels: int
    mean_square: float
    peak: float
    entropy: float
    entropy_ratio: float


@dataclass
class SkipStats:
    """Long skip ``index`` (1 = outermost, ScaleLong's numbering): RMS before and after its scaling."""

    index: int
    channels: int
    rms_before: float
    rms_after: float

    @property
    def ratio(self) -> float:
        return self.rms_after / self.rms_before if self.rms_before > 0 else math.nan


@dataclass
class Report:
    blocks: list[BlockStats]
    skips: list[SkipStats]
    images: int
    model: dict = field(default_factory=dict)

    @property
    def peak_block(self) -> BlockStats:
        return max(self.blocks, key=lambda b: b.peak if math.isfinite(b.peak) else math.inf)

    @property
    def entropy_ratio_mean(self) -> float:
        values = [b.entropy_ratio for b in self.blocks if math.isfinite(b.entropy_ratio)]
        return sum(values) / len(values) if values else math.nan

    @property
    def lowest_entropy_block(self) -> BlockStats:
        return min(self.blocks, key=lambda b: b.entropy_ratio if math.isfinite(b.entropy_ratio) else -math.inf)

    def flat(self) -> dict[str, float]:
        """One level of keys for a training log: ``block.<name>.<stat>``, ``skip.<i>.<stat>``, summaries."""
        out: dict[str, float] = {
            "peak_max": self.peak_block.peak,
            "ms_max": max(b.mean_square for b in self.blocks),
            "entropy_ratio_mean": self.entropy_ratio_mean,
            "entropy_ratio_min": self.lowest_entropy_block.entropy_ratio,
        }
        for b in self.blocks:
            out.update({f"block.{b.name}.ms": b.mean_square, f"block.{b.name}.peak": b.peak, f"block.{b.name}.entropy_ratio": b.entropy_ratio})
        for s in self.skips:
            out.update({f"skip.{s.index}.rms_before": s.rms_before, f"skip.{s.index}.rms_after": s.rms_after})
        return out

    def to_dict(self) -> dict:
        return {
            "images": self.images,
            "model": self.model,
            "entropy_definition": "p_c = mean_{B,H,W}(x_c^2) / sum_c' mean(x_c'^2); H = -sum p_c ln p_c; ratio = H / ln C",
            "summary": {"peak_max": self.peak_block.peak, "peak_block": self.peak_block.name, "entropy_ratio_mean": self.entropy_ratio_mean},
            "blocks": [asdict(b) for b in self.blocks],
            "skips": [{**asdict(s), "ratio": s.ratio} for s in self.skips],
        }

    def write_json(self, path: Path) -> None:
        path = Path(path)
        if not path.parent.is_dir():
            raise DiagnosticsError(f"{path}: folder {path.parent} does not exist")
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    def summary(self) -> list[str]:
        """Two or three sentences a person can act on."""
        peak, low = self.peak_block, self.lowest_entropy_block
        lines = [
            f"Peak feature magnitude {peak.peak:.2g} at block {peak.name} (mean square there {peak.mean_square:.2g}).",
            f"Channel entropy {self.entropy_ratio_mean:.2f} of its maximum on average; lowest {low.entropy_ratio:.2f} at block {low.name}"
            + (" (a few channels carry most of the energy)." if low.entropy_ratio < 0.5 else "."),
        ]
        if self.skips:
            ratios = ", ".join(f"{s.ratio:.3g}" for s in self.skips)
            lines.append(f"Long skips keep {ratios} of their RMS after scaling (outermost first).")
        return lines
