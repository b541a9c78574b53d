"""An ablation study in miniature: which norm, mixer and long-skip scaling should irestore ship?

One factor at a time around a baseline, every run from the same seed on the same data (BSD200 + T91,
blind Gaussian sigma 0-50, 64x64 patches, batch 8, AdamW 1e-3 with cosine), ONE CPU thread, the
diagnostics hook every 50 steps. Two arms:

* equal steps: every variant trains ``--steps`` steps;
* equal time: norm and mixer variants whose step time differs from the baseline's by more than 10%
  train again for as many steps as the baseline's time buys them. Step times come from a separate
  calibration (every architecture in turn on one fixed batch, best of interleaved rounds, 1 thread),
  not from a wall-clock cut-off: this machine is shared, and a cut-off would measure the neighbours'
  load rather than the model, and would stop the cosine schedule before it ends.

Each run's final EMA weights are scored with the evaluation runner on CBSD68 at sigma 25, first 10
images only (a fixed subset: quick, not comparable to published full-set numbers), whole image,
1 thread; speed is MP/s on a 481x321 input (all models in turn, best of 3 rounds). Everything lands
in ``OUT/<run>/``: a run with a ``result.json`` is skipped and one with a ``last.pt`` resumes, so
re-running the command continues an interrupted study (stop it with Ctrl-C: the run saves first).

    OMP_NUM_THREADS=1 python scripts/ablation.py                    # the study (about 100 min)
    OMP_NUM_THREADS=1 python scripts/ablation.py --steps 20 --out runs/ablation-dry --only base,norm-iln
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from irestore.diagnostics import ema_model, read_trajectory
from irestore.engine import Restorer
from irestore.evaluation import evaluate
from irestore.models import build_model
from irestore.train import TrainConfig, TrainingDiverged, train
from irestore.train.state import STATE_FILE, load_state

BASELINE = {"mixer": "attn", "norm": "ln", "skip": "1"}
EQUAL_TIME_TOLERANCE = 0.10
EVAL = {"dataset": "CBSD68", "sigma": 25, "images": 10}


@dataclass(frozen=True)
class Variant:
    name: str
    factor: str
    overrides: dict = field(default_factory=dict)
    seed: int = 0
    arm: str = "steps"

    @property
    def model_overrides(self) -> dict:
        return {**BASELINE, **self.overrides}


def variants() -> list[Variant]:
    """The baseline, one factor changed at a time, ln vs iln again from a second seed, and the
    release candidate conv + i-LN (two factors changed: the fast mixer with the paper's norm)."""
    runs = [Variant("base", "baseline")]
    runs += [Variant(f"norm-{n}", "norm", {"norm": n}) for n in ("iln", "rms", "dyt", "none")]
    runs += [Variant(f"mixer-{m}", "mixer", {"mixer": m}) for m in ("csattn", "conv")]
    runs += [Variant("skip-inv_sqrt2", "skip", {"skip": "inv_sqrt2"})]
    runs += [Variant(f"skip-cs{k}", "skip", {"skip": "cs", "kappa": k}) for k in (0.5, 0.7, 0.9)]
    runs += [Variant("skip-ls", "skip", {"skip": "ls"})]
    runs += [Variant("seed1-ln", "seed", {}, seed=1), Variant("seed1-iln", "seed", {"norm": "iln"}, seed=1)]
    runs += [Variant("conv-iln", "candidate", {"mixer": "conv", "norm": "iln"})]
    return runs


def train_config(v: Variant, steps: int, out: Path) -> TrainConfig:
    return TrainConfig(
        name=v.name, task="denoise-gaussian", model="small", model_overrides=v.model_overrides,
        train_dirs=["train/BSD200", "train/T91"], degradation={"sigma_range": [0, 50]},
        patch_size=64, batch_size=8, steps=steps, lr=1e-3, warmup_steps=min(100, steps // 5),
        val_dirs=["test/LIVE1"], val_degradation={"sigma_range": [25, 25]}, val_every=steps,
        log_every=min(50, steps), diag_every=min(50, steps), checkpoint_every=200, out_dir=str(out), seed=v.seed, threads=1, device="cpu",
    )


def arch_key(model_overrides: dict) -> str:
    return json.dumps(model_overrides, sort_keys=True)


def interleaved_best_seconds(tasks: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Seconds of each task's fastest call, the tasks taking turns round by round.

    On a shared machine a burst of load then lands on one round of every task rather than on every
    round of one, and the best round is the least disturbed; the first round also warms up.
    """
    best = dict.fromkeys(tasks, math.inf)
    for _ in range(rounds):
        for name, task in tasks.items():
            start = time.perf_counter()
            task()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def calibrate(out: Path, chosen: list[Variant], rounds: int = 4, steps: int = 5) -> dict[str, float]:
    """Training steps per second of each architecture on one fixed batch, 1 thread, best of
    interleaved rounds (:func:`interleaved_best_seconds`). Cached in ``calibration.json``."""
    path = out / "calibration.json"
    known = json.loads(path.read_text()) if path.is_file() else {}
    todo = {arch_key(v.model_overrides): v.model_overrides for v in chosen if arch_key(v.model_overrides) not in known}
    if not todo:
        return known
    torch.manual_seed(0)
    inputs, targets = torch.rand(8, 3, 64, 64), torch.rand(8, 3, 64, 64)

    def training_steps(model: torch.nn.Module) -> Callable[[], None]:
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def run() -> None:
            for _ in range(steps):
                loss = (model(inputs) - targets).abs().mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

        return run

    best = interleaved_best_seconds({key: training_steps(build_model("small", **o)) for key, o in todo.items()}, rounds)
    known.update({key: steps / seconds for key, seconds in best.items()})
    path.write_text(json.dumps(known, indent=2) + "\n")
    return known


def run_training(v: Variant, steps: int, out: Path) -> bool:
    """Train (or resume) to ``steps``; False when the run diverged."""
    state = out / v.name / STATE_FILE
    if state.is_file() and int(load_state(state)["step"]) >= steps:
        return True
    try:
        result = train(train_config(v, steps, out), resume=state.is_file(), progress=False)
    except TrainingDiverged as exc:
        print(f"  {v.name}: {exc}", flush=True)
        return False
    if result.stopped.startswith("signal"):
        raise SystemExit(f"{v.name}: {result.stopped} at step {result.step}, state saved; run the same command again to resume")
    return True


def inference_speeds(out: Path, names: list[str], rounds: int = 3) -> dict[str, float]:
    """MP/s of each run's trained model on a 481x321 image, whole image, 1 thread, best of
    interleaved rounds after a warm-up round. Cached in ``inference.json``."""
    path = out / "inference.json"
    known = json.loads(path.read_text()) if path.is_file() else {}
    todo = [n for n in names if n not in known]
    if not todo:
        return known
    image = torch.rand(321, 481, 3).numpy()
    restorers = {n: Restorer(ema_model(out / n), tile=0, device="cpu") for n in todo}
    best = interleaved_best_seconds({n: (lambda restore=restore: restore(image)) for n, restore in restorers.items()}, rounds + 1)
    known.update({n: 481 * 321 / 1e6 / seconds for n, seconds in best.items()})
    path.write_text(json.dumps(known, indent=2) + "\n")
    return known


def step_speed(run_dir: Path) -> float:
    """Steps per second the run logged, 90th percentile of its 50-step windows (near its unloaded speed)."""
    speeds = sorted(
        r["steps_per_s"] for r in map(json.loads, (run_dir / "log.jsonl").read_text().splitlines()) if r.get("event") == "train" and r.get("steps_per_s")
    )
    return speeds[int(0.9 * (len(speeds) - 1))] if speeds else math.nan


def score(v: Variant, steps: int, out: Path, finished: bool) -> dict:
    run_dir = out / v.name
    model = ema_model(run_dir)
    state = load_state(run_dir / STATE_FILE)
    result = evaluate(EVAL["dataset"], restore=Restorer(model, tile=0, device="cpu"), task="denoise", levels=[EVAL["sigma"]], limit=EVAL["images"], channels=3)[0]
    trajectory = read_trajectory(run_dir)
    return {
        **asdict(v), "model": v.model_overrides, "steps": steps, "steps_done": int(state["step"]),
        "psnr": result.psnr, "ssim": result.ssim, "images": result.images,
        "params": sum(p.numel() for p in model.parameters()),
        "logged_steps_per_s": step_speed(run_dir), "train_wall_s": float(state["wall_time"]),
        "peak_max": trajectory.last("peak_max"), "ms_max": trajectory.last("ms_max"),
        "entropy_ratio_mean": trajectory.last("entropy_ratio_mean"), "entropy_ratio_min": trajectory.last("entropy_ratio_min"),
        "skipped_steps": trajectory.skipped_steps, "diverged": (not finished) or trajectory.diverged,
    }


def complete(v: Variant, steps: int, out: Path) -> dict:
    """Train, score and record one run, or read the record of a run already complete."""
    record = out / v.name / "result.json"
    if record.is_file():
        return json.loads(record.read_text())
    print(f"{time.strftime('%H:%M:%S')} {v.name}: {steps} steps, model {v.model_overrides}, seed {v.seed}", flush=True)
    finished = run_training(v, steps, out)
    result = score(v, steps, out, finished)
    record.write_text(json.dumps(result, indent=2) + "\n")
    print(f"  {v.name}: {result['psnr']:.2f} dB, {result['logged_steps_per_s']:.2f} steps/s logged, peak {result['peak_max']:.3g}", flush=True)
    return result


def equal_time_variants(results: dict[str, dict], speeds: dict[str, float], steps: int) -> list[tuple[Variant, int]]:
    """Norm and mixer variants whose step time is off the baseline's by more than the tolerance.

    Skip scalings cost one multiply (LS: a pooled gate) per skip, so their speed differences in the
    logs are the machine's load, not the model, and would only buy noise for another run.
    """
    base = speeds[arch_key(BASELINE)]
    extra = []
    for v in variants():
        if v.name not in results or v.factor not in ("norm", "mixer"):
            continue
        ratio = speeds[arch_key(v.model_overrides)] / base
        if abs(ratio - 1.0) > EQUAL_TIME_TOLERANCE:
            extra.append((Variant(f"{v.name}-time", v.factor, v.overrides, v.seed, "time"), max(1, round(steps * ratio))))
    return extra


def markdown_table(results: list[dict]) -> str:
    head = "| run | arm | model (mixer/norm/skip) | seed | steps | PSNR | SSIM | params | MP/s | steps/s | peak | entropy | diverged |"
    rows = [head, "|" + "---|" * 13]
    for r in results:
        m = r["model"]
        skip = m["skip"] + (f" {m['kappa']}" if m["skip"] == "cs" else "")
        rows.append(
            f"| {r['name']} | {r['arm']} | {m['mixer']}/{m['norm']}/{skip} | {r['seed']} | {r['steps_done']} | {r['psnr']:.2f} | {r['ssim']:.4f} "
            f"| {r['params'] / 1e6:.2f} M | {r['mp_per_s']:.3f} | {r['steps_per_s']:.2f} | {r['peak_max']:.3g} | {r['entropy_ratio_mean']:.2f} "
            f"| {_divergence(r)} |"
        )
    return "\n".join(rows) + "\n"


def _divergence(r: dict) -> str:
    verdict = "yes" if r["diverged"] else "no"
    return f"{verdict} ({r['skipped_steps']} steps skipped)" if r["skipped_steps"] else verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"))
    parser.add_argument("--steps", type=int, default=600, help="steps of the equal-steps arm (and the baseline's time budget)")
    parser.add_argument("--only", default="", help="comma-separated run names (default: all)")
    parser.add_argument("--no-equal-time", action="store_true", help="skip the equal-time arm")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: set OMP_NUM_THREADS=1 so data loading also keeps to one core", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    only = {n for n in args.only.split(",") if n}
    chosen = [v for v in variants() if not only or v.name in only]
    speeds = calibrate(args.out, chosen)
    results = {v.name: complete(v, args.steps, args.out) for v in chosen}
    if not args.no_equal_time and "base" in results:
        for v, steps in equal_time_variants(results, speeds, args.steps):
            results[v.name] = complete(v, steps, args.out)
    mp_per_s = inference_speeds(args.out, list(results))
    ordered = [{**r, "steps_per_s": speeds[arch_key(r["model"])], "mp_per_s": mp_per_s[r["name"]]} for r in results.values()]
    (args.out / "results.json").write_text(json.dumps({"eval": EVAL, "baseline": BASELINE, "runs": ordered}, indent=2) + "\n")
    (args.out / "table.md").write_text(markdown_table(ordered))
    print(markdown_table(ordered), flush=True)
    print(f"results: {args.out}/results.json, {args.out}/table.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
