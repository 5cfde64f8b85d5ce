"""ONNX Runtime static int8 (QDQ): pre-processing, a one-method CalibrationDataReader over real
crops, and a small search over the variants that matter, kept by NME on held-out train faces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quant_pre_process,
    quantize_static,
)

from lmk.files import atomic_path
from lmk.quiet import library_output_dropped


class CropReader(CalibrationDataReader):
    """Feeds calibration crops one at a time under the graph's input name."""

    def __init__(self, inputs: np.ndarray, name: str = "input"):
        self.name, self.it = name, iter(inputs)

    def get_next(self) -> dict | None:
        x = next(self.it, None)
        return None if x is None else {self.name: x[None].astype(np.float32)}


@dataclass
class OrtVariant:
    name: str
    per_channel: bool = True
    method: str = "MinMax"  # MinMax | Entropy | Percentile
    reduce_range: bool = False
    activation: str = "QUInt8"  # QUInt8 (u8s8, fastest on x86) | QInt8 (s8s8)
    keep_float: list[str] = field(default_factory=list)  # node names left in float

    def as_dict(self) -> dict:
        return asdict(self)


def edge_convs(model_path: Path) -> list[str]:
    """Names of the first Conv (sees raw pixels) and of the last two (the head's outputs)."""
    convs = [n.name for n in onnx.load(str(model_path)).graph.node if n.op_type == "Conv"]
    return [convs[0], *convs[-2:]] if len(convs) >= 3 else convs


def default_variants(fp32_path: Path) -> list[OrtVariant]:
    """The variants worth building: per-channel MinMax with u8 or s8 activations, and with the
    first and last convolutions in float. Variants that never won on the zoo's selection faces are
    left out (per-tensor scales, Entropy, Percentile, reduce-range; docs/deployment.md, "int8")."""
    edges = edge_convs(fp32_path)
    return [
        OrtVariant("per_channel_minmax"),
        OrtVariant("per_channel_minmax_s8s8", activation="QInt8"),
        OrtVariant("per_channel_minmax_float_edges", keep_float=edges),
    ]


def preprocess(fp32_path: Path, out_path: Path) -> Path:
    """ORT's recommended pre-processing (shape inference + graph optimisation)."""
    quant_pre_process(str(fp32_path), str(out_path), skip_symbolic_shape=False)
    return out_path


def quantize_ort(pre_path: Path, out_path: Path, inputs: np.ndarray, variant: OrtVariant) -> Path:
    """One static QDQ quantization, written atomically."""
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp, library_output_dropped():
        quantize_static(
            str(pre_path),
            str(tmp),
            CropReader(inputs),
            quant_format=QuantFormat.QDQ,
            per_channel=variant.per_channel,
            reduce_range=variant.reduce_range,
            activation_type=getattr(QuantType, variant.activation),
            weight_type=QuantType.QInt8,
            calibrate_method=getattr(CalibrationMethod, variant.method),
            nodes_to_exclude=variant.keep_float or None,
            extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
        )
    return out_path


# ORT's x86 kernels run some variants (s8 activations) at half the speed of others (u8): among the
# variants that are no slower than this many times the fastest, the most accurate is kept.
SPEED_SLACK = 1.25


def time_variants(paths: list[Path], x: np.ndarray, runs: int = 20, warmup: int = 3) -> dict[Path, float]:
    """Median ms per face of each file on one thread of this machine, the files taking turns."""
    from functools import partial

    from lmk.runtime.ort_runner import load_ort_runner
    from lmk.runtime.timing import median_p90, time_in_turns

    calls = {p: partial(load_ort_runner(p, threads=1)[0], x[:1]) for p in paths}
    return {p: median_p90(t)[0] for p, t in time_in_turns(calls, runs, warmup).items()}


def search(
    pre_path: Path,
    out_dir: Path,
    inputs: np.ndarray,
    variants: list[OrtVariant],
    score: Callable[[Path], float],
    max_bytes: int | None = None,
    log=print,
) -> tuple[OrtVariant, Path, list[dict]]:
    """Quantize every variant, score each file (NME, lower is better) and time them; keep the most
    accurate among those within `max_bytes` (the int8 size budget) and within SPEED_SLACK of the
    fastest one's latency. The others are removed."""
    results, built = [], []
    for v in variants:
        path = out_dir / f".ort_{v.name}.onnx"
        try:
            quantize_ort(pre_path, path, inputs, v)
            s = score(path)
        except Exception as exc:  # a variant that ORT cannot build is reported, not fatal
            log(f"  ort {v.name}: failed ({type(exc).__name__}: {exc})")
            results.append({**v.as_dict(), "error": str(exc)})
            path.unlink(missing_ok=True)
            continue
        size = path.stat().st_size
        over = max_bytes is not None and size > max_bytes
        results.append({**v.as_dict(), "selection_nme": s, "bytes": size, "over_size_budget": over})
        if over:
            path.unlink(missing_ok=True)
        else:
            built.append((v, path, results[-1]))
    if not built:
        raise ValueError(f"{pre_path}: no ONNX Runtime int8 variant could be built within the size budget")
    ms = time_variants([p for _, p, _ in built], inputs)
    fastest = min(ms.values())
    for _, path, r in built:
        r["ms_per_face"] = ms[path]
        r["too_slow"] = ms[path] > SPEED_SLACK * fastest
    for r in results:
        if "error" in r:
            continue
        note = " (over the size budget)" if r["over_size_budget"] else (" (too slow)" if r["too_slow"] else "")
        timing = f", {r['ms_per_face']:.2f} ms" if "ms_per_face" in r else ""
        log(f"  ort {r['name']}: selection NME {r['selection_nme']:.3f}%{timing}, {r['bytes']:,} bytes{note}")
    v, best, _ = min((b for b in built if not b[2]["too_slow"]), key=lambda b: b[2]["selection_nme"])
    for _, path, _ in built:
        if path != best:
            path.unlink(missing_ok=True)
    return v, best, results
