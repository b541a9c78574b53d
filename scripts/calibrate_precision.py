"""Measure what bf16 costs each release on its own test sets, and store it in the manifest.

``--precision auto`` (the default) runs a release in bf16 only on hardware with native bf16 units
and only when this measured cost is at most 0.02 dB on every row of its release evaluation. Each
release is scored with the commands its manifest entry lists (the model alone: no baselines, no
ensemble, no subsets), once in fp32 and once in bf16:

    python scripts/calibrate_precision.py [NAME ...] [--threads 2] [--low-precision-stream]

``--low-precision-stream`` also scores a U-Net with its full-resolution stream in bf16 (half the
memory of a whole photo, docs/speed.md) and records it as the release's choice when that costs at
most the same 0.02 dB; ``bf16_cost_db`` is then the cost of the stream it runs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from irestore.engine.device import BF16_MAX_COST_DB
from irestore.models.release import record
from irestore.models.zoo import read_manifest, weights_dir


def _without_baselines(command: str) -> list[str]:
    words = shlex.split(command)[1:]
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in ("-b", "--baselines", "--baseline"):
            skip = True
            continue
        out.append(word)
    return out


def scores(command: str, precision: str, threads: int, stream: str = "float32") -> dict[str, float]:
    """PSNR per dataset/level row of the release's model in ``precision`` with a ``stream`` (float32 or low) stream."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "eval.json"
        args = [sys.executable, "-m", "irestore", *_without_baselines(command), "--precision", precision, "--stream", stream, "--threads", str(threads), "--json", str(report)]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        rows = json.loads(report.read_text())["results"]
    out = {}
    for r in rows:
        dataset = r["dataset"] + next((v for v in ("-8bit", "-444") if str(r.get("preset", "")).endswith(v)), "")
        out[f"{dataset}/{r['level']}" if r.get("level") not in (None, "", "-") else dataset] = r["psnr"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--low-precision-stream", action="store_true", help="also score the stream in bf16 and keep it where it is cheap enough")
    args = parser.parse_args()
    folder = weights_dir()
    models = read_manifest(folder)["models"]
    for name in args.names or sorted(models):
        commands = [c for c in models[name]["eval_commands"] if "--ensemble" not in c and "--limit" not in c]
        cost, low_cost = {}, {}
        for command in commands:
            fp32, bf16 = scores(command, "fp32", args.threads), scores(command, "bf16", args.threads)
            cost |= {key: round(fp32[key] - bf16[key], 4) for key in fp32}
            if args.low_precision_stream:
                low = scores(command, "bf16", args.threads, stream="low")
                low_cost |= {key: round(fp32[key] - low[key], 4) for key in fp32}
        result = {"bf16_cost_db": max(cost.values()), "rows": cost, "commands": commands}
        if low_cost:
            result["low_precision_stream_rows"] = low_cost
            if max(low_cost.values()) <= BF16_MAX_COST_DB:
                result |= {"bf16_cost_db": max(low_cost.values()), "low_precision_stream": True, "float32_stream_cost_db": max(cost.values())}
        record(folder, name, precision=result)
        stream = "a bf16 stream" if result.get("low_precision_stream") else "a float32 stream"
        print(f"{name}: bf16 with {stream} costs at most {result['bf16_cost_db']:+.4f} dB over {len(cost)} rows")


if __name__ == "__main__":
    main()
