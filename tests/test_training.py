import dataclasses
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import tiny_config

from lmk.checkpoint import CheckpointError, load_model, read_checkpoint
from lmk.training.config import TrainConfig, resume_config
from lmk.training.engine import autocast, fit, lr_factor, native_bf16
from lmk.training.losses import LOSSES, landmark_loss


def test_tiny_training_run_lowers_the_loss(sample_root, tmp_path):
    torch.set_num_threads(2)
    path = fit(tiny_config(tmp_path, epochs=12, lr=3e-3, warmup_epochs=0), log=lambda *_: None)
    blob = read_checkpoint(path)
    losses = [h["loss"] for h in blob["history"]]
    assert len(losses) == 12
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3, losses
    assert blob["config"]["backbone"] == "resnet18" and blob["meta"]["input"]["shape"] == [1, 3, 64, 64]
    model, _ = load_model(path)
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 98, 2)
    assert (tmp_path / "last.pt").is_file()


def test_cpu_bf16_runs_the_forward_in_bfloat16_and_still_learns(sample_root, tmp_path):
    torch.set_num_threads(2)
    conv, x, cpu = torch.nn.Conv2d(3, 4, 3), torch.randn(1, 3, 8, 8), torch.device("cpu")
    # 32 px and 8 epochs: without bf16 instructions autocast is emulated, about 15x slower than fp32
    cfg = tiny_config(tmp_path, epochs=8, lr=3e-3, warmup_epochs=0, cpu_bf16=True, input_size=32)
    with autocast(cfg, cpu, None):
        assert conv(x).dtype == torch.bfloat16
    with autocast(dataclasses.replace(cfg, cpu_bf16=False), cpu, None):
        assert conv(x).dtype == torch.float32  # the default recipe stays fp32
    msgs: list[str] = []
    blob = read_checkpoint(fit(cfg, log=msgs.append))
    losses = [h["loss"] for h in blob["history"]]
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3, losses
    assert blob["config"]["cpu_bf16"] is True
    warned = any(m.startswith("warning: --cpu-bf16") for m in msgs)
    assert warned == (native_bf16() is False)  # said where the CPU emulates bf16, only there
    assert all(v.dtype != torch.bfloat16 for v in blob["state_dict"].values())  # weights are not bf16


def test_native_bf16_is_read_from_the_cpu_flags():
    """--cpu-bf16 warns where the CPU has no bfloat16 instructions (emulated autocast is slower
    than fp32): x86's avx512_bf16 / amx_bf16 flags, ARM's bf16 feature; None where nothing tells."""
    assert native_bf16("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n") is True
    assert native_bf16("flags\t\t: fpu avx2 f16c fma\nflags\t\t: fpu avx2 f16c fma\n") is False
    assert native_bf16("Features\t: fp asimd asimddp i8mm bf16 sve2\n") is True
    assert native_bf16("Features\t: fp asimd asimddp\n") is False
    assert native_bf16("model name\t: something\n") is None
    assert native_bf16() in (True, False, None)  # this machine's own answer, whatever it is


def test_pip_head_training_and_resume(sample_root, tmp_path):
    torch.set_num_threads(2)
    cfg = tiny_config(tmp_path, head="pip", epochs=2, lr=3e-3, warmup_epochs=0)
    fit(cfg, log=lambda *_: None)
    cfg.epochs = 3
    msgs = []
    path = fit(cfg, resume=str(tmp_path / "last.pt"), log=msgs.append)
    assert any("resumed" in m and "epoch 2" in m for m in msgs)
    assert [h["epoch"] for h in read_checkpoint(path)["history"]] == [1, 2, 3]


