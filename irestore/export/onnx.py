"""ONNX export with dynamic height and width, and an onnxruntime restorer that pads like the engine.

The graph is the model's ``forward_features``: inputs whose height and width are multiples of
the model's size multiple. Padding to the multiple and cropping stay outside the graph, in numpy,
as the engine does them, because their amounts would be baked into a traced graph. Whole-image
statistics (i-LN, pools) become plain means over the input, so the graph is exact for a whole
image; tiling with shared statistics needs the engine's passes, so onnxruntime serves images
that fit memory in one piece.

``onnx`` and ``onnxruntime`` are an optional extra (``pip install irestore[onnx]``), imported
only here and only when used. Export uses PyTorch's TorchScript-based exporter, which needs
nothing beyond ``onnx`` (the newer dynamo exporter would also need ``onnxscript``).
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from torch import Tensor, nn

from irestore.engine.restorer import padded_window, padding
from irestore.errors import IRestoreError
from irestore.models.config import ModelConfig

OPSET = 17
INPUT, OUTPUT = "image", "restored"


class ExportError(IRestoreError):
    """An export cannot be written or run (missing optional package, bad path)."""


def require(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ExportError(f"{name} is not installed: pip install 'irestore[onnx]' (onnx and onnxruntime)") from None


class _Features(nn.Module):
    """The traced function: ``forward_features`` of a padded (B, C, H, W) batch."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model.forward_features(x)


def export_onnx(model: nn.Module, path: str | Path, *, opset: int = OPSET) -> Path:
    """Write ``model`` as ONNX with dynamic batch, height and width; return the path."""
    require("onnx")
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"{path}: folder {path.parent} does not exist")
    cfg = model.config
    side = 4 * cfg.multiple
    example = torch.rand(1, cfg.in_channels, side, side + cfg.multiple)
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Features(model.eval()),
            (example,),
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: axes, OUTPUT: {0: "batch", 2: "out_height", 3: "out_width"}},
        )
    return path


def session(path: str | Path, threads: int | None = None):
    """An onnxruntime CPU session; ``threads`` sets the intra-op pool (None: onnxruntime's default)."""
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxRestorer:
    """Restore float32 HxWxC images in [0, 1] with an exported model of ``config``: whole image, CPU."""

    def __init__(self, path: str | Path, config: ModelConfig, *, threads: int | None = None) -> None:
        self.session = session(path, threads)
        self.config = config

    def __call__(self, img: np.ndarray) -> np.ndarray:
        if img.ndim == 2:
            img = img[..., None]
        h, w, channels = img.shape
        if channels != self.config.in_channels:
            raise ExportError(f"the model takes {self.config.in_channels} channels, the image has {channels}")
        ph, pw, mode = padding(h, w, self.config.multiple)
        x = padded_window(img, 0, ph, 0, pw, mode).transpose(2, 0, 1)[None]
        y = self.session.run([OUTPUT], {INPUT: np.ascontiguousarray(x)})[0]
        s = self.config.scale
        out = np.ascontiguousarray(y[0, :, : h * s, : w * s].transpose(1, 2, 0))
        return np.clip(out, 0.0, 1.0, out=out)


def onnx_parity(model: nn.Module, path: str | Path, *, height: int = 72, width: int = 100, seed: int = 0) -> float:
    """Largest absolute difference between PyTorch and onnxruntime on a random image (not a multiple of the size)."""
    cfg = model.config
    img = np.random.default_rng(seed).random((height, width, cfg.in_channels), dtype=np.float32)
    x = torch.from_numpy(img.transpose(2, 0, 1).copy())[None]
    with torch.no_grad():
        expected = model.eval()(x)[0].clamp(0, 1).permute(1, 2, 0).numpy()
    got = OnnxRestorer(path, cfg)(img)
    return float(np.abs(got - expected).max())
