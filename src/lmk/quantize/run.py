"""`lmk quantize`: checkpoint -> verified fp32 export -> int8 file for one runtime, each int8 file
measured on the test split (NME/FR/AUC and ΔNME vs the PyTorch fp32 model) with its own sidecar.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from lmk.data.readers import read_wflw
from lmk.evaluation import score_runner
from lmk.export.exporter import artifact_name, export_checkpoint
from lmk.meta import input_spec_from_meta, read_sidecar, sidecar_path, write_json
from lmk.quantize.calib import calibration_crops_uint8, calibration_inputs, calibration_records

SELECTION_FACES = 64
# an int8 file may take at most this share of the fp32 ONNX file, plus a fixed allowance for what
# QDQ adds whatever the model's size (scales, zero points, Q/DQ nodes), which dominates tiny models
INT8_SIZE_BUDGET = 0.30
INT8_SIZE_ALLOWANCE = 100_000  # bytes
# An int8 file whose NME exceeds this multiple of the fp32 model's is broken (a failed calibration,
# a wrong kernel), not merely rounded: rounding costs a few percent of the NME, breakage multiples
# of it (measured cases: README "Known limits", benchmarks/results/artifacts.md)
MAX_INT8_NME_RATIO = 1.5


def selection_records(data: Path, calib: list, seed: int) -> list:
    """Train faces not used for calibration: variants are chosen here, never on the test split.
    When calibration took every train face (a tiny set), the selection reuses them."""
    used = {(str(r.image_path), r.source) for r in calib if hasattr(r, "source")}
    train = read_wflw(data, "train")
    pool = [r for r in train if (str(r.image_path), r.source) not in used] or train
    rng = np.random.default_rng(seed + 1)
    return [pool[i] for i in sorted(rng.choice(len(pool), size=min(SELECTION_FACES, len(pool)), replace=False))]


def nme_of(runner, records, spec) -> float:
    return score_runner(records, runner, spec, progress=False).nme


def score(runner, meta: dict, records, spec, reference: dict, extra: dict) -> dict:
    """Measure an int8 model on the test split; the metrics go into `meta`."""
    scores = score_runner(records, runner, spec)
    meta["metrics"] = {**scores.as_metrics(reference["dataset"], reference["nme"]), **extra}
    return meta["metrics"]


def reject_if_broken(path: Path, metrics: dict, reference_nme: float, max_ratio: float) -> None:
    """Delete an int8 file whose accuracy says it is broken, and say so: it must never be shipped
    silently next to its good siblings. Relative to fp32, so a weak model's rounding is not fatal."""
    nme = metrics["nme"]
    if np.isfinite(nme) and nme <= max_ratio * reference_nme:
        return
    for p in (path, sidecar_path(path)):
        p.unlink(missing_ok=True)
    raise ValueError(
        f"{path}: int8 NME {nme:.3f} % against {reference_nme:.3f} % in fp32 (limit {max_ratio:g}x, "
        f"--max-nme-ratio); deleted: the quantization is broken, not merely rounded"
    )


def analyze_layers(fp32_onnx: Path, inputs: np.ndarray, out: Path, name: str, log=print) -> list[dict]:
    """Per-layer sensitivity of a per-channel MinMax QDQ model; writes NAME.sensitivity.json/.md."""
    from lmk.quantize.analyze import report_markdown, sensitivity
    from lmk.quantize.ort_quant import OrtVariant, preprocess, quantize_ort

    pre = preprocess(fp32_onnx, out / f".{name}.analyze.pre.onnx")
    qdq = quantize_ort(pre, out / f".{name}.analyze.qdq.onnx", inputs, OrtVariant("per_channel_minmax"))
    try:
        rows = sensitivity(pre, qdq, inputs[:32])
    finally:
        pre.unlink(missing_ok=True)
        qdq.unlink(missing_ok=True)
    method = "onnxruntime qdq_loss_debug SQNR, per-channel MinMax"
    write_json(out / f"{name}.sensitivity.json", {"method": method, "faces": int(min(32, len(inputs))), "layers": rows})
    (out / f"{name}.sensitivity.md").write_text(report_markdown(rows))
    log(f"sensitivity report: {out / (name + '.sensitivity.md')}")
    return rows


