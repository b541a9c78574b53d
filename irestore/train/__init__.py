"""Training: config, the loop, resumable state, export of release weights."""

from irestore.train.config import TrainConfig, apply_overrides, load_config
from irestore.train.export import export_run, export_state, release_info
from irestore.train.loop import TrainingDiverged, TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "TrainingDiverged", "apply_overrides", "export_run", "export_state", "load_config", "release_info", "train"]
