"""Speed and memory of the engine: the same as ``irestore bench``, runnable from a checkout.

    python benchmarks/bench.py --quick
    python benchmarks/bench.py --config small --threads 1,2 --precision fp32,bf16
"""

import sys

from irestore.cli.main import app

if __name__ == "__main__":
    app(["bench", *sys.argv[1:]])