@contextmanager
def fc_guarded(fp32_onnx: Path, fp32_mnn: Path, meta: dict):
    """(fp32 .mnn to quantize, layers padded): a guarded copy when a fully-connected layer has an
    output count that MNN's i8mm int8 kernel gets wrong (see lmk.quantize.fc_guard), else the file."""
    from lmk.export.mnn_convert import convert_to_mnn
    from lmk.quantize.fc_guard import guard_onnx

    tmp_onnx = fp32_onnx.with_name(f".{fp32_onnx.stem}.fcguard.onnx")
    tmp_mnn = fp32_mnn.with_name(f".{fp32_mnn.stem}.fcguard.mnn")
    try:
        guarded = guard_onnx(fp32_onnx, tmp_onnx)
        if guarded:
            convert_to_mnn(tmp_onnx, tmp_mnn, meta)
        yield (tmp_mnn if guarded else fp32_mnn), guarded
    finally:
        tmp_onnx.unlink(missing_ok=True)
        tmp_mnn.unlink(missing_ok=True)


def arm_check(path: Path, meta: dict, data: Path, split: str, mode: str, faces: int, log=print) -> dict:
    """The ARM check of an int8 .mnn for its sidecar. mode: "auto" (when the emulated environment
    is set up), "setup" (set it up if needed), "off". A skip is recorded with its reason."""
    from lmk.arm.check import check_arm, markdown, sidecar_summary
    from lmk.arm.emulator import EmulatorError, ensure_env, find_env

    if mode == "off":
        log("ARM check: skipped (--arm off)")
        return {"skipped": "--arm off"}
    try:
        env = ensure_env(log=log) if mode == "setup" else find_env()
    except EmulatorError as exc:
        log(f"ARM check: skipped: {exc}")
        return {"skipped": str(exc)}
    if env is None:
        reason = "no emulated ARM environment here (set it up once: lmk check-arm --setup)"
        log(f"ARM check: skipped: {reason}")
        return {"skipped": reason}
    report = check_arm(path, data, env, split=split, faces=faces, meta=meta, log=log)
    write_json(path.with_name(path.name + ".arm.json"), report)
    path.with_name(path.name + ".arm.md").write_text(markdown(report))
    if not report["ok"]:
        log(f"warning: {path}: differs on ARM beyond the thresholds (see {path.name}.arm.md)")
    return sidecar_summary(report)


