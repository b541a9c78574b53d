"""Training configuration as plain values (nanoGPT style): defaults here, a TOML/YAML file over them,
``--set key=value`` over that.

Every knob of a run is one field of :class:`TrainConfig`, so the whole recipe is visible in one place
and is stored verbatim in the training state and the exported checkpoint.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from irestore.errors import ConfigError

DEGRADATIONS = ("denoise-gaussian", "denoise-real", "jpeg", "sr", "deblur", "derain")
LOSSES = ("l1", "charbonnier", "psnr")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class TrainConfig:
    # what to learn
    name: str = "run"
    task: str = "denoise-gaussian"
    gray: bool = False
    scale: int = 1
    degradation: dict[str, Any] = field(default_factory=dict)
    # the network
    model: str = "small"
    model_overrides: dict[str, Any] = field(default_factory=dict)
    init_weights: str = ""  # a release checkpoint to fine-tune from (same architecture); "" = random init
    # data
    data_root: str = ""
    train_dirs: list[str] = field(default_factory=lambda: ["train/BSD200", "train/T91"])
    downscale: dict[str, Any] = field(default_factory=dict)  # train folder -> factor its images shrink by on loading (full-size photos)
    paired_dirs: list[str] = field(default_factory=list)  # [input_dir, target_dir] of ready-made pairs
    paired_share: float = 0.0  # share of samples drawn from the pairs; 0 = in proportion to image counts
    paired_holdout: list[str] = field(default_factory=list)  # name prefixes of pairs kept out of training, validated on instead
    patch_size: int = 64
    batch_size: int = 8
    patch_schedule: list[list[int]] = field(default_factory=list)
    num_workers: int = 0
    # optimisation
    steps: int = 2000
    lr: float = 1e-3
    min_lr: float = 1e-6
    warmup_steps: int = 100
    weight_decay: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.99])
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    loss: str = "l1"
    fft_weight: float = 0.0
    psnr_floor_db: float = 0.0  # loss "psnr" only: > 0 bounds the gradient of patches cleaner than this PSNR (losses.py)
    max_nonfinite: int = 20
    # validation, logging, checkpoints
    val_dirs: list[str] = field(default_factory=lambda: ["test/CBSD68"])
    val_count: int = 10
    val_synthetic: int = 0  # with paired_holdout: also this many synthetic crops from val_dirs (held out of training)
    val_crop: int = 128
    val_degradation: dict[str, Any] = field(default_factory=dict)
    val_every: int = 250
    log_every: int = 10
    diag_every: int = 0
    checkpoint_every: int = 250
    out_dir: str = "runs"
    # machine
    seed: int = 0
    time_budget: float = 0.0
    anneal_by_time: bool = False  # cosine follows the time budget too, which then counts the whole run across resumes (schedule.py)
    threads: int = 0
    device: str = "auto"
    bf16: bool = False
    compile: bool = False

    def __post_init__(self) -> None:
        if self.task == "sr" and self.scale == 1:
            self.scale = 2
        problems = [
            (self.task in DEGRADATIONS, f"task {self.task!r} (choose {', '.join(DEGRADATIONS)})"),
            (self.loss in LOSSES, f"loss {self.loss!r} (choose {', '.join(LOSSES)})"),
            (self.psnr_floor_db == 0 or (self.loss == "psnr" and self.psnr_floor_db > 0), "psnr_floor_db needs loss 'psnr' and a positive value (0: none)"),
            (self.device in DEVICES, f"device {self.device!r} (choose {', '.join(DEVICES)})"),
            (self.steps > 0 and self.batch_size > 0 and self.patch_size > 0, "steps, batch_size and patch_size must be positive"),
            (self.task == "sr" or self.scale == 1, "scale applies to task 'sr' only"),
            (self.task != "sr" or self.scale in (2, 3, 4, 8), f"scale {self.scale} for sr (choose 2, 3, 4 or 8)"),
            (0.0 <= self.ema_decay < 1.0, f"ema_decay {self.ema_decay} must lie in [0, 1)"),
            (all(len(p) == 3 for p in self.patch_schedule), "patch_schedule entries are [start_step, patch, batch]"),
            (len(self.betas) == 2, "betas needs two values"),
            (self.log_every > 0 and self.checkpoint_every > 0, "log_every and checkpoint_every must be positive"),
            (self.val_every >= 0 and self.diag_every >= 0, "val_every and diag_every must be >= 0 (0 = never)"),
            (self.val_count > 0 and self.val_crop > 0, "val_count and val_crop must be positive"),
            (0.0 <= self.paired_share <= 1.0, "paired_share is a share in [0, 1]"),
            (not self.paired_holdout or bool(self.paired_dirs), "paired_holdout needs paired_dirs"),
            (self.val_synthetic >= 0 and (not self.val_synthetic or bool(self.paired_holdout)), "val_synthetic is a count >= 0 and needs paired_holdout"),
            (not self.anneal_by_time or self.time_budget > 0, "anneal_by_time needs a time_budget"),
            (set(self.downscale) <= set(self.train_dirs), "downscale names folders of train_dirs"),
            (all(type(f) is int and f >= 1 for f in self.downscale.values()), "downscale factors are integers >= 1"),
        ]
        bad = [what for ok, what in problems if not ok]
        if bad:
            raise ConfigError("invalid training config: " + "; ".join(bad))

    @property
    def model_task(self) -> str:
        """The model registry's task: ``denoise-real`` and ``denoise-gaussian`` both train ``denoise``."""
        return self.task.split("-")[0]

    @property
    def channels(self) -> int:
        return 1 if self.gray else 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "TrainConfig":
        """Build from plain values, naming ``source`` in the one-line error for unknown or mistyped keys."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"{source}: unknown training option {unknown[0]!r} (known: {', '.join(known)})")
        defaults = cls()
        for key, value in data.items():
            _check_type(source, key, value, getattr(defaults, key))
        values = {k: (float(v) if isinstance(getattr(defaults, k), float) else v) for k, v in data.items()}
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None


def _check_type(source: str, key: str, value: Any, default: Any) -> None:
    expected = type(default)
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        raise ConfigError(f"{source}: option {key!r} must be {expected.__name__}, got {value!r}")


def read_config_file(path: Path) -> dict[str, Any]:
    """Plain values from a TOML file, or a YAML file when PyYAML is installed."""
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfigError(f"{path}: YAML configs need PyYAML (pip install pyyaml), or use TOML") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file holds key = value pairs at the top level")
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """``key=value`` or ``table.key=value``; the value is read as TOML (numbers, booleans, lists),
    falling back to a bare string so ``--set model_overrides.norm=ln`` needs no quotes."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected key=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with each ``key=value`` set; dotted keys reach into tables."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for text in overrides:
        path, value = parse_override(text)
        if len(path) > 2:
            raise ConfigError(f"--set {text!r}: at most one dot (table.key)")
        if len(path) == 2:
            table = data.setdefault(path[0], {})
            if not isinstance(table, dict):
                raise ConfigError(f"--set {text!r}: {path[0]!r} is not a table")
            table[path[1]] = value
        else:
            data[path[0]] = value
    return data


def load_config(path: Path | None = None, overrides: list[str] | None = None, **values: Any) -> TrainConfig:
    """Defaults, then the file, then ``values`` (typed CLI flags that were given), then ``--set`` overrides.

    A run is named after its config file unless the file or an override names it.
    """
    data: dict[str, Any] = {}
    source = "command line"
    if path is not None:
        data = read_config_file(path)
        data.setdefault("name", path.stem)
        source = str(path)
    data.update({k: v for k, v in values.items() if v is not None})
    data = apply_overrides(data, overrides or [])
    return TrainConfig.from_dict(data, source=source)
