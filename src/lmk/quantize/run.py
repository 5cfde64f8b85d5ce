"""`lmk quantize`: an fp32 artifact -> an int8 file for one runtime, measured on the split its
reference was measured on (NME/FR/AUC and ΔNME vs the PyTorch fp32 model), with its own sidecar.

ORT and MNN start from the fp32 ONNX that `lmk export` wrote (its sidecar holds the contract and
the reference); PT2E starts from the checkpoint. Every backend is one small class; preparing the
faces, scoring, refusing a broken file, the ARM check and stamping are written once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lmk.artifact import (
    InputSpec,
    Layout,
    MetadataError,
    artifact_name,
    derive_meta,
    embed_meta,
    read_sidecar,
    reference_nme,
    write_sidecar,
)
from lmk.data.readers import read_wflw
from lmk.data.records import FaceRecord
from lmk.evaluation import score_runner
from lmk.files import atomic_path, atomic_write_text, scratch_dir, write_json
from lmk.quantize.calib import CalibFace, calibration_crops_uint8, calibration_faces, calibration_inputs

SELECTION_FACES = 64
# an int8 file may take at most this share of the fp32 ONNX file, plus a fixed allowance for what
# QDQ adds whatever the model's size (scales, zero points, Q/DQ nodes), which dominates tiny models
INT8_SIZE_BUDGET = 0.30
INT8_SIZE_ALLOWANCE = 100_000  # bytes
# an int8 file whose NME exceeds this multiple of the fp32 model's is broken (a failed calibration,
# a wrong kernel), not merely rounded: rounding costs a few percent of the NME, breakage multiples
MAX_INT8_NME_RATIO = 1.5
RUNTIMES = ("torch", "ort", "mnn")


@dataclass
class Job:
    """What every backend needs, prepared once (the pipeline runs three backends on one Job)."""

    layout: Layout  # where the int8 files go (beside their fp32 source, by default)
    base: dict  # the fp32 artifact's metadata: the contract every int8 file inherits
    reference: dict  # {"dataset", "nme"} of the PyTorch fp32 model on the scoring split
    data: Path
    split: str
    test: list[FaceRecord]
    calib: list[CalibFace]
    inputs: np.ndarray  # the calibration faces as model inputs
    calib_info: dict
    fp32_onnx: Path | None = None
    seed: int = 0
    arm: str = "auto"
    arm_faces: int = 32
    max_nme_ratio: float = MAX_INT8_NME_RATIO
    log: Callable = print
    progress: bool = True  # progress bars while scoring
    spec: InputSpec = field(init=False)

    def __post_init__(self):
        self.spec = InputSpec.from_meta(self.base)


def read_fp32_onnx(path: Path, data: Path, split: str) -> dict:
    """The metadata of an fp32 ONNX artifact, or a clear error naming the file: it must be one lmk
    export wrote (a sidecar with its metrics) and scored on the split int8 files will be scored on,
    or the ΔNME would compare different faces."""
    path = Path(path)
    if path.suffix.lower() != ".onnx":
        raise MetadataError(f"{path}: --from takes the fp32 .onnx file that lmk export wrote")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: fp32 ONNX file not found (write it first: lmk export --out {path.parent})")
    meta = read_sidecar(path)
    if meta["precision"] != "fp32":
        raise MetadataError(f"{path}: a {meta['precision']} file; quantize starts from the fp32 ONNX")
    metrics = meta.get("metrics", {})
    if "nme" not in metrics or "dataset" not in metrics:
        raise MetadataError(f"{path}.json: no measured metrics (export it with lmk export)")
    wanted = f"{Path(data).name}/{split}"
    if metrics["dataset"] != wanted:
        raise MetadataError(
            f"{path}: exported and scored on {metrics['dataset']}, int8 files would be scored on {wanted}: "
            f"give the --data it was exported with, or export again"
        )
    return meta


def prepare(
    base: dict,
    reference: dict,
    layout: Layout,
    calib: str,
    data: Path,
    split: str = "test",
    num_calib: int = 128,
    seed: int = 0,
    fp32_onnx: Path | None = None,
    **options,
) -> Job:
    """Read the scoring split and the calibration faces once (checked before any quantization)."""
    faces = calibration_faces(calib, data, num_calib, seed)
    spec = InputSpec.from_meta(base)
    inputs = calibration_inputs(faces, spec)
    log = options.get("log", print)
    log(f"calibration: {len(inputs)} crops from {calib} (seed {seed})")
    info = {"calibration": {"source": calib, "faces": len(inputs), "seed": seed}}
    test = read_wflw(data, split)
    return Job(layout, base, reference, Path(data), split, test, faces, inputs, info, fp32_onnx, seed, **options)


def job_from_onnx(fp32_onnx: Path, calib: str, data: Path, out: Path | None = None, **kw) -> Job:
    """A Job for the fp32 ONNX artifact `fp32_onnx` (its int8 files go to `out`, default beside it)."""
    meta = read_fp32_onnx(fp32_onnx, data, kw.get("split", "test"))
    reference = {"dataset": meta["metrics"]["dataset"], "nme": reference_nme(meta["metrics"])}
    layout = Layout.of(fp32_onnx)
    if out is not None:
        layout = Layout(Path(out), layout.name)
    return prepare(meta, reference, layout, calib, data, fp32_onnx=Path(fp32_onnx), **kw)


def job_from_checkpoint(checkpoint: Path, calib: str, data: Path, out: Path, points: int = 0, **kw) -> Job:
    """A Job straight from a checkpoint (PT2E needs no ONNX); the reference is scored here."""
    from lmk.checkpoint import load_model
    from lmk.files import sha256_file
    from lmk.models.points import points_meta, with_points
    from lmk.runtime.torch_runner import torch_runner

    model, blob = load_model(checkpoint)
    base = derive_meta(points_meta(blob["meta"], points), "fp32", "torch", sha256_file(checkpoint))
    split = kw.get("split", "test")
    kw.get("log", print)("scoring the PyTorch fp32 reference")
    scores = score_runner(read_wflw(data, split), torch_runner(with_points(model, points)), InputSpec.from_meta(base))
    reference = {"dataset": f"{Path(data).name}/{split}", "nme": scores.nme}
    return prepare(base, reference, Layout(Path(out), artifact_name(checkpoint, points)), calib, data, **kw)


class Backend:
    """One int8 runtime: how its file is written and run. `write` fills `dst` (a temporary name)
    and returns what to record of how it was made."""

    runtime = ""

    def write(self, job: Job, dst: Path, meta: dict) -> dict:
        raise NotImplementedError

    def runner(self, path: Path, meta: dict):
        raise NotImplementedError

    def embed(self, path: Path, meta: dict, job: Job) -> bool:
        """Put the final metadata inside the file; False when only the sidecar can hold it."""
        return embed_meta(path, meta, job.inputs[:2])


class OrtBackend(Backend):
    """ONNX Runtime QDQ: a search over calibration variants, chosen on train faces outside the
    calibration set (never on the scoring split), within the int8 size budget."""

    runtime = "ort"

    def __init__(self, keep_float: int = 0, analyze: bool = False):
        self.keep_float, self.analyze = keep_float, analyze

    def write(self, job: Job, dst: Path, meta: dict) -> dict:
        from lmk.quantize.ort_quant import OrtVariant, default_variants, preprocess, search
        from lmk.runtime.ort_runner import load_ort_runner

        fp32 = job.fp32_onnx
        keep = self.sensitive_layers(job) if (self.analyze or self.keep_float) else []
        with scratch_dir(dst.parent) as work:
            pre = preprocess(fp32, work / "pre.onnx")
            sel = selection_records(job)
            job.log(f"searching ORT variants (selection: {len(sel)} train faces)")
            variants = default_variants(fp32)
            if keep:
                variants.append(OrtVariant(f"per_channel_minmax_keep{len(keep)}", keep_float=keep))
            variant, path, tried = search(
                pre,
                work,
                job.inputs,
                variants,
                lambda p: score_runner(sel, load_ort_runner(p)[0], job.spec, progress=False).nme,
                max_bytes=int(INT8_SIZE_BUDGET * fp32.stat().st_size) + INT8_SIZE_ALLOWANCE,
                log=job.log,
            )
            path.replace(dst)
        return {"variant": variant.as_dict(), "variants_tried": tried}

    def sensitive_layers(self, job: Job) -> list[str]:
        """Per-layer sensitivity report (NAME.sensitivity.json/.md); the `keep_float` worst layers."""
        from lmk.quantize.analyze import report_markdown, sensitivity, worst_nodes
        from lmk.quantize.ort_quant import OrtVariant, preprocess, quantize_ort

        with scratch_dir(job.layout.folder) as work:
            pre = preprocess(job.fp32_onnx, work / "pre.onnx")
            qdq = quantize_ort(pre, work / "qdq.onnx", job.inputs, OrtVariant("per_channel_minmax"))
            rows = sensitivity(pre, qdq, job.inputs[:32])
        method = "onnxruntime qdq_loss_debug SQNR, per-channel MinMax"
        faces = int(min(32, len(job.inputs)))
        write_json(job.layout.sensitivity("json"), {"method": method, "faces": faces, "layers": rows})
        atomic_write_text(job.layout.sensitivity("md"), report_markdown(rows))
        job.log(f"sensitivity report: {job.layout.sensitivity('md')}")
        keep = worst_nodes(rows, self.keep_float) if self.keep_float else []
        if keep:
            job.log(f"kept in float: {', '.join(keep)}")
        return keep

    def runner(self, path: Path, meta: dict):
        from lmk.runtime.ort_runner import load_ort_runner

        return load_ort_runner(path)[0]


class MnnBackend(Backend):
    """MNN offline int8 (`mnnquant`) from the fp32 .mnn, padded where MNN's i8mm kernels need it."""

    runtime = "mnn"

    def __init__(self, method: str = "EMA"):
        self.method = method

    def write(self, job: Job, dst: Path, meta: dict) -> dict:
        from lmk.mnn_tools import convert_mnn
        from lmk.quantize.fc_guard import guard_onnx
        from lmk.quantize.mnn_quant import quantize_mnn

        crops = calibration_crops_uint8(job.calib, job.spec)
        exported = Layout.of(job.fp32_onnx).mnn()  # the fp32 .mnn lmk export wrote beside the ONNX
        with scratch_dir(dst.parent) as work:
            guarded = guard_onnx(job.fp32_onnx, work / "guarded.onnx")
            if guarded:
                job.log(f"i8mm guard: padded {', '.join(g['node'] for g in guarded)} to a multiple of 8 outputs")
                source = convert_mnn(work / "guarded.onnx", work / "guarded.mnn", job.base)
            elif exported.is_file() and same_model(exported, job.base):
                source = exported
            else:
                source = convert_mnn(job.fp32_onnx, work / "fp32.mnn", job.base)
            quantize_mnn(source, dst, crops, job.spec, method=self.method)
        return {"method": self.method, "fc_guard": guarded}

    def runner(self, path: Path, meta: dict):
        from lmk.runtime.mnn_runner import load_mnn_runner

        return load_mnn_runner(path, meta=meta)[0]


