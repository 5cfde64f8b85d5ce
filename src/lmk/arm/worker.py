"""Runs inside the emulated aarch64 Python: lmk's own MNN runner on saved inputs.

    python -m lmk.arm.worker MODEL.mnn META.json INPUTS.npy OUT.npy [normal|low]

Imports only numpy, MNN and lmk's runtime (no torch, no OpenCV): crops are made on the host.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from lmk.runtime.mnn_runner import load_mnn_runner


def main(argv: list[str]) -> None:
    model, meta_path, inputs, out = argv[:4]
    precision = argv[4] if len(argv) > 4 else "normal"
    meta = json.loads(Path(meta_path).read_text())
    run, _ = load_mnn_runner(Path(model), threads=1, precision=precision, meta=meta)
    np.save(out, run(np.load(inputs)))


if __name__ == "__main__":
    main(sys.argv[1:])
