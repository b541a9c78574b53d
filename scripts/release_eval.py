"""Score release checkpoints with their published protocols and record the scores in the manifest.

    python scripts/release_eval.py denoise-gaussian sr-x4       # eval weights/NAME.safetensors, register
    python scripts/release_eval.py --candidate runs/jpeg.safetensors jpeg   # score a run before shipping it
    python scripts/release_eval.py --ship jpeg                   # copy that candidate to weights/, register
    python scripts/release_eval.py --register-only jpeg          # reuse runs/eval/jpeg-*.json

One table below says which `irestore eval` commands measure each release; the manifest stores the
same commands next to the scores, so every number in the README is one command away. The model and
its baselines always run in the same command (the same noisy inputs, the same machine). BM3D runs
at about 0.01 MP/s here, so on the 68-image sets it is scored on the first 10 images, next to the
model on the same 10 (manifest key ``CBSD68[:10]``).
"""

import argparse
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from irestore.models.release import register
from irestore.models.zoo import weights_dir

COMMANDS = {
    "denoise-real": [
        "irestore eval SIDD_samples --model denoise-real -b identity,bm3d",
        "irestore eval Nam_CC15 --model denoise-real -b identity,bm3d",
    ],
    "denoise-gaussian": [
        "irestore eval CBSD68 --model denoise-gaussian -b identity,nlm --sigma 15,25,50",
        "irestore eval CBSD68 --model denoise-gaussian -b identity --sigma 15,25,50 --preset gaussian-color-8bit",
        "irestore eval CBSD68 --model denoise-gaussian -b bm3d --sigma 15,25,50 --limit 10",
        "irestore eval CBSD68 --model denoise-gaussian --sigma 15,25,50 --limit 10 --ensemble",
    ],
    "denoise-gaussian-gray": [
        "irestore eval Set12 --model denoise-gaussian-gray -b identity,bm3d --sigma 15,25,50",
        "irestore eval BSD68 --model denoise-gaussian-gray -b identity,nlm --sigma 15,25,50",
        "irestore eval BSD68 --model denoise-gaussian-gray -b bm3d --sigma 15,25,50 --limit 10",
        "irestore eval Set12 --model denoise-gaussian-gray --sigma 15,25,50 --ensemble",
    ],
    "jpeg": [
        "irestore eval LIVE1 --model jpeg -b identity --quality 10,20,30,40",
        "irestore eval LIVE1 --model jpeg -b identity --quality 10,20,30,40 --preset jpeg-color-444",
    ],
    "jpeg-gray": [
        "irestore eval Classic5 --model jpeg-gray -b identity --quality 10,20,30,40",
        "irestore eval LIVE1 --model jpeg-gray -b identity --quality 10,20,30,40",
    ],
    "sr-x2": [
        "irestore eval Set5 --model sr-x2 -b bicubic",
        "irestore eval Set14 --model sr-x2 -b bicubic",
    ],
    "sr-x4": [
        "irestore eval Set5 --model sr-x4 -b bicubic",
        "irestore eval Set14 --model sr-x4 -b bicubic",
    ],
    "deblur": [
        "irestore eval CBSD68 --model deblur -b identity",
        "irestore eval CBSD68 --model deblur --ensemble",
    ],
    "derain": [
        "irestore eval Rain100L --model derain -b identity",
        "irestore eval Rain100H --model derain -b identity",
    ],
}


def run_evals(name: str, out_dir: Path, weights: Path | None) -> list[Path]:
    """Run the release's commands (on ``weights`` instead of the shipped file when given)."""
    files = []
    for i, command in enumerate(COMMANDS[name]):
        args = shlex.split(command)
        if weights is not None:
            at = args.index("--model")
            args[at : at + 2] = ["--weights", str(weights)]
        out = out_dir / f"{name}-{i}.json"
        print("$", shlex.join(args), flush=True)
        subprocess.run([*args, "--json", str(out)], check=True)
        files.append(out)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", choices=sorted(COMMANDS))
    parser.add_argument("--candidate", type=Path, help="score this checkpoint instead (one name; nothing is registered)")
    parser.add_argument("--register-only", action="store_true", help="register the JSON files of an earlier run")
    parser.add_argument("--ship", action="store_true", help="copy the last --candidate of each name to weights/ and register its scores")
    parser.add_argument("--out", type=Path, default=Path("runs/eval"), help="where the eval JSON files go")
    args = parser.parse_args()
    if args.candidate and len(args.names) != 1:
        parser.error("--candidate scores one release at a time")
    args.out.mkdir(parents=True, exist_ok=True)
    candidates = args.out / "candidate"
    for name in args.names:
        if args.candidate:
            candidates.mkdir(exist_ok=True)
            shutil.copyfile(args.candidate, candidates / f"{name}.safetensors")
            run_evals(name, candidates, candidates / f"{name}.safetensors")  # rows named after the release
            continue
        weights = weights_dir() / f"{name}.safetensors"
        if args.ship:
            shutil.copyfile(candidates / f"{name}.safetensors", weights)
            weights.chmod(0o644)
            for f in candidates.glob(f"{name}-[0-9]*.json"):
                shutil.copyfile(f, args.out / f.name)
        if not weights.is_file():
            sys.exit(f"release_eval: {weights} does not exist (copy the run's export there first)")
        files = sorted(args.out.glob(f"{name}-[0-9]*.json")) if args.register_only or args.ship else run_evals(name, args.out, None)
        entry = register(weights, eval_files=files, commands=COMMANDS[name])
        scores = ", ".join(f"{k} {v['psnr']:.2f}" for k, v in entry["metrics"].items())
        print(f"{name}: registered {entry['sha256'][:12]}: {scores}", flush=True)


if __name__ == "__main__":
    if shutil.which("irestore") is None:
        sys.exit("release_eval: the irestore command is not installed (pip install -e .)")
    main()
