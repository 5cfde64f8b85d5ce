"""Runner for .onnx files through ONNX Runtime (no torch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lmk.artifact import MetadataError, validate_meta
from lmk.runtime import check_batch


def onnx_meta(session, path: Path) -> dict:
    props = session.get_modelmeta().custom_metadata_map
    if "lmk" not in props:
        raise MetadataError(f"{path}: no 'lmk' metadata in the ONNX file")
    return validate_meta(json.loads(props["lmk"]), str(path))


def load_ort_runner(path: Path, threads: int = 1, with_scores: bool = False):
    """(runner, metadata); batches are run one face at a time (static batch 1). `with_scores`: the
    runner returns (points, scores or None), see `lmk.runtime.load_runner`."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: ONNX file not found")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise MetadataError(f"{path}: ONNX Runtime cannot load the file ({exc})") from None
    meta = onnx_meta(session, path)

    def outputs(x: np.ndarray, names: list[str]) -> list[np.ndarray]:
        """The named outputs of a batch, run one face at a time."""
        per_face = [session.run(names, {"input": one[None]}) for one in check_batch(x, meta, str(path))]
        return [np.concatenate([o[k] for o in per_face]) for k in range(len(names))]

    def run(x: np.ndarray) -> np.ndarray:
        return outputs(x, ["landmarks"])[0]

    if not with_scores:
        return run, meta
    if "scores" not in {o.name for o in session.get_outputs()}:
        from lmk.runtime import without_scores

        return without_scores(run), meta

    def scored(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        points, scores = outputs(x, ["landmarks", "scores"])
        return points, scores

    return scored, meta