class TorchBackend(Backend):
    """PyTorch PT2E (torchao X86InductorQuantizer); needs the checkpoint the artifact came from."""

    runtime = "torch"

    def __init__(self, checkpoint: Path):
        self.checkpoint = Path(checkpoint)
        self.program = None

    def write(self, job: Job, dst: Path, meta: dict) -> dict:
        from lmk.checkpoint import load_model
        from lmk.files import sha256_file
        from lmk.models.points import with_points
        from lmk.quantize.torch_quant import export_program, quantize_pt2e, save_pt2

        source = job.base["source"].get("checkpoint_sha256")
        if source and source != sha256_file(self.checkpoint):
            raise MetadataError(f"{self.checkpoint}: not the checkpoint {job.layout.onnx.name} was exported from")
        model, _ = load_model(self.checkpoint)
        converted = quantize_pt2e(with_points(model, job.base["num_points"]), job.inputs)
        self.program = export_program(converted, job.spec.size)
        save_pt2(self.program, dst, meta)
        return {"quantizer": "torchao PT2E X86InductorQuantizer (default config)"}

    def runner(self, path: Path, meta: dict):
        from lmk.quantize.torch_quant import program_module
        from lmk.runtime.torch_runner import PT2_EAGER_THREADS, torch_runner

        return torch_runner(program_module(self.program), threads=PT2_EAGER_THREADS)

    def embed(self, path: Path, meta: dict, job: Job) -> bool:
        from lmk.quantize.torch_quant import save_pt2

        save_pt2(self.program, path, meta)
        return True


