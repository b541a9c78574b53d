"""``irestore train``: train a restoration model from a config file, resume it, export release weights.

Thin on purpose: flags become config values and :func:`irestore.train.train` does the work, so tests
drive the same code without a shell. Also runs under ``torchrun`` (``python -m irestore.train``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

WHAT = "What to train"
RUN = "Run"
MACHINE = "Machine"


def train_command(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML (or YAML) training config, e.g. configs/denoise-real.toml. Flags and --set override it.", show_default=False)] = None,
    task: Annotated[Optional[str], typer.Option("--task", help="denoise-gaussian, denoise-real, jpeg, sr, deblur or derain.", rich_help_panel=WHAT, show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Model config name: tiny, small or base.", rich_help_panel=WHAT, show_default=False)] = None,
    gray: Annotated[Optional[bool], typer.Option("--gray/--color", help="Train a 1-channel (gray) or 3-channel model.", rich_help_panel=WHAT, show_default=False)] = None,
    scale: Annotated[Optional[int], typer.Option("--scale", help="Upscaling factor for --task sr (2, 3, 4 or 8).", rich_help_panel=WHAT, show_default=False)] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Root that relative train/val folders are found in. Default: $IRESTORE_DATA, else ../shared/datasets.", rich_help_panel=WHAT, show_default=False)] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Run name: state and log go to OUT_DIR/NAME. Default: the config file's name.", rich_help_panel=RUN, show_default=False)] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out-dir", help="Folder of runs (default runs).", rich_help_panel=RUN, show_default=False)] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", min=1, help="Optimiser steps (the cosine schedule ends here).", rich_help_panel=RUN, show_default=False)] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Global batch size (split over torchrun processes).", rich_help_panel=RUN, show_default=False)] = None,
    patch_size: Annotated[Optional[int], typer.Option("--patch-size", min=8, help="Target patch side in pixels.", rich_help_panel=RUN, show_default=False)] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Peak learning rate (AdamW).", rich_help_panel=RUN, show_default=False)] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seeds the initial weights and every training patch.", rich_help_panel=RUN, show_default=False)] = None,
    time_budget: Annotated[Optional[float], typer.Option("--time-budget", min=0, help="Seconds of training after which the run saves, exports and stops (0 = none).", rich_help_panel=RUN, show_default=False)] = None,
    overrides: Annotated[Optional[list[str]], typer.Option("--set", help="Override any config value: --set lr=3e-4 --set model_overrides.norm=ln --set degradation.sigma_range=[0,50]. Repeatable.", rich_help_panel=RUN, show_default=False)] = None,
    init: Annotated[Optional[Path], typer.Option("--init", help="Fine-tune from a release checkpoint, e.g. weights/denoise-real.safetensors: same architecture, or deeper (more blocks per stage, e.g. --set model_overrides.mid_blocks=4; new blocks start as the identity).", rich_help_panel=RUN, show_default=False)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue OUT_DIR/NAME/last.pt exactly where it stopped (after a kill, Ctrl-C or time budget).", rich_help_panel=RUN)] = False,
    export: Annotated[Optional[Path], typer.Option("--export", help="Write the best EMA weights as a release checkpoint, e.g. weights/denoise-real.safetensors.", rich_help_panel=RUN, show_default=False)] = None,
    half: Annotated[bool, typer.Option("--half", help="Store exported tensors as float16 (half the file size).", rich_help_panel=RUN)] = False,
    device: Annotated[Optional[str], typer.Option("--device", help="auto, cpu or cuda.", rich_help_panel=MACHINE, show_default=False)] = None,
    threads: Annotated[Optional[int], typer.Option("--threads", min=0, help="CPU threads per process (0 = torch default).", rich_help_panel=MACHINE, show_default=False)] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=0, help="DataLoader worker processes making patches (0 = in the training process).", rich_help_panel=MACHINE, show_default=False)] = None,
    bf16: Annotated[Optional[bool], typer.Option("--bf16/--fp32", help="bf16 autocast on CUDA, and on CPUs with native bf16 units (AMX, AVX512-BF16); fp32 elsewhere.", rich_help_panel=MACHINE, show_default=False)] = None,
    compile: Annotated[Optional[bool], typer.Option("--compile/--no-compile", help="torch.compile the model (CUDA only).", rich_help_panel=MACHINE, show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.", rich_help_panel=MACHINE)] = False,
) -> int:
    """Train a restoration model. Checkpoints go to OUT_DIR/NAME/last.pt, the log to OUT_DIR/NAME/log.jsonl."""
    from irestore.train import load_config, train

    cfg = load_config(
        config,
        overrides or [],
        task=task, model=model, gray=gray, scale=scale, name=name, steps=steps, batch_size=batch_size,
        patch_size=patch_size, lr=lr, seed=seed, time_budget=time_budget, device=device, threads=threads,
        num_workers=workers, bf16=bf16, compile=compile, init_weights=str(init) if init else None,
        data_root=str(data_dir) if data_dir else None, out_dir=str(out_dir) if out_dir else None,
    )
    result = train(cfg, resume=resume, export=export, half=half, progress=not quiet)
    if not quiet:
        console = Console(stderr=True)
        best = f", best val {result.best_psnr:.2f} dB" if result.best_psnr > float("-inf") else ""
        console.print(f"{result.run_dir}: stopped at step {result.step} ({result.stopped}){best}", markup=False)
        if export is not None and result.export_sha256:
            console.print(f"exported {export} (sha256 {result.export_sha256[:16]}...)", markup=False)
    return 0