def test_backbone_lr_scales_the_backbone_group_only(sample_root, tmp_path):
    torch.set_num_threads(2)
    cfg = tiny_config(tmp_path, head="pip", epochs=1, lr=2e-3, warmup_epochs=0, backbone_lr=0.25)
    fit(cfg, log=lambda *_: None)
    groups = torch.load(tmp_path / "last.pt", weights_only=True)["optimizer"]["param_groups"]
    model, _ = load_model(tmp_path / "model.pt")
    assert [g["lr_scale"] for g in groups] == [0.25, 1.0]
    assert groups[0]["lr"] == pytest.approx(0.25 * groups[1]["lr"]) and groups[1]["lr"] > 0
    assert len(groups[0]["params"]) == len(list(model.backbone.parameters()))
    assert len(groups[0]["params"]) + len(groups[1]["params"]) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="backbone_lr must be > 0"):
        fit(dataclasses.replace(cfg, backbone_lr=0.0), log=lambda *_: None)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_losses_are_zero_at_target_and_positive_elsewhere(loss):
    target = torch.rand(2, 98, 2)
    mask = torch.ones(2, 98)
    assert landmark_loss({"coords": target}, target, mask, loss, 64).item() == pytest.approx(0.0, abs=1e-6)
    assert landmark_loss({"coords": target + 0.01}, target, mask, loss, 64).item() > 0


def test_masked_points_do_not_count():
    target = torch.rand(1, 98, 2)
    pred = target.clone()
    pred[0, :30] += 0.2
    mask = torch.ones(1, 98)
    mask[0, :30] = 0
    assert landmark_loss({"coords": pred}, target, mask, "l1", 64).item() == pytest.approx(0.0, abs=1e-6)


def test_pip_coord_weight_adds_the_decoded_coordinate_loss():
    """coord_weight adds weight x L1 of the decoded coordinates, in cell units (stride 32 at 256)."""
    torch.manual_seed(0)
    target = torch.rand(2, 98, 2)
    mask = torch.ones(2, 98)
    out = {"logits": torch.randn(2, 98, 64), "offsets": torch.randn(2, 98, 2, 64) * 0.1, "coords": target + 0.01}
    base = landmark_loss(out, target, mask, "l1", 256).item()
    with_coords = landmark_loss(out, target, mask, "l1", 256, coord_weight=0.5).item()
    assert with_coords - base == pytest.approx(0.5 * 0.01 * 256 / 32, rel=1e-4)


def test_weight_ema_follows_the_definition():
    from lmk.training.ema import WeightEMA

    model = torch.nn.Linear(3, 2)
    ema = WeightEMA(model, 0.5)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)  # step 1: decay min(0.5, 2/11) = 2/11
    d = 2 / 11
    assert torch.allclose(ema.model.weight, d * start + (1 - d) * model.weight)
    with pytest.raises(ValueError, match="decay"):
        WeightEMA(model, 1.0)


def test_ema_run_writes_the_average_and_the_raw_weights(sample_root, tmp_path):
    torch.set_num_threads(2)
    cfg = tiny_config(tmp_path, epochs=2, lr=3e-3, warmup_epochs=0, ema=0.9, val_fraction=0.2, eval_every=1)
    path = fit(cfg, log=lambda *_: None)
    avg, raw = read_checkpoint(path), read_checkpoint(tmp_path / "model_raw.pt")
    assert {"val", "val_ema"} <= set(avg["history"][-1])
    assert avg["meta"]["metrics"]["val"] == avg["history"][-1]["val_ema"]
    assert raw["meta"]["metrics"]["val"] == avg["history"][-1]["val"]
    assert any(not torch.equal(avg["state_dict"][k], raw["state_dict"][k]) for k in avg["state_dict"])
    steps = torch.load(tmp_path / "last.pt", weights_only=True)["ema"]["steps"]
    cfg.epochs = 3  # resume carries the average on
    fit(cfg, resume=str(tmp_path / "last.pt"), log=lambda *_: None)
    assert torch.load(tmp_path / "last.pt", weights_only=True)["ema"]["steps"] == steps * 3 // 2


def test_schedules():
    cfg = TrainConfig(epochs=10, warmup_epochs=0, schedule="step", steps=[5, 8])
    assert [round(lr_factor(cfg, e), 6) for e in (0, 5, 8)] == [1.0, 0.1, 0.01]
    cfg = TrainConfig(epochs=10, warmup_epochs=0, schedule="cosine")
    assert lr_factor(cfg, 0) == pytest.approx(1.0) and lr_factor(cfg, 10) == pytest.approx(0.0, abs=1e-9)


