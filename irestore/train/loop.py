"""The training loop, in one function that reads top to bottom like nanoGPT's ``train.py``:

batch -> forward -> loss -> backward -> clip -> step -> EMA -> log -> validate every N -> checkpoint
every N, until the last step, the time budget or a signal. Everything a step does depends only on
the step number and the saved state, so ``resume=True`` continues a killed run exactly.
"""

from __future__ import annotations

import importlib
import math
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from irestore.checkpoint import load_checkpoint, sha256_of
from irestore.engine.device import native_bf16
from irestore.errors import ConfigError, IRestoreError
from irestore.models import build_model
from irestore.models.config import ModelConfig
from irestore.models.grow import grow_into
from irestore.train.config import TrainConfig
from irestore.train.data import batch_loader, data_root, train_dataset, val_set
from irestore.train.distributed import World, agree, close_world, init_world
from irestore.train.ema import EMA
from irestore.train.export import export_state, hardware
from irestore.train.losses import training_loss
from irestore.train.progress import ProgressBar, RunLog
from irestore.train.schedule import lr_factor, phase_at, phases, schedule_step
from irestore.train.state import STATE_FILE, capture_rng, load_state, restore_rng, save_state
from irestore.train.validate import evaluate


class TrainingDiverged(IRestoreError):
    """Too many consecutive steps had a non-finite loss or gradient."""


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    stopped: str
    best_psnr: float
    last_val: dict[str, float] = field(default_factory=dict)
    export_sha256: str | None = None


