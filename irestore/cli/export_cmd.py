"""``irestore export``: write a checkpoint for another runtime (ONNX) and check it against PyTorch.

Thin on purpose: :mod:`irestore.export.onnx` does the work, and tests call it directly.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from irestore.errors import IRestoreError


class Format(str, Enum):
    onnx = "onnx"


def export_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write, e.g. denoise-real.onnx.", show_default=False)],
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="A shipped model by name (see `irestore models`).", show_default=False)] = None,
    weights: Annotated[Optional[Path], typer.Option("--weights", "-w", help="A .safetensors checkpoint.", show_default=False)] = None,
    export_format: Annotated[Format, typer.Option("--format", help="The target format.")] = Format.onnx,
    opset: Annotated[int, typer.Option("--opset", min=13, help="ONNX opset version.")] = 17,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Run the export in onnxruntime and report the largest difference from PyTorch.")] = True,
) -> None:
    """Export a model to ONNX for another runtime, and check its output against PyTorch."""
    from irestore.export.onnx import export_onnx, onnx_parity
    from irestore.models.zoo import load_model

    if (model is None) == (weights is None):
        raise IRestoreError("give exactly one of --model NAME or --weights FILE")
    loaded = load_model(str(weights) if weights else model)
    path = export_onnx(loaded.model, output, opset=opset)
    console = Console(stderr=True)
    console.print(f"wrote {path} ({export_format.value}, opset {opset}, dynamic height and width in multiples of {loaded.model.config.multiple})", markup=False, highlight=False)
    if check:
        console.print(f"onnxruntime vs PyTorch: max abs difference {onnx_parity(loaded.model, path):.2e}", highlight=False)
