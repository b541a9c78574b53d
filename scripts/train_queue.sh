#!/usr/bin/env bash
# Train release configs one after another on one CPU thread: scripts/train_queue.sh NAME:STEPS ...
# Resumes runs/NAME when its state exists (across sessions), and exports runs/NAME.safetensors
# (fp16) at the end of each run. Start one queue per core, in the background:
#   nohup scripts/train_queue.sh jpeg:4000 sr-x4:6000 > runs/queue-a.log 2>&1 &
set -u
for item in "$@"; do
    name=${item%%:*}
    steps=${item#*:}
    resume=()
    [ -f "runs/$name/last.pt" ] && resume=(--resume)
    echo "$(date -u +%FT%TZ) start $name to step $steps ${resume[*]}"
    OMP_NUM_THREADS=1 irestore train -c "configs/$name.toml" --threads 1 --steps "$steps" --time-budget 0 \
        "${resume[@]}" --export "runs/$name.safetensors" --half --quiet >> "runs/$name.out" 2>&1
    echo "$(date -u +%FT%TZ) end $name exit $?"
done
