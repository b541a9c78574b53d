#!/usr/bin/env bash
# Copy the training data a lent GPU machine needs into carry/datasets (git-ignored), so a device run
# can name `carry` and find it there. The device takes at most 64 MiB of working tree *and* carry,
# and the tracked files (mostly weights/) use ~16 MiB of that, so the pack must stay under ~47 MiB:
#   - every image is stored as lossless WebP (pixels checked bit-identical after decoding);
#   - T91 stays behind (7 MiB, 1/8 of BSD200's pixels); the GPU script trains on the config's folders
#     that were carried and prints the ones it left out;
#   - validation needs only the first 10 images of LIVE1 and CBSD68 (every release config's
#     val_count), centre-cropped to 256 px around the 128 px val crop. GPU validation PSNRs are
#     therefore only comparable within a GPU run; releases are judged by scripts/release_eval.py.
# The layout mirrors ../shared/datasets, so the configs' relative folders resolve with
# IRESTORE_DATA=carry/datasets. Never commit carry/.
#
# Usage: scripts/pack_train_data.sh [SOURCE_ROOT]   (default: $IRESTORE_DATA or ../shared/datasets)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-${IRESTORE_DATA:-../shared/datasets}}
dest=carry/datasets
tracked_kib=$(git ls-files -z | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
limit_kib=$(( 63 * 1024 - tracked_kib ))

rm -rf "$dest"
mkdir -p "$dest"
python3 - "$src" "$dest" <<'PY'
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

src, dest = Path(sys.argv[1]), Path(sys.argv[2])
plan = [("train/BSD200", None, None), ("train/Train400", None, None), ("test/LIVE1", 10, 256), ("test/CBSD68", 10, 256)]
for folder, count, side in plan:
    files = sorted(p for p in (src / folder).iterdir() if p.suffix.lower() in (".png", ".bmp"))[:count]
    if not files:
        sys.exit(f"{src / folder}: no images (is SOURCE_ROOT the datasets folder?)")
    out = dest / folder
    out.mkdir(parents=True)
    for path in files:
        pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if side:
            top, left = max(0, (pixels.shape[0] - side) // 2), max(0, (pixels.shape[1] - side) // 2)
            pixels = np.ascontiguousarray(pixels[top : top + side, left : left + side])
        ok, data = cv2.imencode(".webp", pixels, [cv2.IMWRITE_WEBP_QUALITY, 101])  # >100: lossless
        back = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        if pixels.ndim == 2 and back is not None and back.ndim == 3:
            back = back[..., 0] if all(np.array_equal(back[..., 0], back[..., c]) for c in (1, 2)) else back
        if not ok or not np.array_equal(back, pixels):
            sys.exit(f"{path}: lossless WebP round trip failed")
        (out / path.with_suffix(".webp").name).write_bytes(data.tobytes())
    print(f"{folder}: {len(files)} images")
shutil.copytree(src / "train/blur_kernels", dest / "train/blur_kernels")  # deblur's recorded kernels
print("train/blur_kernels:", len(list((dest / "train/blur_kernels").iterdir())), "files")
PY
size_kib=$(du -sk "$dest" | cut -f1)
echo "carry/datasets: $(( size_kib / 1024 )) MiB (tracked files: $(( tracked_kib / 1024 )) MiB)"
if (( size_kib > limit_kib )); then
    echo "carry/datasets is over $(( limit_kib / 1024 )) MiB: with the tracked files the device run would refuse it" >&2
    exit 1
fi
