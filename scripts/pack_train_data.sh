#!/usr/bin/env bash
# Copy the training data a lent GPU machine needs into carry/datasets (git-ignored), so a device run
# can name `carry` and find it there (64 MiB limit for everything that travels).
#
# The colour sets are stored as lossless WebP (bit-identical pixels, about 2/3 of the PNG bytes);
# Train400 (gray) stays PNG. Validation needs only the first 10 images of LIVE1 and CBSD68, the
# val_count of every release config. The layout mirrors ../shared/datasets, so the configs'
# relative folders resolve with IRESTORE_DATA=carry/datasets. Never commit carry/.
#
# Usage: scripts/pack_train_data.sh [SOURCE_ROOT]   (default: $IRESTORE_DATA or ../shared/datasets)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-${IRESTORE_DATA:-../shared/datasets}}
dest=carry/datasets
limit_mib=${LIMIT_MIB:-60}

rm -rf "$dest"
mkdir -p "$dest"
python3 - "$src" "$dest" <<'PY'
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

src, dest = Path(sys.argv[1]), Path(sys.argv[2])
plan = [("train/BSD200", None, True), ("train/T91", None, True), ("train/Train400", None, False),
        ("test/LIVE1", 10, True), ("test/CBSD68", 10, True)]
for folder, count, webp in plan:
    files = sorted(p for p in (src / folder).iterdir() if p.suffix.lower() in (".png", ".bmp"))[:count]
    if not files:
        sys.exit(f"{src / folder}: no images (is SOURCE_ROOT the datasets folder?)")
    out = dest / folder
    out.mkdir(parents=True)
    for path in files:
        if not webp:
            shutil.copy2(path, out / path.name)
            continue
        pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        ok, data = cv2.imencode(".webp", pixels, [cv2.IMWRITE_WEBP_QUALITY, 101])  # >100: lossless
        if not ok or not np.array_equal(cv2.imdecode(data, cv2.IMREAD_UNCHANGED), pixels):
            sys.exit(f"{path}: lossless WebP round trip failed")
        (out / path.with_suffix(".webp").name).write_bytes(data.tobytes())
    print(f"{folder}: {len(files)} images")
shutil.copytree(src / "train/blur_kernels", dest / "train/blur_kernels")  # deblur's recorded kernels
print("train/blur_kernels:", len(list((dest / "train/blur_kernels").iterdir())), "files")
PY
size=$(du -sm "$dest" | cut -f1)
echo "carry/datasets: ${size} MiB"
if (( size > limit_mib )); then
    echo "carry/datasets is over ${limit_mib} MiB: the device run would refuse it" >&2
    exit 1
fi
