"""Score saved weights on a training config's validation crops: the number that picks a checkpoint.

A run keeps only its best checkpoint by the validation it was started with. When candidates come
from more than one place (snapshots of a run's EMA, earlier exports), this scores each on the same
validation the training loop would build from the config and ``--set`` overrides, without training,
so the choice is made on images cut from the training data and never on a benchmark:

    python scripts/score_validation.py -c configs/finetune/denoise-real-pairs.toml \\
        --set degradation.demosaic_method=mhc --set degradation.demosaic=1.0 runs/dr-mhc-snap/*.safetensors

With ``paired_holdout`` and ``val_synthetic``, the real held-out crops and the synthetic ones are
also scored apart (``real``, ``synthetic``), since their mean weighs the two by count.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from irestore.checkpoint import load_checkpoint
from irestore.train.config import load_config
from irestore.train.data import data_root, val_set
from irestore.train.validate import evaluate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", nargs="+", type=Path)
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.overrides)
    inputs, targets = val_set(cfg, data_root(cfg.data_root))
    real = len(inputs) - cfg.val_synthetic if cfg.paired_holdout and cfg.val_synthetic else len(inputs)
    parts = {"all": slice(None)}
    if real < len(inputs):
        parts |= {"real": slice(0, real), "synthetic": slice(real, None)}
    print("| weights | " + " | ".join(f"{name} ({len(range(len(inputs))[s])})" for name, s in parts.items()) + " |")
    print("|---|" + "---|" * len(parts))
    for path in args.weights:
        model, _ = load_checkpoint(path)
        results = [evaluate(model.float(), inputs[s], targets[s], torch.device("cpu")) for s in parts.values()]
        print(f"| {path} | " + " | ".join(f"{r['val_psnr']:.3f}" for r in results) + " |")
    print("| input | " + " | ".join(f"{r['val_psnr_input']:.3f}" for r in results) + " |")


if __name__ == "__main__":
    main()