def test_two_process_ddp_on_cpu(sample_root, tmp_path):
    """torchrun, 2 processes, gloo: both ranks train and end with identical weights."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "lmk.cli",
        "train",
        "--data",
        str(sample_root),
        "--out",
        str(tmp_path),
        "--model",
        "resnet18-gap",
        "--no-pretrained",
        "--input-size",
        "64",
        "--epochs",
        "2",
        "--batch-size",
        "5",
        "--val-fraction",
        "0",
        "--no-test-split",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "distributed: 2 processes, backend gloo" in proc.stdout
    assert "replicas identical after training: True" in proc.stdout
    assert len(read_checkpoint(tmp_path / "model.pt")["history"]) == 2


def test_init_starts_from_another_checkpoint(tiny_checkpoint, tmp_path):
    """--init: the run starts from those weights (validated at epoch 0) and refuses another model."""
    cfg = tiny_config(tmp_path / "ft", init=str(tiny_checkpoint), epochs=1, val_fraction=0.3, lr=0.0)
    history = read_checkpoint(fit(cfg, log=lambda *_: None))["history"]
    assert history[0]["epoch"] == 0 and "val" in history[0]
    # lr 0 for the one epoch: the weights are the initial ones (BatchNorm statistics aside)
    start, _ = load_model(tiny_checkpoint)
    tuned, _ = load_model(tmp_path / "ft" / "model.pt")
    for (name, a), b in zip(start.state_dict().items(), tuned.state_dict().values()):
        if "running" not in name and "num_batches" not in name:
            torch.testing.assert_close(a, b, msg=name)
    with pytest.raises(ValueError, match="--init checkpoint is"):
        fit(tiny_config(tmp_path / "bad", init=str(tiny_checkpoint), head="flatten"), log=lambda *_: None)
    # a new input size is a fine-tuning stage at another resolution: the GAP head's weights fit any size
    bigger = fit(tiny_config(tmp_path / "96", init=str(tiny_checkpoint), input_size=96, epochs=1), log=lambda *_: None)
    assert read_checkpoint(bigger)["model"]["input_size"] == 96
    # ... but not a flatten head's, whose first layer's width depends on it
    flat = fit(tiny_config(tmp_path / "flat", head="flatten", epochs=1), log=lambda *_: None)
    with pytest.raises(ValueError, match="do not fit a 96 px resnet18-flatten"):
        fit(tiny_config(tmp_path / "flat96", init=str(flat), head="flatten", input_size=96), log=lambda *_: None)


def tiny_train_args(data, out) -> list[str]:
    """`lmk train` arguments for tiny_config's model (a 64 px ResNet-18, one epoch) from the command line."""
    args = ["train", "--data", str(data), "--out", str(out), "--model", "resnet18-gap", "--no-pretrained"]
    args += ["--input-size", "64", "--batch-size", "10", "--epochs", "1", "--val-fraction", "0", "--no-test-split"]
    return args


def test_cli_crop_enlarge_and_bf16_reach_the_recipe_and_the_metadata(sample_root, tmp_path):
    """--enlarge changes the crop the model is trained on, so it must travel in the file's metadata
    (every runtime builds its crop from there); --cpu-bf16 is part of the stored recipe."""
    from typer.testing import CliRunner

    from lmk.artifact import InputSpec
    from lmk.cli import app

    torch.set_num_threads(2)
    out = tmp_path / "run"
    args = tiny_train_args(sample_root, out)
    res = CliRunner().invoke(app, args + ["--enlarge", "1.1", "--cpu-bf16"])
    assert res.exit_code == 0, res.output
    blob = read_checkpoint(out / "model.pt")
    assert blob["config"]["enlarge"] == 1.1 and blob["config"]["cpu_bf16"] is True
    assert InputSpec.from_meta(blob["meta"]).enlarge == 1.1


