"""Time every shipped model as the README's models table reports it, and store the row in the manifest.

Each release runs on a 1 MP image (4:3), 2 threads, fp32, the engine's default path, in a fresh
process (``irestore.engine.benchmark``), median of 3; the row keeps the load average, since the
machine may be shared. Run it on an idle machine:

    python scripts/measure_speed.py [NAME ...]
"""

import argparse
import datetime

from irestore.engine.benchmark import Case, measure
from irestore.models.release import record
from irestore.models.zoo import read_manifest, weights_dir

COMMAND = "irestore bench -m {name} --sizes 1 --threads 2 --no-ensemble --no-onnx --precision fp32"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    folder = weights_dir()
    for name in args.names or sorted(read_manifest(folder)["models"]):
        row = measure(Case(name, 1.0, 2, repeat=3))
        if "error" in row:
            raise SystemExit(f"{name}: {row['error']}")
        speed = {
            "mp_per_s": row["mp_per_s"], "megapixels": round(row["height"] * row["width"] / 1e6, 2), "threads": 2, "precision": "fp32",
            "peak_rss_mb": row["peak_rss_mb"], "load": row["load"], "date": datetime.date.today().isoformat(), "command": COMMAND.format(name=name),
        }
        record(folder, name, speed=speed)
        print(f"{name}: {speed['mp_per_s']:.2f} MP/s, peak {speed['peak_rss_mb']} MB, load {speed['load']}")


if __name__ == "__main__":
    main()
