"""The `lmk` command line (typer). Each command parses options and calls one library function."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import typer

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
    from lmk.data.readers import DataError
    from lmk.export.mnn_convert import ConversionError
    from lmk.export.parity import ParityError
    from lmk.meta import MetadataError

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
    data: Path = typer.Option(DEFAULT_DATA, help="WFLW-layout root"),
    out: Path = typer.Option(Path("runs/train"), help="output folder (model.pt, last.pt, tb/)"),
    model: str = typer.Option("efficientnet_lite0-pip", help="BACKBONE-HEAD, e.g. resnet18-flatten"),
    pretrained: bool = typer.Option(True, help="ImageNet init where available (efficientnet_lite0/1/2)"),
    init: str = typer.Option("", help="fine-tune: start from this checkpoint's weights (same model)"),
    input_size: int = 256,
    enlarge: float = typer.Option(1.2, help="crop side = this x the box's longer side (kept in the metadata)"),
    loss: str = typer.Option("l1", help="l1 | l2 | log_l2 | wing"),
    cls_sigma: float = typer.Option(0.0, help="pip head: Gaussian cell target sigma in cells (0: one-hot)"),
    coord_weight: float = typer.Option(0.0, help="pip head: weight of a loss on the decoded coordinates"),
    ema: float = typer.Option(0.0, help="keep a weight EMA with this decay (e.g. 0.995); model.pt is then the EMA"),
    optimizer: str = typer.Option("adamw", help="adam | adamw | sgd"),
    lr: float = 1e-3,
    backbone_lr: float = typer.Option(1.0, help="the backbone's lr is --lr x this (e.g. 0.3); the head's is --lr"),
    weight_decay: float = 1e-4,
    schedule: str = typer.Option("cosine", help="cosine | step"),
    steps: str = typer.Option("", help="step schedule epochs, e.g. 40,55"),
    epochs: int = 60,
    batch_size: int = 32,
    freeze_blocks: int = typer.Option(-1, help="freeze stem + first K backbone blocks (-1: none)"),
    val_fraction: float = typer.Option(0.1, help="share of train images held out for selection"),
    eval_every: int = typer.Option(5, help="validate every N epochs"),
    hard_repeat: int = typer.Option(1, help="WFLW train faces with an attribute (as all test faces) N times per epoch"),
    extra_300w: str = typer.Option("", help="also train on a 300-W folder (68 mapped points)"),
    test_split: bool = typer.Option(True, help="score the final model on the test split"),
    teacher: str = typer.Option("", help="distil from this checkpoint (e.g. the shipped large model)"),
    teacher_fill: bool = typer.Option(True, help="with --teacher: its points label what a face lacks (300-W)"),
    distill_weight: float = typer.Option(
        0.0, help="with --teacher: weight of the loss to its points on every augmented crop (0: off)"
    ),
    seed: int = 0,
    workers: int = 0,
    cpu_bf16: bool = typer.Option(
        False, help="bfloat16 autocast when training on a CPU (faster where the CPU has AVX512-BF16 or AMX)"
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

    opts = {k: v for k, v in locals().items() if k in TrainConfig.__dataclass_fields__}
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


def load_val_split(checkpoint: Path, data: Path, dataset: str) -> tuple[list, object, dict]:
    """`--split val`: (faces, runner, meta) for the validation faces stored in a checkpoint's
    training config; the checkpoint is read once for both its config and its weights."""
    if dataset != "wflw" or checkpoint.suffix != ".pt":
        raise ValueError(
            f"{checkpoint}: --split val needs a .pt checkpoint and a WFLW folder (it reads the training config)"
        )
    from lmk.checkpoint import load_model
    from lmk.data.split import validation_records
    from lmk.runtime.torch_runner import torch_runner

    model, blob = load_model(checkpoint)
    records = validation_records(data, blob.get("config", {}), str(checkpoint))
    return records, torch_runner(model), blob["meta"]


@app.command("eval")
def eval_cmd(
    checkpoint: Path = typer.Option(None, help="model file: .pt checkpoint, .onnx or .mnn (default: shipped model)"),
    data: Path = typer.Option(None, help="dataset root: WFLW layout or a 300-W folder (default: the built-in sample)"),
    dataset: str = typer.Option("wflw", help="wflw | 300w"),
    split: str = typer.Option(
        "test", help="WFLW split: train | test | val (a .pt checkpoint's own held-out train faces)"
    ),
    flip_test: bool = typer.Option(False, help="average with the mirrored crop's prediction"),
    json_out: Path | None = typer.Option(None, "--json", help="write scores as JSON"),
    save_predictions: Path | None = typer.Option(None, help="write predictions (WFLW line format)"),
    ced_plot: Path | None = typer.Option(None, help="write the CED curve as PNG"),
) -> None:
    """Score a model with the PROTOCOL.md metrics, overall and per attribute."""
    from lmk.checks import writable_file
    from lmk.data.readers import read_dataset
    from lmk.evaluation import evaluate_predictions, format_table, save_ced_plot, write_predictions
    from lmk.meta import input_spec_from_meta, write_json
    from lmk.metrics import UNITS
    from lmk.predict import predict_records
    from lmk.runtime import load_runner
    from lmk.weights import default_checkpoint

    checkpoint = checkpoint or default_checkpoint()
    with user_errors():
        for option, value in (("--json", json_out), ("--save-predictions", save_predictions), ("--ced-plot", ced_plot)):
            if value:
                writable_file(value, option)
        data = data_or_sample(data)
        if split == "val":
            records, runner, meta = load_val_split(checkpoint, data, dataset)
        else:
            records = read_dataset(data, dataset, split)
            runner, meta = load_runner(checkpoint)  # a bad file type: ValueError -> user_errors
        spec = input_spec_from_meta(meta)
        pred = predict_records(records, runner, spec, flip_test=flip_test)
    scores, nme_i = evaluate_predictions(records, pred)
    name = f"{data.name}/{split}" if dataset == "wflw" else data.name
    typer.echo(f"{checkpoint} on {name} ({len(records)} faces, flip test {'on' if flip_test else 'off'})")
    typer.echo(format_table(scores))
    if json_out:
        write_json(
            json_out,
            {
                "model": str(checkpoint),
                "dataset": name,
                "flip_test": flip_test,
                "scores": {k: v.as_dict() for k, v in scores.items()},
                "units": UNITS,
            },
        )
    if save_predictions:
        root = data / "WFLW_images" if dataset == "wflw" else data
        to68 = dataset != "wflw" and pred.shape[1] == 98  # a 300-W folder: its 68 points
        write_predictions(save_predictions, records, pred[:, _map()] if to68 else pred, root)
    if ced_plot:
        save_ced_plot(ced_plot, {checkpoint.name: nme_i})


def parse_box(text: str) -> tuple[float, float, float, float]:
    """`--box X0,Y0,X1,Y1` -> four floats, or a clear error."""
    try:
        box = tuple(float(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or not (box[2] > box[0] and box[3] > box[1]):
        raise ValueError(f"--box {text!r}: expected X0,Y0,X1,Y1 in image pixels with X1 > X0 and Y1 > Y0")
    return box


@app.command()
def predict(
    images: list[Path] = typer.Argument(..., help="image files: face crops, or a photo with --box"),
    checkpoint: Path = typer.Option(None, help="model file: .pt, .pt2, .onnx or .mnn (default: shipped model)"),
    box: list[str] = typer.Option(
        None,
        help="face box X0,Y0,X1,Y1 in image pixels (a face detector's box), repeat for several faces; "
        "default: the whole image",
    ),
    json_out: Path | None = typer.Option(None, "--json", help="write the landmarks here instead of printing them"),
    draw: Path | None = typer.Option(None, help="folder for one IMAGE.landmarks.png per image, points drawn"),
    threads: int = typer.Option(0, help="ORT / MNN threads (0: the runtime's default)"),
) -> None:
    """98 landmarks in image pixels per image, as JSON; the model's crop is made from the box."""
    import json

    from lmk.checks import at_least, box_in_image, writable_dir, writable_file
    from lmk.data.crop import read_rgb
    from lmk.meta import input_spec_from_meta, write_json
    from lmk.overlay import save_overlay
    from lmk.predict import predict_image, whole_image_box
    from lmk.runtime import load_runner
    from lmk.weights import default_checkpoint

    checkpoint = checkpoint or default_checkpoint()
    faces = []
    with user_errors():
        at_least(threads, 0, "--threads")
        if box and len(images) > 1:
            raise ValueError(f"--box gives faces in one image; give one image with it ({len(images)} given)")
        boxes = [parse_box(b) for b in box or []]
        if draw:
            writable_dir(draw, "--draw")
        if json_out:
            writable_file(json_out, "--json")
        runner, meta = load_runner(checkpoint, threads=threads)
        spec = input_spec_from_meta(meta)
        for path in images:
            image = read_rgb(path)
            for b in boxes:
                note = box_in_image(b, image.shape[1], image.shape[0], str(path))
                if note:
                    warn(note)
            found = [(b, predict_image(image, b, runner, spec)) for b in boxes or [whole_image_box(image)]]
            for b, points in found:
                face = {"image": str(path), "box": [round(v, 2) for v in b], "landmarks": points.round(2).tolist()}
                faces.append(face)
            if draw:
                save_overlay(draw / f"{path.stem}.landmarks.png", image, [p for _, p in found], [b for b, _ in found])
    result = {
        "model": str(checkpoint),
        "scheme": meta.get("scheme", "wflw98"),
        "units": "image pixels (x right, y down; pixel centres at integers)",
        "faces": faces,
    }
    if json_out:
        write_json(json_out, result)
        typer.echo(f"wrote {json_out} ({len(faces)} image(s))")
    else:
        typer.echo(json.dumps(result))
    if draw:
        typer.echo(f"drew {len(faces)} images into {draw}", err=bool(not json_out))