class StopSignals:
    """SIGINT/SIGTERM ask the loop to save and stop at the end of the step; a second SIGINT aborts."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self.previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}

    def _handle(self, signum: int, frame: Any) -> None:
        self.reason = signal.Signals(signum).name
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def restore(self) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)


def find_diagnostics() -> Callable[..., dict] | None:
    """``irestore.diagnostics.log_diagnostics(model, batch) -> dict`` if that module provides it."""
    try:
        module = importlib.import_module("irestore.diagnostics")
    except ImportError:
        return None
    return getattr(module, "log_diagnostics", None)


def train(cfg: TrainConfig, *, resume: bool = False, export: Path | None = None, half: bool = False, progress: bool = True) -> TrainResult:
    """Train (or continue) the run ``cfg.out_dir/cfg.name``; export the best EMA weights if asked."""
    world, device = init_world(cfg.device)
    try:
        return _train(cfg, world, device, resume=resume, export=export, half=half, progress=progress)
    finally:
        close_world(world)


def _train(cfg: TrainConfig, world: World, device: torch.device, *, resume: bool, export: Path | None, half: bool, progress: bool) -> TrainResult:
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    on_cuda = device.type == "cuda"
    # bf16 only where the hardware has it: emulated bf16 on an older CPU is slower than fp32
    use_bf16, use_compile = cfg.bf16 and native_bf16(device), cfg.compile and on_cuda
    if on_cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    run_dir = Path(cfg.out_dir) / cfg.name
    state_path = run_dir / STATE_FILE
    if not resume and state_path.exists():
        raise ConfigError(f"{state_path}: run {cfg.name!r} already exists; pass --resume to continue it or --set name=NEW for a new run")
    table = phases(cfg.patch_size, cfg.batch_size, cfg.patch_schedule)
    if any(p.batch % world.size for p in table):
        raise ConfigError(f"batch sizes {[p.batch for p in table]} must divide evenly over {world.size} processes")
    if world.main:
        run_dir.mkdir(parents=True, exist_ok=True)

    # data: item i of the dataset is a pure function of (seed, i); validation crops are fixed
    root = data_root(cfg.data_root)
    dataset = train_dataset(cfg, root)
    recipe = {"hardware": hardware(), "degradation": repr(dataset.degradation)}
    val_inputs, val_targets = val_set(cfg, root) if world.main and cfg.val_every > 0 else (None, None)

    # model, EMA copy, optimiser (no weight decay on biases and norm gains); the lr is set per step
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    random.seed(cfg.seed)
    model = model_for(cfg)
    if cfg.init_weights and not resume:
        recipe["init"] = init_from(model, Path(cfg.init_weights))
    model = model.to(device)
    ema = EMA(model, cfg.ema_decay)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params, cfg, fused=on_cuda)
    min_ratio = cfg.min_lr / cfg.lr if cfg.lr > 0 else 0.0

    step, wall_before = 0, 0.0
    best_psnr, best_step, best_ema, best_val, last_val = -math.inf, 0, None, {}, {}
    if resume:
        state = load_state(state_path)
        if ModelConfig.from_dict(state["model_config"]) != model.config:
            raise ConfigError(f"{state_path}: the stored run has a different architecture than this config (resume with the config it was started with)")
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        restore_rng(state["rng"])
        step, wall_before = int(state["step"]), float(state["wall_time"])
        best_psnr, best_step, best_ema = float(state["best_psnr"]), int(state["best_step"]), state["best_ema"]
        best_val, last_val = state["best_val"], state["last_val"]
        if state.get("init"):
            recipe["init"] = state["init"]

    net: torch.nn.Module = DistributedDataParallel(model, device_ids=[device] if on_cuda else None) if world.size > 1 else model
    if use_compile:
        net = torch.compile(net)
    diagnostics = find_diagnostics() if world.main and cfg.diag_every > 0 else None

    def snapshot() -> dict[str, Any]:
        """The training state, exactly what ``last.pt`` holds (see :mod:`irestore.train.state`)."""
        return {
            "config": cfg.to_dict(), "model_config": model.config.to_dict(),
            "model": model.state_dict(), "ema": ema.state_dict(), "best_ema": best_ema,
            "optimizer": optimizer.state_dict(),
            "step": step, "best_psnr": best_psnr, "best_step": best_step, "best_val": best_val, "last_val": last_val,
            "wall_time": wall_before + time.monotonic() - started, "rng": capture_rng(),
            **recipe,
        }

    log = RunLog(run_dir / "log.jsonl" if world.main else None)
    bar = ProgressBar(cfg.steps, step, enabled=progress and world.main)
    stop = StopSignals()
    log.write("resume" if resume else "start", step, world=world.size, device=str(device), bf16=use_bf16, compile=use_compile, params=sum(p.numel() for p in params), config=cfg.to_dict())
    started = time.monotonic()
    # A time-annealed run's budget is its whole training time, so a resumed one continues its cosine
    # and stops where it would have; otherwise the budget counts from this start.
    budget_start = started - (wall_before if cfg.anneal_by_time else 0.0)
    tick, tick_step, losses, nonfinite, stopped = started, step, [], 0, "done"
    loader = iter(batch_loader(dataset, table, step, world.rank, world.size, cfg.num_workers, pin=on_cuda))
    try:
        while step < cfg.steps:
            at = schedule_step(step, steps=cfg.steps, elapsed=time.monotonic() - budget_start, time_budget=cfg.time_budget, by_time=cfg.anneal_by_time)
            lr = cfg.lr * lr_factor(step, steps=cfg.steps, warmup=cfg.warmup_steps, min_ratio=min_ratio, at=at)
            for group in optimizer.param_groups:
                group["lr"] = lr
            inputs, targets = (t.to(device, non_blocking=True) for t in next(loader))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                output = net(inputs)
            loss = training_loss(output, targets, name=cfg.loss, fft_weight=cfg.fft_weight, psnr_floor_db=cfg.psnr_floor_db)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip if cfg.grad_clip > 0 else math.inf)
            over_time = cfg.time_budget > 0 and time.monotonic() - budget_start >= cfg.time_budget
            loss_sum, bad_grads, stop_votes = agree([loss.item(), float(not torch.isfinite(grad_norm)), float(over_time or stop.reason is not None)], world, device)
            if math.isfinite(loss_sum) and bad_grads == 0:
                optimizer.step()
                ema.update(model)
                losses.append(loss_sum / world.size)
                nonfinite = 0
            else:
                nonfinite += 1
                log.write("skip", step, loss=loss_sum, reason="non-finite loss or gradient", consecutive=nonfinite)
                bar.print(f"step {step}: non-finite loss or gradient, step skipped ({nonfinite} in a row)")
                if nonfinite >= cfg.max_nonfinite:
                    log.write("stop", step, reason="diverged")
                    raise TrainingDiverged(f"{run_dir}: stopped at step {step} after {nonfinite} consecutive non-finite losses (lower lr or grad_clip, then --resume from the last checkpoint)")
            step += 1

            if step % cfg.log_every == 0 or step == cfg.steps:
                now = time.monotonic()
                speed = (step - tick_step) / max(now - tick, 1e-9)
                mean_loss = sum(losses) / len(losses) if losses else math.nan
                phase = phase_at(step - 1, table)
                log.write("train", step, loss=mean_loss, lr=lr, patch=phase.patch, batch=phase.batch, steps_per_s=round(speed, 3), elapsed=round(now - started, 2))
                bar.update(step, loss=mean_loss, speed=speed)
                tick, tick_step, losses = now, step, []
            else:
                bar.update(step)
            if diagnostics is not None and step % cfg.diag_every == 0:
                log.write("diag", step, **_run_diagnostics(diagnostics, model, inputs, targets))

            stopping = stop_votes > 0 or step == cfg.steps
            if world.main and val_inputs is not None and (step % cfg.val_every == 0 or stopping):
                last_val = evaluate(ema.model, val_inputs, val_targets, device)
                if last_val["val_psnr"] > best_psnr:
                    best_psnr, best_step, best_val = last_val["val_psnr"], step, last_val
                    best_ema = {k: v.detach().to("cpu", copy=True) for k, v in ema.model.state_dict().items()}
                log.write("val", step, **last_val, best_psnr=best_psnr, best_step=best_step)
                bar.update(step, val=last_val["val_psnr"])
            if world.main and (step % cfg.checkpoint_every == 0 or stopping):
                save_state(state_path, snapshot())
                log.write("checkpoint", step, path=str(state_path))
            if stop_votes > 0:
                stopped = "time budget" if over_time else f"signal {stop.reason}" if stop.reason else "another rank stopped"
                break
        sha = None
        if world.main:
            log.write("stop", step, reason=stopped, best_psnr=best_psnr, best_step=best_step)
            if export is not None:
                Path(export).parent.mkdir(parents=True, exist_ok=True)
                sha = export_state(snapshot(), Path(export), half=half)
                log.write("export", step, path=str(export), sha256=sha)
    finally:
        stop.restore()
        bar.close()
        log.close()
    return TrainResult(run_dir, step, stopped, best_psnr, last_val, sha)


def model_for(cfg: TrainConfig) -> torch.nn.Module:
    """The freshly initialised network a run's config describes."""
    return build_model(cfg.model, task=cfg.model_task, channels=cfg.channels, scale=cfg.scale if cfg.task == "sr" else None, **cfg.model_overrides)


