#!/usr/bin/env bash
# Ship one zoo model (nano / small) beside the large one and make its deployable files.
#
#   benchmarks/ship_zoo.sh runs/val_nano_kd/model.pt wflw98_nano "lmk train ..."
#
# 1. fp16 checkpoint + re-scored metrics        -> src/lmk/weights/NAME.pt (benchmarks/ship_model.py)
# 2. every deployable file, scored, ARM-checked -> runs/zoo/NAME/, benchmarks/results/zoo_NAME*
# 3. the int8 .mnn into models/, ARM-checked on all test faces
# The frontier table and plot (every zoo file against MediaPipe and dlib) come from
# benchmarks/peers.py over runs/zoo/*/ afterwards (README "The frontier").
set -euo pipefail
cd "$(dirname "$0")/.."
src=$1 name=$2 command=$3
data=${LMK_DATA:-../shared/data/wflw-mini}
dst=src/lmk/weights/$name.pt

python benchmarks/ship_model.py "$src" "$dst" --data "$data" --command "$command"
python benchmarks/artifacts.py --checkpoint "$dst" --data "$data" --out "runs/zoo/$name" \
    --report "benchmarks/results/zoo_$name"
mkdir -p models
cp "runs/zoo/$name/$name.int8.mnn" "runs/zoo/$name/$name.int8.mnn.json" models/
# a FAIL verdict (int8 rounding beyond the check's own bar) is reported in the README, not a reason to stop
# (writes models/NAME.int8.mnn.arm.json and .arm.md beside the file)
lmk check-arm "models/$name.int8.mnn" --data "$data" --faces 0 \
    || echo "ARM check of models/$name.int8.mnn: FAIL (see models/$name.int8.mnn.arm.md)"
