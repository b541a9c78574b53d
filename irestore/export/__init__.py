"""Exporting restoration models to other runtimes (ONNX)."""

from irestore.export.onnx import OnnxRestorer, export_onnx, onnx_parity

__all__ = ["OnnxRestorer", "export_onnx", "onnx_parity"]