def test_cli_resume_continues_the_stored_recipe(sample_root, tmp_path):
    """`lmk train --resume last.pt` keeps the run's own settings (here a 64 px ResNet-18), not the
    command line's defaults, and writes beside that last.pt; only --epochs/--workers may change."""
    from typer.testing import CliRunner

    from lmk.cli import app

    torch.set_num_threads(2)
    out = tmp_path / "run"
    args = tiny_train_args(sample_root, out)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    moved = tmp_path / "moved"  # a copied run folder resumes in place
    shutil.copytree(out, moved)
    res = CliRunner().invoke(app, ["train", "--resume", str(moved / "last.pt"), "--epochs", "2"])
    assert res.exit_code == 0, res.output
    assert read_checkpoint(out / "model.pt")["config"]["epochs"] == 1  # the original is untouched
    out = moved
    blob = read_checkpoint(out / "model.pt")
    assert blob["config"]["input_size"] == 64 and blob["config"]["backbone"] == "resnet18"
    assert blob["config"]["epochs"] == 2 and [h["epoch"] for h in blob["history"]] == [1, 2]

    res = CliRunner().invoke(app, ["train", "--resume", str(out / "last.pt"), "--lr", "1e-4", "--freeze-blocks", "2"])
    assert res.exit_code == 2 and "drop --lr, --freeze-blocks" in res.output
    res = CliRunner().invoke(app, ["train", "--resume", str(out / "model.pt")])
    assert res.exit_code == 2 and "model.pt: not a last.pt" in res.output
    # a library caller gets the same protection: fit() refuses a recipe other than the stored one
    cfg = resume_config(str(out / "last.pt"), epochs=3)
    with pytest.raises(CheckpointError, match=r"different recipe \(lr: stored 0.001, given 0.0001\)"):
        fit(dataclasses.replace(cfg, lr=1e-4), resume=str(out / "last.pt"))


def test_distillation_term_pulls_towards_the_teacher():
    """The soft term is zero where the student matches the teacher and grows with the distance to it,
    on every point, labelled or not."""
    coords = torch.rand(2, 98, 2)
    out = {"coords": coords.clone()}
    mask = torch.zeros(2, 98)  # no labels at all: only the teacher speaks
    target = torch.zeros(2, 98, 2)
    at_teacher = landmark_loss(out, target, mask, "l1", 64, soft_target=coords, soft_weight=1.0)
    off_teacher = landmark_loss(out, target, mask, "l1", 64, soft_target=coords + 0.1, soft_weight=1.0)
    assert float(at_teacher) == 0.0
    torch.testing.assert_close(off_teacher, torch.tensor(6.4))  # 0.1 of 64 px, L1


def test_teacher_fill_and_distillation_run(sample_root, tiny_checkpoint, tmp_path):
    """--teacher: its points label what 300-W faces lack (predicted once, on plain crops), and with
    --distill-weight it runs on every augmented batch; a teacher that crops differently is refused."""
    from lmk.artifact import InputSpec
    from lmk.data.readers import read_wflw
    from lmk.predict import predict_records
    from lmk.runtime.torch_runner import torch_runner
    from lmk.schemes import MAP_98_TO_68
    from lmk.training.engine import input_spec, load_teacher, teacher_fill

    torch.set_num_threads(2)
    cfg = tiny_config(tmp_path, teacher=str(tiny_checkpoint), distill_weight=1.0, epochs=1)
    teacher, tspec = load_teacher(cfg, input_spec(cfg))
    recs = read_wflw(sample_root, "test")[:3]
    as68 = [dataclasses.replace(r, points=r.points[MAP_98_TO_68], scheme="300w68") for r in recs[:2]]
    fill = teacher_fill(teacher, tspec, [*as68, recs[2]], "wflw98", log=lambda *_: None)
    assert fill[2] is None  # fully annotated: nothing to fill
    expect = predict_records(as68, torch_runner(teacher), InputSpec.from_meta(read_checkpoint(tiny_checkpoint)["meta"]))
    np.testing.assert_allclose(np.stack(fill[:2]), expect, atol=1e-4)
    blob = read_checkpoint(fit(cfg, log=lambda *_: None))
    assert blob["config"]["teacher"] == str(tiny_checkpoint) and blob["config"]["distill_weight"] == 1.0
    with pytest.raises(ValueError, match="enlarge"):
        fit(dataclasses.replace(cfg, enlarge=1.3), log=lambda *_: None)


