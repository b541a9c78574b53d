"""Diagnostics of a restoration network's features: magnitude, peak and channel entropy per block,
and the RMS of each long skip before and after its scaling (papers.md 1.2, 1.6, 3).

``log_diagnostics(model, batch)`` is the training loop's hook (every ``diag_every`` steps into
``log.jsonl``); ``diagnose(model, images)`` makes a :class:`Report`; :mod:`.plots` draws both.
"""

from irestore.diagnostics.probe import FeatureProbe, diagnose, log_diagnostics
from irestore.diagnostics.report import BlockStats, DiagnosticsError, Report, SkipStats
from irestore.diagnostics.stats import FeatureStats, channel_entropy
from irestore.diagnostics.trajectories import Trajectory, ema_model, read_trajectory

__all__ = [
    "BlockStats", "DiagnosticsError", "FeatureProbe", "FeatureStats", "Report", "SkipStats", "Trajectory",
    "channel_entropy", "diagnose", "ema_model", "log_diagnostics", "read_trajectory",
]
