"""ONNX -> MNN through MNN's compiled converter, run in a subprocess.

Never imports `MNN.tools` (its wrappers pip-install packages and upload usage data); the
compiled `_tools` module is called directly, in a child process because converter errors abort.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from lmk.meta import publish

# mnnconvert returns True whatever happens: success is judged by its output and the file it wrote
_CONVERT = "import sys, _tools; _tools.mnnconvert(sys.argv[1:])"


class ConversionError(RuntimeError):
    pass


def convert_to_mnn(
    onnx_path: Path,
    mnn_path: Path,
    meta: dict,
    fp16: bool = False,
    weight_bits: int = 0,
    timeout: float = 600,
    source_format: str = "ONNX",
) -> Path:
    """Convert; --bizCode carries the JSON metadata. fp16: fp16 weight storage; weight_bits=8: w8.

    source_format="MNN" re-writes an existing .mnn (e.g. an int8 one from mnnquant, which drops
    the bizCode) with new metadata and nothing else changed.
    """
    onnx_path, mnn_path = Path(onnx_path), Path(mnn_path)
    if not onnx_path.is_file():
        raise ConversionError(f"{onnx_path}: {source_format} file not found")
    mnn_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=mnn_path.parent, prefix=f".{mnn_path.name}.", suffix=".tmp.mnn")
    os.close(fd)
    args = [
        "mnnconvert",
        "-f",
        source_format,
        "--modelFile",
        str(onnx_path),
        "--MNNModel",
        tmp,
        "--bizCode",
        json.dumps(meta, separators=(",", ":")),
    ]
    if fp16:
        args.append("--fp16")
    if weight_bits:
        args += ["--weightQuantBits", str(weight_bits)]
    try:
        proc = subprocess.run([sys.executable, "-c", _CONVERT, *args], capture_output=True, text=True, timeout=timeout)
        log = proc.stdout + proc.stderr
        if proc.returncode != 0 or "Converted Success" not in log or Path(tmp).stat().st_size == 0:
            tail = log.strip().splitlines()[-5:]
            raise ConversionError(f"{onnx_path}: MNN converter failed (exit {proc.returncode}): {' | '.join(tail)}")
        publish(tmp, mnn_path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return mnn_path
