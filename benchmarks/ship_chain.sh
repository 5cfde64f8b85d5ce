#!/usr/bin/env bash
# Ship a training run's model and re-make every number the README shows for the shipped model.
#
#   benchmarks/ship_chain.sh runs/final_lite2/model.pt wflw98_lite2_pip "lmk train ..." [runs/val_x/model.pt ...]
#
# 1. fp16 checkpoint + re-scored metrics        -> src/lmk/weights/NAME.pt (benchmarks/ship_model.py)
# 2. every deployable file, scored, ARM-checked -> runs/artifacts, benchmarks/results/artifacts*
# 3. x86 latency of the deployable files, and of the previous model's fp32 .onnx/.mnn and shipped
#    int8 .mnn in the same run (what the new model costs)  -> benchmarks/results/latency.*
# 4. accuracy against latency                     -> benchmarks/results/bench/
# 5. the int8 .mnn into models/, ARM-checked on all test faces
# 6. model table: the extra checkpoints given (e.g. the validation run), the previous shipped model
#    and the new one, appended to the stored table (--paired: new vs previous, face by face)
# The default checkpoint name (src/lmk/weights/__init__.py) is switched by hand afterwards; this script
# does not delete the previous shipped files. About 40 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$1 name=$2 command=$3
shift 3
data=${LMK_DATA:-../shared/data/wflw-mini}
previous=$(python -c "import os; from lmk.weights import default_checkpoint; print(os.path.relpath(default_checkpoint()))")
dst=src/lmk/weights/$name.pt

python benchmarks/ship_model.py "$src" "$dst" --data "$data" --command "$command"
python benchmarks/artifacts.py --checkpoint "$dst" --data "$data" --out runs/artifacts --report benchmarks/results/artifacts
a=runs/artifacts/$name
p=$(basename "$previous" .pt)
lmk export --checkpoint "$previous" --to mnn --out runs/previous --data "$data"
python benchmarks/latency.py --runs 200 --out benchmarks/results/latency \
    "$a.onnx" "$a.int8.onnx" "$a.mnn" "$a.fp16.mnn" "$a.w8.mnn" "$a.int8.mnn" \
    "runs/previous/$p.onnx" "runs/previous/$p.mnn" "models/$p.int8.mnn"
lmk bench --from runs/artifacts --data "$data" --runs 200 --compile --out benchmarks/results/bench
mkdir -p models
cp "$a.int8.mnn" "$a.int8.mnn.json" models/
# a FAIL verdict (int8 rounding beyond the check's own bar) is reported in the README, not a reason to stop
# (writes models/NAME.int8.mnn.arm.json and .arm.md beside the file)
lmk check-arm "models/$name.int8.mnn" --data "$data" --faces 0 \
    || echo "ARM check of models/$name.int8.mnn: FAIL (see models/$name.int8.mnn.arm.md)"
python benchmarks/model_table.py --append --paired --data "$data" --out benchmarks/results/model_table \
    "$@" "$previous" "$dst"
