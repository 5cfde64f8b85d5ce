#!/usr/bin/env bash
# Time the README's main job (`lmk pipeline && lmk bench` on defaults) from an empty folder, the ARM
# emulator set up beforehand (`lmk check-arm --setup`), and count the steps its log shows.
#
#   benchmarks/main_job.sh            -> benchmarks/results/main_job.md
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lmk check-arm --setup > /dev/null
cd "$work"
start=$(date +%s.%N)
lmk pipeline > pipeline.log 2>&1
mid=$(date +%s.%N)
lmk bench > bench.log 2>&1
end=$(date +%s.%N)
python - "$start" "$mid" "$end" "$repo/benchmarks/results/main_job.md" pipeline.log <<'PY'
import os, platform, sys
start, mid, end = (float(v) for v in sys.argv[1:4])
log = open(sys.argv[5]).read()
steps = {k: log.count(k) for k in ("scoring the PyTorch fp32 reference", "exporting ", "converting ", "calibration: ", "== int8: ")}
load = os.getloadavg()[0]
lines = [
    "# The main job, timed (`benchmarks/main_job.sh`)",
    "",
    f"`lmk pipeline && lmk bench` on defaults, from an empty folder, ARM emulator set up; "
    f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), load average {load:.2f} at the end.",
    "",
    "| step | seconds |",
    "|---|---:|",
    f"| `lmk pipeline` | {mid - start:.1f} |",
    f"| `lmk bench` | {end - mid:.1f} |",
    f"| total | {end - start:.1f} |",
    "",
    "Steps in the pipeline's log (each should appear once, `converting` once per fp32/fp16/w8 .mnn, "
    "`== int8:` once per runtime):",
    "",
    *[f"- `{k.strip()}`: {v}" for k, v in steps.items()],
    "",
    "The pipeline's stages (its own log lines):",
    "",
    *[f"- `{ln.strip()}`" for ln in log.splitlines() if ln.startswith("== ")],
    "",
]
open(sys.argv[4], "w").write("\n".join(lines))
print("\n".join(lines))
PY
