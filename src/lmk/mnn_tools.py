"""MNN's compiled tools (`mnnconvert`, `mnnquant`), each run in a child process.

Never imports `MNN.tools`: its wrappers pip-install packages and upload usage data. The compiled
`_tools` module is called directly, in a subprocess because its errors abort the process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lmk.files import atomic_path


class ConversionError(RuntimeError):
    pass


def run_mnn_tool(
    tool: str, args: list[str], output: Path, what: str, ok_marker: str = "", timeout: float = 1200
) -> str:
    """Run `_tools.<tool>(args)`; success is judged by the exit code, the file it must write
    (`output`, non-empty) and, where the tool returns success whatever happens, a line of its log.
    Raises ConversionError naming `what` with the tail of the tool's log."""
    code = f"import sys, _tools; _tools.{tool}(sys.argv[1:])"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, tool, *args], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise ConversionError(f"{what}: MNN {tool} took longer than {timeout:.0f} s") from None
    log = proc.stdout + proc.stderr
    written = output.is_file() and output.stat().st_size > 0
    if proc.returncode != 0 or not written or (ok_marker and ok_marker not in log):
        tail = " | ".join(log.strip().splitlines()[-5:])
        raise ConversionError(f"{what}: MNN {tool} failed (exit {proc.returncode}): {tail}")
    return log


def convert_mnn(
    src: Path, dst: Path, meta: dict, source_format: str = "ONNX", fp16: bool = False, weight_bits: int = 0
) -> Path:
    """MNN's converter (ONNX -> MNN, or MNN -> MNN to rewrite an existing file) with `meta` as the
    file's bizCode; written to a temporary name and renamed when MNN says it succeeded."""
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise ConversionError(f"{src}: {source_format} file not found")
    with atomic_path(dst, ".mnn") as tmp:
        args = ["-f", source_format, "--modelFile", str(src), "--MNNModel", str(tmp)]
        args += ["--bizCode", json.dumps(meta, separators=(",", ":"))]
        if fp16:
            args.append("--fp16")
        if weight_bits:
            args += ["--weightQuantBits", str(weight_bits)]
        # mnnconvert returns success whatever happens: its log line and the file decide
        run_mnn_tool("mnnconvert", args, tmp, str(src), ok_marker="Converted Success", timeout=600)
    return dst
