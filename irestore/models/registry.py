"""Named model configurations, built with overrides by keyword (as timm's ``create_model``)."""

from __future__ import annotations

from irestore.errors import ConfigError
from irestore.models.config import ModelConfig
from irestore.models.unet import RestorationUNet

TASKS = ("denoise", "sr", "jpeg", "deblur", "derain")

_CONFIGS: dict[str, ModelConfig] = {}


def register_config(name: str, config: ModelConfig) -> None:
    _CONFIGS[name] = config


def list_configs() -> list[str]:
    return sorted(_CONFIGS)


def get_config(name: str, **overrides) -> ModelConfig:
    if name not in _CONFIGS:
        raise ConfigError(f"unknown model config {name!r}; known: {', '.join(list_configs())}")
    return _CONFIGS[name].replace(**overrides) if overrides else _CONFIGS[name]


def build_model(name: str = "small", *, task: str = "denoise", channels: int = 3, scale: int | None = None, **overrides) -> RestorationUNet:
    """Build a named config for a task: ``channels`` in and out, ``scale`` only for ``sr`` (default 2)."""
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task == "sr":
        scale = scale or 2
    elif scale not in (None, 1):
        raise ConfigError(f"task {task!r} restores at the input size; --scale applies to sr only")
    config = get_config(name, in_channels=channels, out_channels=channels, scale=scale or 1, **overrides)
    return RestorationUNet(config)


register_config("tiny", ModelConfig(width=8, enc_blocks=(1, 1), mid_blocks=1, dec_blocks=(1, 1), heads=(1, 1, 2)))
register_config("small", ModelConfig(width=16, enc_blocks=(1, 1, 1), mid_blocks=2, dec_blocks=(1, 1, 1), heads=(1, 1, 2, 4)))
register_config("base", ModelConfig(width=24, enc_blocks=(2, 2, 2), mid_blocks=4, dec_blocks=(2, 2, 2), heads=(1, 2, 4, 8)))