def test_feature_distillation_pulls_the_student_features_towards_the_teacher(sample_root, tiny_checkpoint, tmp_path):
    """--feature-weight: the feature loss is 0 for matching maps (at any grid), and a run with it
    trains and saves a model without the adapter (the deployable graph is unchanged)."""
    from lmk.training.losses import feature_loss

    t = torch.randn(2, 8, 6, 6)
    same = torch.nn.functional.adaptive_avg_pool2d(t, (3, 3)) * 5.0  # cosine ignores the scale
    assert feature_loss(same, t).item() < 1e-6 and feature_loss(-same, t).item() > 1.9
    cfg = tiny_config(tmp_path, teacher=str(tiny_checkpoint), feature_weight=1.0, epochs=2, lr=3e-3, warmup_epochs=0)
    blob = read_checkpoint(fit(cfg, log=lambda *_: None))
    assert not any(k.startswith("adapter") for k in blob["state_dict"])
    assert "adapter" in torch.load(tmp_path / "last.pt", weights_only=True)
    with pytest.raises(ValueError, match="give --teacher"):
        fit(dataclasses.replace(cfg, teacher=""), log=lambda *_: None)


def test_native_68_point_model_starts_as_the_mapped_98_point_model(sample_root, tiny_checkpoint, tmp_path):
    """--dataset 300w trains 300-W's 68 points; --init from a 98-point checkpoint keeps the head's
    outputs of the mapped points, so the new model starts exactly at the mapped one."""
    from conftest import write_300w_folder

    from lmk.artifact import Layout
    from lmk.data.readers import read_wflw
    from lmk.export.exporter import export_checkpoint
    from lmk.models import ModelSpec, build_model
    from lmk.models.points import with_points
    from lmk.schemes import MAP_98_TO_68
    from lmk.training.engine import init_from_checkpoint

    folder = write_300w_folder(tmp_path / "300w", read_wflw(sample_root, "test"))
    cfg = tiny_config(tmp_path / "68", data=str(folder), dataset="300w", init=str(tiny_checkpoint), epochs=1)
    cfg = dataclasses.replace(cfg, lr=0.0, val_fraction=0.3)
    blob = read_checkpoint(fit(cfg, log=lambda *_: None))
    assert blob["model"]["num_points"] == 68 and blob["meta"]["scheme"] == "300w68"
    assert blob["meta"]["output"]["shape"] == [1, 68, 2]
    model98, _ = load_model(tiny_checkpoint)
    model68, _ = load_model(tmp_path / "68" / "model.pt")
    assert model68(torch.rand(1, 3, 64, 64)).shape == (1, 68, 2)
    fresh = build_model(ModelSpec(**blob["model"]))
    init_from_checkpoint(fresh, ModelSpec(**blob["model"]), str(tiny_checkpoint))
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(fresh.eval()(x), model98(x)[:, MAP_98_TO_68], atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="cannot output 98 points"):
        with_points(model68, 98)
    # a native model's files carry its own points, with no _68pt suffix
    report = export_checkpoint(tmp_path / "68" / "model.pt", "onnx", tmp_path / "x", sample_root, log=lambda *_: None)
    assert report.files and Layout(tmp_path / "x", "model").onnx.is_file()
    with pytest.raises(ValueError, match="extra-300w"):
        fit(dataclasses.replace(cfg, extra_300w=str(folder)), log=lambda *_: None)
    # distillation from a 68-point teacher; a 98-point one is refused for a 68-point student
    kd = dataclasses.replace(
        cfg, out=str(tmp_path / "kd"), teacher=str(tmp_path / "68" / "model.pt"), distill_weight=1.0
    )
    kd_blob = read_checkpoint(fit(dataclasses.replace(kd, lr=1e-3), log=lambda *_: None))
    assert kd_blob["model"]["num_points"] == 68 and kd_blob["config"]["distill_weight"] == 1.0
    with pytest.raises(ValueError, match="a 98-point teacher for a 68-point model"):
        fit(dataclasses.replace(kd, teacher=str(tiny_checkpoint)), log=lambda *_: None)


