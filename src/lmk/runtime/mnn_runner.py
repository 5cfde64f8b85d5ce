"""Runner for .mnn files through MNN's Python session API (no torch, no MNN.tools)."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from lmk.artifact import MetadataError, read_sidecar, validate_meta
from lmk.runtime import check_batch


def import_mnn():
    """The MNN module. Its import prints a native banner ("The device supports: ...") on stdout;
    it is dropped, so stdout stays clean for what lmk prints there (JSON) and an error stays one
    line on stderr."""
    if "MNN" in sys.modules:
        return sys.modules["MNN"]
    with native_output_dropped():
        import MNN
    return MNN


def _flush_c_stdio() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library handle here: nothing to flush
        pass


@contextmanager
def native_output_dropped():
    """Silence what native code writes to fds 1 and 2 (MNN prints its load errors there itself):
    lmk's own message says what went wrong, in one line."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(os.devnull, "wb") as null:
        try:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
        finally:
            _flush_c_stdio()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def open_interpreter(path: Path):
    """MNN's interpreter for a file, or a MetadataError naming it: MNN refuses a file that is not a
    model (random bytes, a truncated download) with a bare exception and a console line."""
    MNN = import_mnn()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: MNN file not found")
    try:
        with native_output_dropped():
            return MNN.Interpreter(str(path))
    except Exception as exc:
        raise MetadataError(f"{path}: not a readable MNN model ({str(exc).split('.')[0]})") from None


def mnn_meta(path: Path) -> dict:
    """The metadata stored in the file's bizCode, falling back to the sidecar."""
    MNN = import_mnn()

    try:
        info = MNN.nn.load_module_from_file(str(path), ["input"], ["landmarks"]).get_info()
        return validate_meta(json.loads(info["bizCode"]), str(path))
    except Exception:
        return read_sidecar(path)


def load_mnn_runner(
    path: Path, threads: int = 1, precision: str = "normal", meta: dict | None = None, with_scores: bool = False
):
    """(runner, metadata); each call runs one face at a time (the file's shape is static).
    Metadata: `meta` if given, else the sidecar, else the file's bizCode. `with_scores`: the runner
    returns (points, scores or None), see `lmk.runtime.load_runner`."""
    MNN = import_mnn()

    path = Path(path)
    interp = open_interpreter(path)
    session = interp.createSession({"numThread": max(1, threads), "precision": precision})
    inp = interp.getSessionInput(session)
    if meta is None:
        meta = read_sidecar(path) if Path(str(path) + ".json").is_file() else mnn_meta(path)
    n = int(meta["num_points"])
    scores = with_scores and "scores" in interp.getSessionOutputAll(session)

    def read(name: str, shape: tuple[int, ...]) -> np.ndarray:
        out = interp.getSessionOutput(session, name)
        host = MNN.Tensor(
            out.getShape(),
            MNN.Halide_Type_Float,
            np.zeros(out.getShape(), dtype=np.float32),
            MNN.Tensor_DimensionType_Caffe,
        )
        out.copyToHostTensor(host)
        return np.array(host.getNumpyData(), dtype=np.float32).reshape(shape)

    def run_all(x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        points, point_scores = [], []
        for one in check_batch(x, meta, str(path)):
            tmp = MNN.Tensor(
                inp.getShape(), MNN.Halide_Type_Float, np.ascontiguousarray(one[None]), MNN.Tensor_DimensionType_Caffe
            )
            inp.copyFrom(tmp)
            interp.runSession(session)
            points.append(read("landmarks", (n, 2)))
            if scores:
                point_scores.append(read("scores", (n,)))
        return np.stack(points), (np.stack(point_scores) if scores else None)

    def run(x: np.ndarray) -> np.ndarray:
        return run_all(x)[0]

    return (run_all if with_scores else run), meta