def quantize_checkpoint(
    checkpoint: Path,
    runtime: str,
    calib: str,
    data: Path,
    out: Path,
    num_calib: int = 128,
    seed: int = 0,
    split: str = "test",
    mnn_method: str = "EMA",
    analyze: bool = False,
    keep_float: int = 0,
    arm: str = "auto",
    arm_faces: int = 32,
    max_nme_ratio: float = MAX_INT8_NME_RATIO,
    points: int = 98,
    log=print,
) -> dict:
    """Returns {path: metrics} of the int8 files written (plus the fp32 reference). An int8 file with an
    NME above `max_nme_ratio` times the fp32 model's is deleted and raises ValueError."""
    if runtime not in ("torch", "ort", "mnn"):
        raise ValueError(f"--runtime must be torch, ort or mnn, not {runtime!r}")
    if arm not in ("auto", "setup", "off"):
        raise ValueError(f"--arm must be auto, setup or off, not {arm!r}")
    name = artifact_name(checkpoint, points)
    log(f"exporting and verifying fp32 ({'mnn' if runtime == 'mnn' else 'onnx'})")
    to = "mnn" if runtime == "mnn" else "onnx"
    report = export_checkpoint(checkpoint, to, out, data, split, ("fp32",), name, points=points)
    fp32_onnx = out / f"{name}.onnx"
    base = read_sidecar(fp32_onnx)
    spec = input_spec_from_meta(base)
    calib_items = calibration_records(calib, data, num_calib, seed)
    inputs = calibration_inputs(calib_items, spec)
    log(f"calibration: {len(inputs)} crops from {calib} (seed {seed})")
    test = read_wflw(data, split)
    reference = report.reference
    results: dict[str, dict] = {"reference_torch_fp32": reference}
    meta = copy.deepcopy(base)
    meta.update(precision="int8", runtime=runtime)
    calib_info = {"calibration": {"source": calib, "faces": len(inputs), "seed": seed}}
    if keep_float and runtime != "ort":
        raise ValueError(
            f"--keep-float works with --runtime ort only: MNN's skip list did not take effect with ONNX "
            f"node or tensor names (MNN 3.6.1), and PT2E mixed precision is not wired; asked for {runtime}"
        )
    keep: list[str] = []
    if analyze or keep_float:
        from lmk.quantize.analyze import worst_nodes

        keep = worst_nodes(analyze_layers(fp32_onnx, inputs, out, name, log), keep_float)
        if keep:
            log(f"kept in float: {', '.join(keep)}")

    if runtime == "ort":
        from lmk.quantize.ort_quant import OrtVariant, default_variants, preprocess, search
        from lmk.runtime.ort_runner import load_ort_runner

        pre = preprocess(fp32_onnx, out / f".{name}.pre.onnx")
        sel = selection_records(data, calib_items, seed)
        log(f"searching ORT variants (selection: {len(sel)} train faces)")
        variants = default_variants(fp32_onnx)
        if keep:
            variants.append(OrtVariant(f"per_channel_minmax_keep{len(keep)}", keep_float=keep))
        variant, path, tried = search(
            pre,
            out,
            inputs,
            variants,
            lambda p: nme_of(load_ort_runner(p)[0], sel, spec),
            max_bytes=int(INT8_SIZE_BUDGET * fp32_onnx.stat().st_size) + INT8_SIZE_ALLOWANCE,
            log=log,
        )
        final = out / f"{name}.int8.onnx"
        from lmk.export.onnx_export import rewrite_onnx_meta

        path.replace(final)
        pre.unlink(missing_ok=True)
        extra = {**calib_info, "variant": variant.as_dict(), "variants_tried": tried}
        results[str(final)] = score(load_ort_runner(final)[0], meta, test, spec, reference, extra)
        reject_if_broken(final, results[str(final)], reference["nme"], max_nme_ratio)
        rewrite_onnx_meta(final, meta)
    elif runtime == "torch":
        from lmk.checkpoint import load_model
        from lmk.models.points import with_points
        from lmk.quantize.torch_quant import quantize_pt2e, save_pt2
        from lmk.runtime.torch_runner import torch_runner

        model, _ = load_model(checkpoint)
        qmodel = quantize_pt2e(with_points(model, points), inputs)
        final = out / f"{name}.int8.pt2"
        extra = {**calib_info, "quantizer": "torchao PT2E X86InductorQuantizer (default config)"}
        results[str(final)] = score(torch_runner(qmodel), meta, test, spec, reference, extra)
        reject_if_broken(final, results[str(final)], reference["nme"], max_nme_ratio)
        save_pt2(qmodel, final, spec["size"], meta)
    else:
        from lmk.quantize.mnn_quant import quantize_mnn, stamp_metadata
        from lmk.runtime.mnn_runner import load_mnn_runner

        if not calib_items or not hasattr(calib_items[0], "points"):
            raise ValueError("MNN calibration needs annotated faces (wflw_train, wflw_test or 300w)")
        crops = calibration_crops_uint8(calib_items, spec)
        final = out / f"{name}.int8.mnn"
        with fc_guarded(fp32_onnx, out / f"{name}.mnn", base) as (source, guarded):
            if guarded:
                log(f"i8mm guard: padded {', '.join(g['node'] for g in guarded)} to a multiple of 8 outputs")
            quantize_mnn(source, final, crops, spec, method=mnn_method)
        extra = {**calib_info, "method": mnn_method, "fc_guard": guarded}
        results[str(final)] = score(load_mnn_runner(final, meta=meta)[0], meta, test, spec, reference, extra)
        reject_if_broken(final, results[str(final)], reference["nme"], max_nme_ratio)
        meta["arm_verified"] = arm_check(final, meta, data, split, arm, arm_faces, log)
        if not stamp_metadata(final, meta, inputs[:2]):  # outputs stay bit-identical, or it is not stamped
            log(f"warning: {final}: metadata only in the sidecar (an MNN rewrite changed the outputs)")
    write_json(sidecar_path(final), meta)
    for path, m in results.items():
        if path == "reference_torch_fp32":
            continue
        log(f"  {path}: NME {m['nme']:.3f} % (fp32 {reference['nme']:.3f} %), FR {m['fr']:.2f} %, AUC {m['auc']:.4f}")
    return results
