"""Model registry and the restoration U-Net."""

from irestore.models.config import ModelConfig
from irestore.models.registry import TASKS, build_model, get_config, list_configs, register_config
from irestore.models.unet import RestorationUNet

__all__ = ["ModelConfig", "RestorationUNet", "TASKS", "build_model", "get_config", "list_configs", "register_config"]
