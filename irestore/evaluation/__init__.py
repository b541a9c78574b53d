"""Benchmark evaluation: datasets, protocol presets, baselines, the runner and its reports.

``evaluate(dataset, restore=..., task=...)`` returns one :class:`Result` per level; see
:mod:`irestore.evaluation.protocols` for the scoring conventions and
:mod:`irestore.evaluation.datasets` for where datasets are looked up.
"""

from irestore.evaluation.baselines import BASELINES, BaselineUnavailableError, make_baseline
from irestore.evaluation.datasets import CATALOG, DatasetSource, data_roots, open_dataset
from irestore.evaluation.protocols import PRESETS, Preset, get_preset, score
from irestore.evaluation.report import render_table, write_csv, write_json
from irestore.evaluation.runner import ImageScore, Result, choose_preset, evaluate
from irestore.evaluation.samples import Level, Sample, iter_samples

__all__ = [
    "BASELINES", "BaselineUnavailableError", "make_baseline", "CATALOG", "DatasetSource", "data_roots",
    "open_dataset", "PRESETS", "Preset", "get_preset", "score", "render_table", "write_csv", "write_json",
    "ImageScore", "Result", "choose_preset", "evaluate", "Level", "Sample", "iter_samples",
]
