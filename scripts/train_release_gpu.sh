#!/usr/bin/env bash
# Train release models in turn on a lent GPU (an H200: 16 cores, 15 minutes in all) and put the
# exported weights and logs in $OUT/weights.tar (the device run returns at most 8 files).
#
# Name the configs, each with its own seconds, to spend the time where the gaps are. Before:
# scripts/pack_train_data.sh with the same arguments (fills the git-ignored carry/datasets with the
# images those configs read; all ten need more than a device run carries). Then one device run:
#   run(command="bash scripts/train_release_gpu.sh configs/denoise-gaussian.toml:100 configs/deblur.toml:90",
#       carry=["carry"], timeout_s=600)
#
# Each model trains for its seconds (default SECONDS_EACH) with bf16 autocast, batch BATCH (32) of
# PATCH px patches (128; sr-x4 192) made by DataLoader workers. A model whose release weights are in
# weights/ is fine-tuned from them (--init; INIT=0 trains from scratch; INIT_FROM=FILE starts a
# single-config run from a candidate carried in the checkout instead) at LR, and its learning rate
# anneals by time (anneal_by_time), so every run ends at the bottom of its cosine whatever its step rate. Models that
# would overrun TOTAL are skipped. EXTRA adds options to every run, e.g. the fine-tune loss that
# gained most on the CPU: EXTRA="--set loss=psnr --set psnr_floor_db=50" (docs/ablations.md, "Loss").
# Back here: python scripts/release_eval.py --candidate FILE NAME.
set -uo pipefail
cd "$(dirname "$0")/.."
export IRESTORE_DATA=${IRESTORE_DATA:-carry/datasets}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
seconds_each=${SECONDS_EACH:-45}
steps=${STEPS:-1000000}  # only sets the cosine's length in steps; the time budget ends each run
init=${INIT:-1}
lr=${LR:-5e-4}
batch=${BATCH:-32}
total=${TOTAL:-540}
workers=${WORKERS:-$(( $(nproc) - 2 ))}
compile=${COMPILE:-0}  # COMPILE=1: torch.compile the model (docs/speed.md: the GPU step, not the data, sets the pace)
read -ra extra <<<"${EXTRA:-}"
device=${DEVICE:-cuda}  # DEVICE=cpu for a smoke test of this script without a GPU
work=${WORK:-$(mktemp -d)}  # run folders and weights; only the tar comes back
out=${OUT:-$work}
mkdir -p "$out" "$work/weights" "$work/runs"
log="$out/train.log"

configs=("$@")
(( ${#configs[@]} )) || configs=(configs/*.toml)
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')" 2>&1 | tee -a "$log"
[ -d "$IRESTORE_DATA/train" ] || { echo "no $IRESTORE_DATA/train: run scripts/pack_train_data.sh with these configs and carry 'carry'" | tee -a "$log"; exit 1; }

for spec in "${configs[@]}"; do
    config=${spec%%:*}
    seconds=$seconds_each
    [ "$spec" != "$config" ] && seconds=${spec##*:}
    name=$(basename "$config" .toml)
    if (( SECONDS + seconds + 20 > total )); then
        echo "$name: skipped, the total budget of ${total}s would be exceeded" | tee -a "$log"
        continue
    fi
    carried=$(python3 - "$config" "$IRESTORE_DATA" <<'PY'
import json, sys
from pathlib import Path
from irestore.train.config import load_config
dirs = load_config(Path(sys.argv[1])).train_dirs
kept = [d for d in dirs if (Path(sys.argv[2]) / d).is_dir()]
if kept != dirs:
    print(f"not carried, trained without: {sorted(set(dirs) - set(kept))}", file=sys.stderr)
print(json.dumps(kept))
PY
)
    patch=128
    [ "$name" = sr-x4 ] && patch=192
    patch=${PATCH:-$patch}
    train=(python3 -m irestore.train -c "$config" --device "$device" --bf16 --batch-size "$batch" --patch-size "$patch"
           --steps "$steps" --time-budget "$seconds" --out-dir "$work/runs" --quiet --set anneal_by_time=true --set "train_dirs=$carried"
           --set warmup_steps=100 --set val_every=500 --set checkpoint_every=100000 --set log_every=50
           --export "$work/weights/$name.safetensors" --half "${extra[@]}")
    start=${INIT_FROM:-weights/$name.safetensors}
    if (( init )) && [ -f "$start" ]; then
        train+=(--init "$start" --lr "$lr")
    fi
    echo "== $name (t=${SECONDS}s)" | tee -a "$log"
    if ! "${train[@]}" --workers "$workers" $( (( compile )) && echo --compile ) >>"$log" 2>&1; then
        if (( compile )); then
            echo "$name: failed with --compile; retrying (and going on) without it" | tee -a "$log"
            compile=0
        elif (( workers > 0 )) && tail -n 40 "$log" | grep -qiE "dataloader|worker|shared memory|bus error"; then
            echo "$name: failed with $workers workers; retrying without worker processes" | tee -a "$log"
            workers=0
        else
            echo "$name: failed (see $log)" | tee -a "$log"
            continue
        fi
        rm -rf "$work/runs/$name"
        "${train[@]}" --workers "$workers" >>"$log" 2>&1 || { echo "$name: failed (see $log)" | tee -a "$log"; continue; }
    fi
    grep -h '"event": "val"' "$work/runs/$name/log.jsonl" | tail -1 | tee -a "$log"
    tar -rf "$out/weights.tar" -C "$work" "weights/$name.safetensors" "runs/$name/log.jsonl"
done
echo "done in ${SECONDS}s" | tee -a "$log"
