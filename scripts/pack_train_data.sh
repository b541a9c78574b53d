#!/usr/bin/env bash
# Copy the images a lent GPU machine needs to train the named configs into carry/datasets
# (git-ignored), so a device run can name `carry` and find them there. The device takes at most
# 64 MiB of working tree *and* carry, and the tracked files (mostly weights/) use ~19 MiB of that,
# so the pack must stay under ~43 MiB, and it only holds what the named configs read:
#   - their training folders, every image as lossless WebP (pixels checked bit-identical after
#     decoding); T91 stays behind (7 MiB, 1/8 of BSD200's pixels): the GPU script trains on the
#     folders that were carried and prints the ones it left out;
#   - their validation folders, only the first val_count images (the largest of the configs that
#     share a folder), centre-cropped to val_crop + 128 px. The crops are blurred or noised after
#     cropping, so GPU validation PSNRs are only comparable within a GPU run; releases are judged
#     by scripts/release_eval.py;
#   - the recorded blur kernels when a config uses them.
# All ten configs need more than fits (BSD200 and Train400 alone are 41 MiB), so name the ones the
# GPU run will train. The layout mirrors ../shared/datasets, so the configs' relative folders
# resolve with IRESTORE_DATA=carry/datasets. Never commit carry/.
#
# Usage: scripts/pack_train_data.sh [CONFIG[:SECONDS]...]   (default: configs/*.toml; the same
# arguments as scripts/train_release_gpu.sh). Images come from $SOURCE_ROOT, else ../shared/datasets.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${SOURCE_ROOT:-../shared/datasets}
dest=carry/datasets
tracked_kib=$(git ls-files -z | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
limit_kib=$(( 63 * 1024 - tracked_kib ))

rm -rf "$dest"
mkdir -p "$dest"
configs=("$@")
(( ${#configs[@]} )) || configs=(configs/*.toml)
python3 - "$src" "$dest" "${configs[@]%%:*}" <<'PY'
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

from irestore.io import list_images
from irestore.train.config import load_config

src, dest, configs = Path(sys.argv[1]), Path(sys.argv[2]), [load_config(Path(p)) for p in sys.argv[3:]]
train = {d for c in configs for d in c.train_dirs if Path(d).name != "T91"}
val: dict[str, tuple[int, int]] = {}
for c in configs:
    for d in c.val_dirs:
        count, crop = val.get(d, (0, 0))
        val[d] = (max(count, c.val_count), max(crop, c.val_crop + 128))
plan = [(d, None, None) for d in sorted(train)] + [(d, count, side) for d, (count, side) in sorted(val.items())]
for folder, count, side in plan:
    files = list_images(src / folder)[:count]  # the listing training uses: the same first val_count
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
    print(f"{folder}: {len(files)} images" + (f", {side} px centres" if side else ""))
if any(c.degradation.get("kernel_files") for c in configs):
    shutil.copytree(src / "train/blur_kernels", dest / "train/blur_kernels")
    print("train/blur_kernels:", len(list((dest / "train/blur_kernels").iterdir())), "files")
PY
size_kib=$(du -sk "$dest" | cut -f1)
echo "carry/datasets: $(( size_kib / 1024 )) MiB (tracked files: $(( tracked_kib / 1024 )) MiB)"
if (( size_kib > limit_kib )); then
    echo "carry/datasets is over $(( limit_kib / 1024 )) MiB: with the tracked files the device run would refuse it; name fewer configs" >&2
    exit 1
fi
