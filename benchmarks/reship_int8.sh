#!/usr/bin/env bash
# Re-make a shipped model's int8 .mnn from its checkpoint with this lmk's graph (e.g. after the
# deployable graph gained an output), without retraining or re-running the whole zoo benchmark:
#
#   benchmarks/reship_int8.sh wflw98_nano
#
# 1. the fp32 ONNX (scored, parity-checked)           -> runs/reship/NAME/NAME.onnx
# 2. MNN int8 from it (EMA calibration on 128 train faces, the i8mm guard, scored) -> beside it
# 3. the int8 .mnn into models/, ARM-checked on all test faces (FILE.arm.json/.md beside it)
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1
data=${LMK_DATA:-../shared/data/wflw-mini}
out=runs/reship/$name
lmk export --checkpoint "src/lmk/weights/$name.pt" --to onnx --out "$out" --data "$data"
lmk quantize --runtime mnn --from "$out/$name.onnx" --calib wflw_train --data "$data" --num-calib 128 --arm off
cp "$out/$name.int8.mnn" "$out/$name.int8.mnn.json" models/
lmk check-arm "models/$name.int8.mnn" --data "$data" --faces 0 \
    || echo "ARM check of models/$name.int8.mnn: FAIL (see models/$name.int8.mnn.arm.md)"
