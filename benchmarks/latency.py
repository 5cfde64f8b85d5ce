"""CPU latency of deployable files (.mnn through MNN, .onnx through ONNX Runtime), one face per call.

    python benchmarks/latency.py --out benchmarks/results/latency runs/artifacts/wflw98_lite2_pip.mnn \
        runs/artifacts/wflw98_lite2_pip.int8.mnn runs/artifacts/wflw98_lite2_pip.onnx

(`lmk bench` does the same and scores each file too; this script only times, on random input.)
Each file gets an input of the size its own metadata names, so files made for different input sizes
can be compared. The files take turns (after 5 warm-up calls each) so that clock or load drift hits
them alike; the median of --runs calls is reported. Writes OUT.json and OUT.md. Runs without torch.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

import numpy as np

from lmk.bench import host_info
from lmk.files import write_json
from lmk.runtime import load_runner
from lmk.runtime.timing import median_p90, time_in_turns


def load(path: Path, threads: int):
    """MNN and ONNX Runtime files only: a .pt runner would not honour --threads."""
    if path.suffix not in (".mnn", ".onnx"):
        raise SystemExit(f"{path}: not a .mnn or .onnx file")
    return load_runner(path, threads=threads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", type=Path, nargs="+")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    args = ap.parse_args()
    runners, inputs = {}, {}
    for path in args.files:
        run, meta = load(path, args.threads)
        runners[path] = run
        inputs[path] = np.random.default_rng(0).standard_normal(meta["input"]["shape"]).astype(np.float32)
    times = time_in_turns({p: partial(run, inputs[p]) for p, run in runners.items()}, args.runs)
    rows = []
    for p in args.files:
        median, p90 = median_p90(times[p])
        shape = "x".join(str(d) for d in inputs[p].shape)
        runtime = "mnn" if p.suffix == ".mnn" else "ort"
        rows.append({"file": str(p), "runtime": runtime, "input": shape, "median_ms": median, "p90_ms": p90})
    host = host_info(args.threads)
    env = {"cpu": host["cpu"], "threads": args.threads, "runs": args.runs}
    env.update({k: host[k] for k in ("MNN", "onnxruntime")})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out.with_suffix(".json"), {"host": env, "rows": rows})
    lines = [
        f"CPU latency on {env['cpu']}, {args.threads} thread(s), one face per call, median / p90 of "
        f"{args.runs} calls, files taking turns (`benchmarks/latency.py`; MNN {env['MNN']}, "
        f"ONNX Runtime {env['onnxruntime']}).",
        "",
        "| file | runtime | input | median ms | p90 ms |",
        "|---|---|---|---:|---:|",
    ]
    lines += [f"| {r['file']} | {r['runtime']} | {r['input']} | {r['median_ms']} | {r['p90_ms']} |" for r in rows]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
