"""Runner for .mnn files through MNN's Python session API (no torch, no MNN.tools)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from lmk.meta import read_sidecar, validate_meta
from lmk.runtime import check_batch


def import_mnn():
    """The MNN module. Its import prints a native banner ("The device supports: ...") on stdout;
    that goes to stderr instead, so stdout stays clean for what lmk prints there (JSON)."""
    if "MNN" in sys.modules:
        return sys.modules["MNN"]
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        import MNN

        _flush_c_stdio()  # the banner may sit in C's stdout buffer (stdout a pipe): out to stderr now
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return MNN


def _flush_c_stdio() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library handle here: nothing to flush
        pass


def mnn_meta(path: Path) -> dict:
    """The metadata stored in the file's bizCode, falling back to the sidecar."""
    MNN = import_mnn()

    try:
        info = MNN.nn.load_module_from_file(str(path), ["input"], ["landmarks"]).get_info()
        return validate_meta(json.loads(info["bizCode"]), str(path))
    except Exception:
        return read_sidecar(path)


def load_mnn_runner(path: Path, threads: int = 1, precision: str = "normal", meta: dict | None = None):
    """(runner, metadata); each call runs one face at a time (the file's shape is static).
    Metadata: `meta` if given, else the sidecar, else the file's bizCode."""
    MNN = import_mnn()

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: MNN file not found")
    interp = MNN.Interpreter(str(path))
    session = interp.createSession({"numThread": max(1, threads), "precision": precision})
    inp = interp.getSessionInput(session)
    if meta is None:
        meta = read_sidecar(path) if Path(str(path) + ".json").is_file() else mnn_meta(path)
    n = int(meta["num_points"])

    def run(x: np.ndarray) -> np.ndarray:
        outs = []
        for one in check_batch(x, meta, str(path)):
            tmp = MNN.Tensor(
                inp.getShape(), MNN.Halide_Type_Float, np.ascontiguousarray(one[None]), MNN.Tensor_DimensionType_Caffe
            )
            inp.copyFrom(tmp)
            interp.runSession(session)
            out = interp.getSessionOutput(session, "landmarks")
            host = MNN.Tensor(
                out.getShape(),
                MNN.Halide_Type_Float,
                np.zeros(out.getShape(), dtype=np.float32),
                MNN.Tensor_DimensionType_Caffe,
            )
            out.copyToHostTensor(host)
            outs.append(np.array(host.getNumpyData(), dtype=np.float32).reshape(n, 2))
        return np.stack(outs)

    return run, meta