def same_model(path: Path, base: dict) -> bool:
    """Whether `path` is an fp32 file of the model `base` describes (its sidecar says so)."""
    try:
        meta = read_sidecar(path)
    except MetadataError:
        return False
    return meta["precision"] == "fp32" and meta["source"] == base["source"] and meta["input"] == base["input"]


def selection_records(job: Job) -> list:
    """Train faces not used for calibration: variants are chosen here, never on the scoring split.
    When calibration took every train face (a tiny set), the selection reuses them."""
    used = {(str(f.image_path), f.record.source) for f in job.calib if f.record is not None}
    train = read_wflw(job.data, "train")
    pool = [r for r in train if (str(r.image_path), r.source) not in used] or train
    rng = np.random.default_rng(job.seed + 1)
    return [pool[i] for i in sorted(rng.choice(len(pool), size=min(SELECTION_FACES, len(pool)), replace=False))]


def check_not_broken(path: Path, nme: float, job: Job) -> None:
    """Refuse an int8 file whose accuracy says it is broken: it must never be shipped silently next
    to its good siblings. Relative to fp32, so a weak model's rounding is not fatal."""
    ref = job.reference["nme"]
    if np.isfinite(nme) and nme <= job.max_nme_ratio * ref:
        return
    raise ValueError(
        f"{path}: int8 NME {nme:.3f} % against {ref:.3f} % in fp32 (limit {job.max_nme_ratio:g}x, "
        f"--max-nme-ratio); not written: the quantization is broken, not merely rounded"
    )


