#!/usr/bin/env bash
# The README's frontier: every shipped model's deployable files against MediaPipe and dlib, one run.
#
#   pip install -e ".[peers]" && pip install --no-deps mediapipe==0.10.14 && apt-get install libdlib-data
#   bash benchmarks/frontier.sh            # -> benchmarks/results/frontier.{json,md,png}
#
# For each 98-point checkpoint in src/lmk/weights/: its fp32 .onnx and .mnn (lmk export) and ORT int8
# .onnx (lmk quantize from that .onnx) under runs/zoo/NAME/ when not there yet, and the shipped int8 .mnn from models/;
# then benchmarks/peers.py scores all of them and the two peers on WFLW-mini test and times them at
# 1 and 2 threads, taking turns.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${LMK_DATA:-../shared/data/wflw-mini}
files=()
for ckpt in src/lmk/weights/wflw98_*.pt; do
    name=$(basename "$ckpt" .pt)
    dir=runs/zoo/$name
    if [ ! -f "$dir/$name.mnn" ]; then
        lmk export --checkpoint "$ckpt" --to mnn --out "$dir" --data "$data"
    fi
    if [ ! -f "$dir/$name.int8.onnx" ]; then
        lmk quantize --runtime ort --from "$dir/$name.onnx" --keep-float 3 --data "$data"
    fi
    files+=("$dir/$name.onnx" "$dir/$name.int8.onnx" "$dir/$name.mnn")
    if [ -f "models/$name.int8.mnn" ]; then
        files+=("models/$name.int8.mnn")
    fi
done
python benchmarks/peers.py "${files[@]}" --data "$data" --threads 1,2 --runs "${RUNS:-200}" \
    --out benchmarks/results/frontier