@app.command()
def export(
    checkpoint: Path = typer.Option(None, help="checkpoint (.pt); default: the shipped model"),
    to: str = typer.Option("onnx", help="onnx | mnn (mnn also writes the ONNX it converts from)"),
    precision: str = typer.Option("fp32", help="fp32 | fp16 | w8, comma-separated for several (MNN storage)"),
    out: Path = typer.Option(Path("runs/export"), help="output folder"),
    data: Path = typer.Option(None, help=SAMPLE_HELP + ": real crops for parity and NME"),
    split: str = "test",
    points: int = typer.Option(98, help="98 (WFLW) | 68 (300-W's layout, mapped inside the graph: NAME_68pt.*)"),
) -> None:
    """Export to ONNX / MNN with metadata and a parity check against PyTorch after every step."""
    from lmk.checks import checkpoint_file, writable_dir
    from lmk.export.exporter import artifact_name, export_checkpoint
    from lmk.weights import default_checkpoint

    checkpoint = checkpoint or default_checkpoint()
    with user_errors():
        checkpoint_file(checkpoint)
        writable_dir(out, "--out")
        data = data_or_sample(data)
        precisions = tuple(p.strip() for p in precision.split(","))
        name = artifact_name(checkpoint, points)
        report = export_checkpoint(checkpoint, to, out, data, split, precisions, name, points=points)
    typer.echo(f"{'file':<44}{'max|diff|':>11}{'NME %':>8}{'dNME':>8}{'FR %':>7}{'AUC':>8}")
    for path, m in [(f"{checkpoint.name} (torch)", report.reference), *report.files.items()]:
        cols = f"{m['max_abs_diff']:>11.2e}{m['nme']:>8.3f}{m['delta_nme']:>+8.3f}{m['fr']:>7.2f}{m['auc']:>8.4f}"
        typer.echo(f"{path:<44}{cols}")


