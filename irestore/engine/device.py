"""Device and precision choices that never surprise: fp32 on CPU unless asked, no fp16 on CPU.

``auto`` precision asks for the fastest one that keeps quality: bf16 where the hardware computes
it natively (AMX or AVX512-BF16 CPUs, bf16-capable GPUs), fp32 elsewhere. On this project's
CPUs bf16 took 30-40% less CPU time than fp32 for 0.003 dB less PSNR (docs/speed.md); on CPUs
that only emulate bf16 it is slower than fp32, hence the check.
"""

from __future__ import annotations

import contextlib

import torch

from irestore.errors import IRestoreError

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise IRestoreError(f"--device {name}: CUDA is not available on this machine (use --device cpu)")
    if name == "mps" and not torch.backends.mps.is_available():
        raise IRestoreError("--device mps: Apple MPS is not available on this machine (use --device cpu)")
    try:
        return torch.device(name)
    except RuntimeError:
        raise IRestoreError(f"--device {name}: unknown device (use auto, cpu, cuda or cuda:N)") from None


def native_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    probes = [getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")]
    return any(probe is not None and probe() for probe in probes)


BF16_MAX_COST_DB = 0.02


def choose_precision(requested: str, device: torch.device, bf16_cost_db: float | None) -> str:
    """The precision a model runs in: ``auto`` is bf16 only where the hardware has it natively and
    this model's measured cost on its test sets (``scripts/calibrate_precision.py``) is at most
    :data:`BF16_MAX_COST_DB`; a model nobody measured stays in fp32."""
    if requested != "auto":
        return requested
    cheap = bf16_cost_db is not None and bf16_cost_db <= BF16_MAX_COST_DB
    return "bf16" if cheap and native_bf16(device) else "fp32"


def check_precision(precision: str, device: torch.device) -> torch.dtype:
    if precision == "auto":
        return torch.bfloat16 if native_bf16(device) else torch.float32
    if precision not in PRECISIONS:
        raise IRestoreError(f"--precision {precision}: choose one of auto, {', '.join(PRECISIONS)}")
    if precision == "fp16" and device.type == "cpu":
        raise IRestoreError("--precision fp16 is not supported on the CPU; use bf16 or fp32")
    return PRECISIONS[precision]


def autocast(device: torch.device, dtype: torch.dtype):
    """Mixed precision for reduced dtypes; a no-op context for fp32."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
