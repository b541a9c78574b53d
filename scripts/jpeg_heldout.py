"""Compare colour JPEG checkpoints on the training recipe's held-out images at fixed qualities and chroma.

A run's logged validation uses its own degradation settings (``val_degradation`` over the training
``degradation``), so two runs with a different share of 4:4:4 chroma (``full_chroma``) validate on
different inputs and their logs cannot be compared: `jc-b` logged 29.457 dB and `jc-c` 29.438, yet on
the same inputs `jc-c` was ahead at every quality. This scores each checkpoint on the same held-out
crops (the first 10 BSD200 images, centre 128 px, never trained on) per quality, 4:2:0 and 4:4:4:

    python scripts/jpeg_heldout.py weights/jpeg.safetensors runs/jc-c.safetensors --qualities 10,20,30,40
"""

import argparse
from pathlib import Path

import torch

from irestore.models.zoo import load_model
from irestore.train.config import load_config
from irestore.train.data import data_root, val_set
from irestore.train.validate import evaluate

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "jpeg.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--qualities", default="10,20,30,40")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models = {path: load_model(path).model.eval() for path in args.checkpoints}
    print("| quality | chroma | " + " | ".join(models) + " |")
    print("|---|---|" + "---:|" * len(models))
    for quality in (int(q) for q in args.qualities.split(",")):
        for chroma, label in ((0.0, "4:2:0"), (1.0, "4:4:4")):
            overrides = ['val_dirs=["train/BSD200"]', f"val_degradation.quality_range=[{quality},{quality}]", f"val_degradation.full_chroma={chroma}"]
            cfg = load_config(CONFIG, overrides)
            inputs, targets = val_set(cfg, data_root(cfg.data_root))
            scores = [evaluate(model, inputs, targets, torch.device("cpu"))["val_psnr"] for model in models.values()]
            print(f"| {quality} | {label} | " + " | ".join(f"{s:.3f}" for s in scores) + " |", flush=True)


if __name__ == "__main__":
    main()