@app.command()
def quantize(
    checkpoint: Path = typer.Option(None, help="checkpoint (.pt); default: the shipped model"),
    runtime: str = typer.Option("ort", help="torch | ort | mnn"),
    calib: str = typer.Option("wflw_train", help="wflw_train | wflw_test | 300w | a folder"),
    data: Path = typer.Option(None, help=SAMPLE_HELP + ": calibration (train) and scoring (test) faces"),
    num_calib: int = typer.Option(128, help="calibration faces (seeded sample)"),
    seed: int = 0,
    mnn_method: str = typer.Option("EMA", help="MNN feature quantization: EMA | KL | ADMM"),
    analyze: bool = typer.Option(False, "--analyze", help="write a per-layer sensitivity report"),
    keep_float: int = typer.Option(
        0, help="ORT mixed precision: also try keeping the K most sensitive layers in float"
    ),
    arm: str = typer.Option(
        "auto", help="MNN: ARM check under qemu: auto (if set up) | setup (set up if needed) | off"
    ),
    arm_faces: int = typer.Option(32, help="test faces for the ARM check (spread over the split)"),
    max_nme_ratio: float = typer.Option(
        1.5, help="an int8 file with an NME above this multiple of fp32's is broken: deleted, exit 2"
    ),
    out: Path = typer.Option(Path("runs/quantize"), help="output folder"),
    points: int = typer.Option(98, help="98 (WFLW) | 68 (300-W's layout, mapped inside the graph)"),
) -> None:
    """int8 for one runtime; every file gets its own measured NME/FR/AUC in its sidecar."""
    from lmk.checks import at_least, checkpoint_file, writable_dir
    from lmk.quantize.calib import calibration_records
    from lmk.quantize.run import quantize_checkpoint
    from lmk.weights import default_checkpoint

    checkpoint = checkpoint or default_checkpoint()
    with user_errors():
        checkpoint_file(checkpoint)
        at_least(num_calib, 1, "--num-calib")
        writable_dir(out, "--out")
        data = data_or_sample(data)
        calibration_records(calib, data, 1, seed)  # an empty or unknown source fails here, before the export
        results = quantize_checkpoint(
            checkpoint,
            runtime,
            calib,
            data,
            out,
            num_calib,
            seed,
            mnn_method=mnn_method,
            analyze=analyze,
            keep_float=keep_float,
            arm=arm,
            arm_faces=arm_faces,
            max_nme_ratio=max_nme_ratio,
            points=points,
            log=typer.echo,
        )
    typer.echo(f"{'file':<48}{'NME %':>8}{'dNME':>8}{'FR %':>7}{'AUC':>8}")
    for path, m in results.items():
        typer.echo(f"{path:<48}{m['nme']:>8.3f}{m.get('delta_nme', 0.0):>+8.3f}{m['fr']:>7.2f}{m['auc']:>8.4f}")