def test_wflw_faces_join_a_68_point_model_with_their_inner_points_and_the_teachers_jaw(
    sample_root, tiny_checkpoint, tmp_path
):
    """--extra-wflw: WFLW train faces (never test) join a native 68-point model's training with
    their 51 inner points; their contour follows WFLW's convention, so the jaw is unlabelled until
    a 68-point teacher fills it (predicted once). Validation stays on the 300-W folder."""
    from conftest import write_300w_folder

    from lmk.artifact import InputSpec
    from lmk.data.crop import affine_points, crop_matrix, face_window, pixels_to_normalized
    from lmk.data.dataset import LandmarkDataset, to_layout
    from lmk.data.readers import read_wflw
    from lmk.schemes import MAP_98_TO_68
    from lmk.training.engine import input_spec, load_teacher, teacher_fill, train_records

    torch.set_num_threads(2)
    wflw_train = read_wflw(sample_root, "train")
    pts, mask = to_layout(wflw_train[0].points, "wflw98", "300w68")
    np.testing.assert_array_equal(pts, wflw_train[0].points[MAP_98_TO_68])
    assert mask[:17].sum() == 0 and mask[17:].all()  # 51 inner points labelled, the jaw not

    folder = write_300w_folder(tmp_path / "300w", read_wflw(sample_root, "test"))
    base = tiny_config(tmp_path / "68", data=str(folder), dataset="300w", init=str(tiny_checkpoint), epochs=1)
    base = dataclasses.replace(base, val_fraction=0.3)
    teacher68 = fit(base, log=lambda *_: None)
    cfg = dataclasses.replace(base, out=str(tmp_path / "mixed"), extra_wflw=str(sample_root), teacher=str(teacher68))
    train, val = train_records(cfg)
    assert [r.source for r in train if r.scheme == "wflw98"] == [r.source for r in wflw_train]
    assert val and all(r.scheme == "300w68" for r in val)

    teacher, tspec = load_teacher(cfg, input_spec(cfg))
    fill = teacher_fill(teacher, tspec, train, "300w68", log=lambda *_: None)
    assert all((f is None) == (r.scheme == "300w68") for f, r in zip(fill, train))
    i = next(k for k, r in enumerate(train) if r.scheme == "wflw98")
    spec = InputSpec.from_meta(read_checkpoint(teacher68)["meta"])
    _, target, filled_mask = LandmarkDataset([train[i]], spec, None, fill=[fill[i]], layout="300w68")[0]
    assert filled_mask.sum() == 68  # the teacher's jaw counts as labelled
    win = face_window(train[i].box, train[i].points, "wflw98", spec.box, spec.enlarge)
    as_input = lambda p: pixels_to_normalized(affine_points(p, crop_matrix(win, spec.size)), spec.size)  # noqa: E731
    np.testing.assert_allclose(target[:17].numpy(), as_input(fill[i][:17]), atol=1e-5)
    np.testing.assert_allclose(target[17:].numpy(), as_input(train[i].points[MAP_98_TO_68][17:]), atol=1e-5)

    blob = read_checkpoint(fit(dataclasses.replace(cfg, distill_weight=1.0), log=lambda *_: None))
    assert blob["config"]["extra_wflw"] == str(sample_root) and blob["model"]["num_points"] == 68
    with pytest.raises(ValueError, match="--extra-wflw adds WFLW faces to a 300-W model"):
        fit(tiny_config(tmp_path / "w", extra_wflw=str(sample_root)), log=lambda *_: None)
