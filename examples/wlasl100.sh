#!/usr/bin/env bash
# WLASL100 on the MediaPipe-hands sample in ../shared/data: the numbers in docs/results.md.
# Pre-train on train+val without labels, fine-tune on train (best epoch by val), test on test;
# the same fine-tuning from scratch; three fine-tuning seeds each. ~25 minutes on 2 CPU cores.
set -euo pipefail
DATA=${1:-../shared/data/wlasl100-hands-devtushar}
OUT=${2:-runs/wlasl100}
FT=(--preset tiny --set finetune.epochs=60 --set finetune.lr_milestones=40,50 --set finetune.hand_swap=true --quiet)

masa data import "$DATA/landmarks" --format mediapipe-hands --labels "$DATA/nslt_100.json" \
    --image-size 640x480 --out "$OUT/store" --overwrite --quiet
masa pretrain --data "$OUT/store" --splits train,val --out "$OUT/pretrain" --preset tiny \
    --set pretrain.epochs=100 --set pretrain.warmup_epochs=10 --set pretrain.lambda_ramp_epochs=20 --quiet
for seed in 0 1 2; do
  for init in pretrain none; do
    name=$([ "$init" = none ] && echo scratch || echo pretrained)-$seed
    masa finetune --data "$OUT/store" --init "$([ "$init" = none ] && echo none || echo "$OUT/pretrain")" \
        --out "$OUT/ft-$name" "${FT[@]}" --set finetune.seed=$seed
    masa evaluate --checkpoint "$OUT/ft-$name" --data "$OUT/store" --split test --out "$OUT/eval-$name" --quiet
  done
done