@app.command("check-arm")
def check_arm_cmd(
    model: Path = typer.Argument(None, help=".mnn file to check (its sidecar gets the result)"),
    cpus: str = typer.Option("cortex-a53,cortex-a76,max", help="qemu CPU models, comma-separated"),
    data: Path = typer.Option(None, help=SAMPLE_HELP + ": real faces to run"),
    split: str = "test",
    faces: int = typer.Option(32, help="faces spread over the split (0: all)"),
    precision: str = typer.Option("normal", help="MNN precision: normal | low (fp16 arithmetic on ARMv8.2)"),
    json_out: Path | None = typer.Option(None, "--json", help="write the report as JSON"),
    cache: Path | None = typer.Option(None, help="emulator folder (default: $LMK_ARM_CACHE or ~/.cache/lmk)"),
    setup: bool = typer.Option(False, "--setup", help="only set up the emulated environment"),
) -> None:
    """Run a .mnn on emulated ARM CPUs (qemu) and compare with x86 MNN: max |diff|, NME, ΔNME."""
    from lmk.arm.check import check_arm, markdown, record_in_sidecar
    from lmk.arm.emulator import EmulatorError, ensure_env
    from lmk.meta import write_json

    if precision not in ("normal", "low"):
        fail(f"--precision must be normal or low, not {precision!r}")
    if not setup:
        if model is None:
            fail("give a .mnn file to check (or --setup)")
        if model.suffix.lower() != ".mnn":
            fail(f"{model}: the ARM check runs .mnn files")
        if not model.is_file():
            fail(f"{model}: file not found")
        from lmk.checks import writable_file
        from lmk.runtime.mnn_runner import open_interpreter

        with user_errors():
            open_interpreter(model)  # a file MNN cannot load is refused here, before the emulator
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
        report = check_arm(
            model,
            data,
            env,
            split,
            tuple(c.strip() for c in cpus.split(",") if c.strip()),
            faces,
            precision,
            log=typer.echo,
        )
    typer.echo(markdown(report))
    if json_out:
        write_json(json_out, report)
    if record_in_sidecar(model, report):
        typer.echo(f"recorded in {model}.json")
    if not report["ok"]:
        fail(f"{model}: outputs on ARM differ from x86 beyond the thresholds {report['thresholds']}")