def init_from(model: torch.nn.Module, path: Path) -> dict[str, Any]:
    """Load a release checkpoint's weights into ``model`` to fine-tune them; return their provenance.

    The architecture must match, except that the model may be deeper (more blocks per stage): the
    new blocks then start as the identity (``irestore.models.grow``), so the run starts from exactly
    what the checkpoint computes. The provenance goes into the exported checkpoint's info, so
    released weights say which steps, and which depth, came before this run's.
    """
    source, info = load_checkpoint(path)
    try:
        grown = grow_into(model, source)
    except ConfigError as exc:
        raise ConfigError(f"{path}: init_weights has a different architecture than this config's model ({exc})") from None
    keep = ("name", "steps", "wall_time_s", "hardware", "weights", "initialized_from", "averaged_from")
    record = {"path": str(path), "sha256": sha256_of(path), **{k: info[k] for k in keep if k in info}}
    if grown:
        record["deepened"] = grown
    return record


def make_optimizer(params: list[torch.nn.Parameter], cfg: TrainConfig, fused: bool) -> torch.optim.AdamW:
    """AdamW with weight decay on weight matrices and kernels only, not on biases and norm gains."""
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.betas[0], cfg.betas[1]), fused=fused)


def _run_diagnostics(fn: Callable[..., dict], model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> dict[str, Any]:
    """An optional hook must never end a long run: its failure is logged instead."""
    try:
        return dict(fn(model, (inputs, targets)))
    except Exception as exc:  # noqa: BLE001 - third-party hook
        return {"error": f"{type(exc).__name__}: {exc}"}