def arm_check(path: Path, final: Path, meta: dict, job: Job) -> dict:
    """The ARM check of an int8 .mnn (run on `path`, reported as `final`) for its sidecar. A skip
    is recorded with its reason; job.arm: "auto" (when set up), "setup" (set it up if needed), "off"."""
    from lmk.arm.check import check_arm, sidecar_summary, write_reports
    from lmk.arm.emulator import EmulatorError, ensure_env, find_env

    if job.arm == "off":
        job.log("ARM check: skipped (--arm off)")
        return {"skipped": "--arm off"}
    try:
        env = ensure_env(log=job.log) if job.arm == "setup" else find_env()
    except EmulatorError as exc:
        job.log(f"ARM check: skipped: {exc}")
        return {"skipped": str(exc)}
    if env is None:
        reason = "no emulated ARM environment here (set it up once: lmk check-arm --setup)"
        job.log(f"ARM check: skipped: {reason}")
        return {"skipped": reason}
    report = check_arm(path, job.data, env, split=job.split, faces=job.arm_faces, meta=meta, log=job.log, name=final)
    _, report_md = write_reports(final, report, record=False)  # the sidecar is written with the file
    if not report["ok"]:
        job.log(f"warning: {final}: differs on ARM beyond the thresholds (see {report_md.name})")
    return sidecar_summary(report)


def quantize(job: Job, backend: Backend) -> tuple[Path, dict]:
    """Write, score, check and stamp the int8 file of one backend; (its path, its metrics). Until it
    has passed, the file has a temporary name: a failure leaves nothing behind."""
    final = job.layout.int8(backend.runtime)
    meta = derive_meta(job.base, "int8", backend.runtime)
    with atomic_path(final) as tmp:
        how = backend.write(job, tmp, meta)
        scores = score_runner(job.test, backend.runner(tmp, meta), job.spec, progress=job.progress)
        metrics = {**scores.as_metrics(job.reference["dataset"], job.reference["nme"]), **job.calib_info, **how}
        check_not_broken(final, scores.nme, job)
        if backend.runtime == "mnn":
            meta["arm_verified"] = arm_check(tmp, final, meta, job)
        meta["metrics"] = metrics
        if not backend.embed(tmp, meta, job):  # an MNN rewrite that would change outputs is not kept
            job.log(f"warning: {final}: metadata only in the sidecar (an MNN rewrite changed the outputs)")
    write_sidecar(final, meta)
    fp32 = job.reference["nme"]
    job.log(f"  {final}: NME {scores.nme:.3f} % (fp32 {fp32:.3f} %), FR {scores.fr:.2f} %, AUC {scores.auc:.4f}")
    return final, metrics


def backend_for(runtime: str, checkpoint: Path | None = None, **options) -> Backend:
    if runtime == "ort":
        return OrtBackend(options.get("keep_float", 0), options.get("analyze", False))
    if runtime == "mnn":
        return MnnBackend(options.get("mnn_method", "EMA"))
    if checkpoint is None:
        raise ValueError("--runtime torch (PT2E) quantizes the checkpoint: give --checkpoint")
    return TorchBackend(checkpoint)


def plan(
    runtime: str,
    fp32_onnx: Path | None,
    checkpoint: Path | None,
    calib: str,
    data: Path,
    out: Path | None,
    points: int = 0,
    backend_options: dict | None = None,
    check_out=None,
    **options,
) -> tuple[Job, Backend]:
    """What `lmk quantize` runs: ORT and MNN start from the fp32 ONNX (`out` defaults to its folder),
    PT2E from the checkpoint (`out` defaults to runs/quantize). The inputs are checked first
    (`check_out(folder)` checks the output folder), then the faces are read."""
    if runtime not in RUNTIMES:
        raise ValueError(f"--runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    if runtime == "torch":
        if checkpoint is None:
            raise ValueError("--runtime torch (PT2E) quantizes the checkpoint: give --checkpoint")
        out = Path(out or "runs/quantize")
    else:
        if checkpoint is not None:
            raise ValueError(f"--runtime {runtime} quantizes the fp32 ONNX (--from), not --checkpoint")
        read_fp32_onnx(fp32_onnx, data, options.get("split", "test"))  # what it is, before any work
        out = Path(out or Path(fp32_onnx).parent)
    if check_out:
        check_out(out)
    if runtime == "torch":
        job = job_from_checkpoint(checkpoint, calib, data, out, points=points, **options)
    else:
        job = job_from_onnx(fp32_onnx, calib, data, out, **options)
    return job, backend_for(runtime, checkpoint, **(backend_options or {}))