@app.command()
def pipeline(
    checkpoint: Path = typer.Option(None, help="checkpoint (.pt); default: the shipped model"),
    data: Path = typer.Option(None, help=SAMPLE_HELP + ": calibration (train) and scoring (test) faces"),
    out: Path = typer.Option(Path("runs/pipeline"), help="output folder"),
    num_calib: int = typer.Option(128, help="calibration faces"),
    keep_float: int = typer.Option(3, help="ORT: also try keeping the K most sensitive layers in float (0: skip)"),
    arm: str = typer.Option("setup", help="ARM check of the int8 .mnn under qemu: setup (if needed) | auto | off"),
    points: int = typer.Option(98, help="98 (WFLW) | 68 (300-W's layout, mapped inside the graph)"),
) -> None:
    """Export + int8 for every runtime + one accuracy/size table (OUT/summary.md)."""
    from lmk.checks import at_least, checkpoint_file, writable_dir
    from lmk.pipeline import markdown_table, run_pipeline
    from lmk.weights import default_checkpoint

    checkpoint = checkpoint or default_checkpoint()
    with user_errors():
        checkpoint_file(checkpoint)
        at_least(num_calib, 1, "--num-calib")
        writable_dir(out, "--out")
        data = data_or_sample(data)
        result = run_pipeline(checkpoint, data, out, num_calib, keep_float, arm=arm, log=typer.echo, points=points)
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
    runs: int = typer.Option(50, help="timed calls per file"),
    compile: bool = typer.Option(False, help="torch files: torch.compile first (x86 int8 kernels for .pt2)"),
    out: Path = typer.Option(Path("runs/bench"), help="writes bench.json, bench.md and bench.png here"),
) -> None:
    """Accuracy (NME / FR / AUC) against CPU latency per model file, as a table and a plot."""
    from lmk.bench import bench as run_bench
    from lmk.bench import find_models, host_info, markdown, runtime_of, write_report
    from lmk.checks import at_least, writable_dir
    from lmk.data.readers import read_dataset

    with user_errors():
        at_least(threads, 0, "--threads")
        at_least(runs, 1, "--runs")
        writable_dir(out, "--out")
        runtimes = tuple(r.strip() for r in runtime.split(",") if r.strip())
        unknown = [r for r in runtimes if r not in ("mnn", "ort", "torch")]
        if unknown or not runtimes:
            raise ValueError(f"--runtime {runtime!r}: choose from mnn, ort, torch (comma-separated)")
        files = [p for p in models if runtime_of(p) in runtimes] if models else find_models(from_dir, runtimes)
        if not files:
            raise ValueError(f"none of the {len(models)} file(s) given runs on {', '.join(runtimes)}")
        data = data_or_sample(data)
        records = read_dataset(data, "wflw", split)
        rows = run_bench(files, records, threads=threads, runs=runs, compile=compile, log=typer.echo)
        host = host_info(threads)
        name = f"{data.name}/{split}"
        written = write_report(out, rows, host, name, runs)
    typer.echo(markdown(rows, host, name, runs))
    typer.echo("wrote " + ", ".join(str(p) for p in written))


def _map():
    from lmk.schemes import MAP_98_TO_68

    return MAP_98_TO_68


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
