"""Probe: can a trained per-token-LN body drop its norms by folding each into its expand conv?

Per-token LayerNorm is 38% of a plain SR body's time (docs/speed.md), and it cannot fold into the
following 1x1 conv exactly, since its statistics are per pixel. Its best *linear* stand-in can:
fit ``LN(x) ~ A x + c`` by least squares on the norm's inputs over training patches, then build the
same body with ``norm = "none"`` and ``W -> W A``, ``b -> b + W c`` in each expand conv. This prints
each norm's relative residual and the validation PSNR of the original and the folded body, and how
many validation crops the folded body turns non-finite (their PSNR is left out of the mean).

    python scripts/fold_norm_probe.py configs/sr-x2.toml sr-x2
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

from irestore.metrics import psnr
from irestore.models.unet import RestorationUNet
from irestore.models.zoo import load_model
from irestore.nn.blocks import Residual
from irestore.train.config import load_config
from irestore.train.data import data_root, train_dataset, val_set


def _tokens(t: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B*H*W, C) in float64, one row per pixel."""
    return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1]).double()


def fold(model: RestorationUNet, patches: torch.Tensor) -> tuple[RestorationUNet, list[float]]:
    """The norm-free body whose expand convs absorb each norm's least-squares linear fit."""
    residuals = [m for m in model.modules() if isinstance(m, Residual)]
    seen: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {i: [] for i in range(len(residuals))}
    hooks = [r.norm.register_forward_hook(lambda _m, inp, out, i=i: seen[i].append((inp[0], out[0]))) for i, r in enumerate(residuals)]
    with torch.no_grad():
        for k in range(0, len(patches), 32):
            model(patches[k : k + 32])
    for h in hooks:
        h.remove()
    folded = RestorationUNet(model.config.replace(norm="none")).eval()
    folded.load_state_dict({k: v for k, v in model.state_dict().items() if ".norm." not in k})
    errors = []
    with torch.no_grad():
        for i, target in enumerate(m for m in folded.modules() if isinstance(m, Residual)):
            x = torch.cat([_tokens(a) for a, _ in seen[i]])
            y = torch.cat([_tokens(b) for _, b in seen[i]])
            design = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)
            solution = torch.linalg.lstsq(design, y).solution
            errors.append(((design @ solution - y).pow(2).mean() / y.var()).item())
            a, c = solution[:-1].T, solution[-1]
            conv = target.fn.expand
            w = conv.weight[:, :, 0, 0].double()
            conv.bias.copy_((conv.bias.double() + w @ c).float())
            conv.weight.copy_((w @ a)[:, :, None, None].float())
    return folded, errors


def validation(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[float, int]:
    """Mean PSNR over the finite outputs, and how many were not finite."""
    values = []
    with torch.no_grad():
        for x, t in zip(inputs, targets):
            y = model(x[None])[0].clamp(0, 1)
            values.append(psnr(y.permute(1, 2, 0).numpy(), t.permute(1, 2, 0).numpy()) if torch.isfinite(y).all() else math.nan)
    finite = [v for v in values if math.isfinite(v)]
    return (sum(finite) / len(finite) if finite else math.nan), len(values) - len(finite)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="the training config (its data and validation split)")
    parser.add_argument("model", help="release name or checkpoint")
    parser.add_argument("--patches", type=int, default=256)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    cfg = load_config(args.config)
    root = data_root(cfg.data_root)
    inputs, targets = val_set(cfg, root)
    model = load_model(args.model).model.float().eval()
    dataset = train_dataset(cfg, root)
    patches = torch.stack([torch.as_tensor(dataset[i][0]) for i in range(args.patches)])
    folded, errors = fold(model, patches)
    print("relative residual per norm:", " ".join(f"{e:.4f}" for e in errors))
    for name, m in (("with its norms", model), ("norms folded", folded)):
        mean, bad = validation(m, inputs, targets)
        print(f"{name}: validation {mean:.3f} dB over the finite crops, {bad} of {len(inputs)} not finite")


if __name__ == "__main__":
    main()
