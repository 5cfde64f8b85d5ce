"""The plain training loop: train_one_epoch / evaluate / fit, DDP-aware (torchrun)."""

from __future__ import annotations

import dataclasses
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from lmk.artifact import InputSpec, build_meta
from lmk.checkpoint import float_state, read_checkpoint, save_checkpoint
from lmk.data.augment import AUGMENTS
from lmk.data.dataset import LandmarkDataset
from lmk.data.readers import read_300w, read_wflw
from lmk.data.split import repeat_hard, split_by_image
from lmk.metrics import nme_per_face, score
from lmk.models import ModelSpec, build_model
from lmk.schemes import MAP_98_TO_68, SCHEMES
from lmk.training.config import TrainConfig, check_resume_config
from lmk.training.ema import WeightEMA
from lmk.training.losses import feature_loss, landmark_loss


def is_main() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


def setup_distributed() -> torch.device:
    """Initialise the process group when launched by torchrun; returns this process's device."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        if torch.cuda.is_available():
            local = int(os.environ.get("LOCAL_RANK", 0))
            torch.cuda.set_device(local)
            return torch.device("cuda", local)
        return torch.device("cpu")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def frozen_modules(backbone: torch.nn.Module, k: int) -> list[torch.nn.Module]:
    if k < 0:
        return []
    stages = getattr(backbone, "blocks", None) or backbone.layers
    return [backbone.stem, *list(stages)[:k]]


def param_groups(cfg: TrainConfig, model: torch.nn.Module) -> list[dict]:
    """Trainable parameters, with the backbone's in a group of its own when `backbone_lr` scales
    its learning rate (one group otherwise, as last.pt files written before the option hold)."""
    if cfg.backbone_lr <= 0:
        raise ValueError(f"backbone_lr must be > 0 (got {cfg.backbone_lr}); freeze layers with freeze_blocks")
    trainable = [p for p in model.parameters() if p.requires_grad]
    if cfg.backbone_lr == 1.0:
        return [{"params": trainable, "lr_scale": 1.0}]
    in_backbone = {id(p) for p in model.backbone.parameters()}
    return [
        {"params": [p for p in trainable if id(p) in in_backbone], "lr_scale": cfg.backbone_lr},
        {"params": [p for p in trainable if id(p) not in in_backbone], "lr_scale": 1.0},
    ]


def make_optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=True)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose adam, adamw or sgd")


def lr_factor(cfg: TrainConfig, epoch: float) -> float:
    """Multiplier of the base lr at a (fractional) epoch: linear warm-up, then cosine or steps."""
    if epoch < cfg.warmup_epochs:
        return (epoch + 1e-3) / cfg.warmup_epochs
    if cfg.schedule == "cosine":
        t = (epoch - cfg.warmup_epochs) / max(1e-9, cfg.epochs - cfg.warmup_epochs)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
    if cfg.schedule == "step":
        return 0.1 ** sum(epoch >= s for s in cfg.steps)
    raise ValueError(f"unknown schedule {cfg.schedule!r}; choose cosine or step")


def train_one_epoch(
    model, loader, optimizer, cfg: TrainConfig, epoch: int, device, scaler, frozen, ema=None, teacher=None, adapter=None
) -> float:
    model.train()
    for m in frozen:
        m.eval()  # frozen layers keep their BN statistics
    total, count, steps = 0.0, 0, len(loader)
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not is_main(), leave=False)
    for i, (x, target, mask, *teacher_x) in enumerate(bar):
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * group.get("lr_scale", 1.0) * lr_factor(cfg, epoch + i / steps)
        x, target, mask = x.to(device), target.to(device), mask.to(device)
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        soft = teacher_outputs(teacher, teacher_x[0], cfg, device) if teacher is not None and teacher_x else None
        loss = train_step(model, optimizer, cfg, x, target, mask, device, scaler, soft, adapter)
        if ema is not None:
            ema.update(model.module if hasattr(model, "module") else model)
        total += loss.item() * len(x)
        count += len(x)
        bar.set_postfix(loss=f"{total / count:.4f}")
    return total / max(count, 1)


@torch.no_grad()
def teacher_outputs(teacher: torch.nn.Module, x: torch.Tensor, cfg: TrainConfig, device) -> dict:
    """The teacher on its view of the student's augmented crops: its 98 points (crop_normalized)
    and, for feature distillation, its last feature map."""
    x = x.to(device).contiguous(memory_format=torch.channels_last)
    with autocast(cfg, device, None):
        feats = teacher.backbone(x)
        out = {"coords": teacher.head(feats)["coords"].float()}
        if cfg.feature_weight > 0:
            out["features"] = feats[-1].float()
        return out


class FeatureAdapter(torch.nn.Module):
    """A 1x1 conv from the student's last feature map to the teacher's channels: trained beside the
    student for feature distillation, never part of the saved model."""

    def __init__(self, student_channels: int, teacher_channels: int):
        super().__init__()
        self.proj = torch.nn.Conv2d(student_channels, teacher_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


def train_step(
    model, optimizer, cfg: TrainConfig, x, target, mask, device, scaler, soft=None, adapter=None
) -> torch.Tensor:
    """One optimiser step on one batch (forward under `autocast`, loss, backward, step); the loss.
    `soft`: the teacher's outputs on the same crops (distillation), or None; `adapter`: with
    `cfg.feature_weight`, maps the student's last feature map to the teacher's."""
    with autocast(cfg, device, scaler):
        if adapter is not None:
            feats = model.backbone(x)
            out = model.head(feats)
            student_features = adapter(feats[-1])
        else:
            out = model(x, return_aux=True)
    out = {k: v.float() for k, v in out.items()}
    loss = landmark_loss(
        out,
        target,
        mask,
        cfg.loss,
        cfg.input_size,
        cls_sigma=cfg.cls_sigma,
        coord_weight=cfg.coord_weight,
        soft_target=None if soft is None else soft["coords"],
        soft_weight=cfg.distill_weight,
    )
    if adapter is not None and soft is not None:
        loss = loss + cfg.feature_weight * feature_loss(student_features.float(), soft["features"])
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()
    return loss


def autocast(cfg: TrainConfig, device, scaler):
    """fp16 with a grad scaler on CUDA; bf16 on a CPU only when asked (`cpu_bf16`): it changes the
    numerics of a recipe, so old recipes keep training in fp32. bf16 needs no scaler (fp32's range)."""
    if device.type == "cpu":
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.cpu_bf16)
    return torch.autocast(device.type, dtype=torch.float16, enabled=scaler is not None)


BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}  # x86 AVX512-BF16 / AMX, ARM FEAT_BF16 (cpuinfo names)


def native_bf16(cpuinfo: str | None = None) -> bool | None:
    """Whether the CPU computes bfloat16 in hardware, read from /proc/cpuinfo's flags (x86) or
    Features (ARM) lines; None where that cannot be told (no /proc). Without it, bf16 autocast is
    emulated and is several times slower than fp32, the opposite of what `cpu_bf16` is for."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return None
    words = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            words.update(value.split())
    if not words:
        return None
    return bool(words & BF16_FLAGS)


@torch.no_grad()
def evaluate(model, dataset: LandmarkDataset, device, batch_size: int = 32, scheme: str = "wflw98") -> dict:
    """NME/FR/AUC on un-augmented crops. The crop is a similarity, so normalised-space NME equals
    image-space NME exactly; only fully annotated faces (of the model's layout) are scored."""
    model.eval()
    preds, gts = [], []
    for x, target, _ in DataLoader(dataset, batch_size=batch_size):
        preds.append(model(x.to(device)).float().cpu().numpy())
        gts.append(target.numpy())
    nme_i = nme_per_face(np.concatenate(preds), np.concatenate(gts), scheme)
    return score(nme_i).as_dict()


def input_spec(cfg: TrainConfig) -> InputSpec:
    return InputSpec(size=cfg.input_size, box="wflw_rect", enlarge=cfg.enlarge)


def layout_of(cfg: TrainConfig) -> str:
    """The model's point layout: WFLW's 98, or 300-W's 68 for a native 300-W model."""
    if cfg.dataset == "wflw":
        return "wflw98"
    if cfg.dataset == "300w":
        return "300w68"
    raise ValueError(f"unknown dataset {cfg.dataset!r}; choose wflw or 300w")


def train_records(cfg: TrainConfig) -> tuple[list, list]:
    """(train, validation) faces: WFLW's train split (+ 300-W faces with their 68 points), or a
    300-W folder for a native 68-point model (+ WFLW train faces with their 51 inner points);
    validation is a seeded share of the main set's images."""
    if cfg.dataset == "300w":
        if cfg.extra_300w:
            raise ValueError(
                "--extra-300w adds 300-W faces to WFLW training; with --dataset 300w, --data is the 300-W folder"
            )
        train, val = split_by_image(read_300w(Path(cfg.data)), cfg.val_fraction, cfg.seed)
        if cfg.extra_wflw:  # its train split only: WFLW's test faces stay unseen
            train = train + read_wflw(Path(cfg.extra_wflw), "train")
        return train, val
    if cfg.extra_wflw:
        raise ValueError("--extra-wflw adds WFLW faces to a 300-W model (--dataset 300w); WFLW training reads --data")
    train, val = split_by_image(read_wflw(Path(cfg.data), "train"), cfg.val_fraction, cfg.seed)
    train = repeat_hard(train, cfg.hard_repeat)
    if cfg.extra_300w:
        train = train + read_300w(Path(cfg.extra_300w))
    return train, val


def fit(cfg: TrainConfig, resume: str | None = None, log=print) -> Path:
    """Train per cfg; returns the path of the final checkpoint (out/model.pt)."""
    # a resumed run's recipe is checked before any data or model work, so a refusal is immediate
    state = torch.load(resume, map_location="cpu", weights_only=True) if resume else None
    if state is not None:
        check_resume_config(resume, state.get("config", {}), cfg)
    device = setup_distributed()
    if cfg.cpu_bf16 and device.type == "cpu" and native_bf16() is False and is_main():
        log(
            "warning: --cpu-bf16 on a CPU without bfloat16 instructions (AVX512-BF16, AMX or ARM BF16): "
            "autocast is emulated and trains slower than fp32"
        )
    seed_everything(cfg.seed)
    out = Path(cfg.out)
    layout = layout_of(cfg)
    spec = ModelSpec(cfg.backbone, cfg.head, SCHEMES[layout].num_points, cfg.input_size)
    ispec = input_spec(cfg)
    if cfg.augment not in AUGMENTS:
        raise ValueError(f"unknown augment {cfg.augment!r}; choose from {', '.join(AUGMENTS)}")

    train_recs, val_recs = train_records(cfg)
    teacher, teacher_size, fill = None, 0, None
    if cfg.teacher:
        teacher, teacher_spec = load_teacher(cfg, ispec)
        if teacher.head.num_points != spec.num_points:
            n = teacher.head.num_points
            raise ValueError(f"{cfg.teacher}: a {n}-point teacher for a {spec.num_points}-point model")
        teacher = teacher.to(device).to(memory_format=torch.channels_last)
        if cfg.teacher_fill:
            fill = teacher_fill(teacher, teacher_spec, train_recs, layout, log)
        if cfg.distill_weight > 0 or cfg.feature_weight > 0:
            teacher_size = teacher_spec.size
        else:
            teacher = None  # the fill labels were all it was needed for
    train_ds = LandmarkDataset(
        train_recs, ispec, AUGMENTS[cfg.augment], seed=cfg.seed, teacher_size=teacher_size, fill=fill, layout=layout
    )
    val_ds = LandmarkDataset(val_recs, ispec, None, layout=layout) if val_recs else None

    def check(weights) -> dict:
        return evaluate(weights, val_ds, device, scheme=layout)

    model = build_model(spec, pretrained=cfg.pretrained and not cfg.init).to(device)
    if cfg.init and not resume:
        init_from_checkpoint(model, spec, cfg.init)
        log(f"initialised from {cfg.init}")
    frozen = frozen_modules(model.backbone, cfg.freeze_blocks)
    for m in frozen:
        for p in m.parameters():
            p.requires_grad = False
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    adapter = None
    if cfg.feature_weight > 0:
        if teacher is None:
            raise ValueError("--feature-weight distils the teacher's features: give --teacher")
        if dist.is_initialized():
            raise ValueError("--feature-weight: feature distillation runs in one process (no torchrun)")
        adapter = FeatureAdapter(model.backbone.channels[-1], teacher.backbone.channels[-1]).to(device)
    groups = param_groups(cfg, model)
    if adapter is not None:
        groups.append({"params": list(adapter.parameters()), "lr_scale": 1.0})
    optimizer = make_optimizer(cfg, groups)
    ema = WeightEMA(model, cfg.ema) if cfg.ema else None
    start_epoch, history = 0, []
    if state is not None:
        model.load_state_dict(float_state(state["state_dict"]))
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, history = state["epoch"], state.get("history", [])
        if ema is not None and "ema" in state:
            ema.load_state_dict(state["ema"])
        if adapter is not None and "adapter" in state:
            adapter.load_state_dict(state["adapter"])
        log(f"resumed from {resume} at epoch {start_epoch}")

    ddp = dist.is_initialized()
    net = DistributedDataParallel(model) if ddp else model
    if ddp and is_main():
        log(f"distributed: {dist.get_world_size()} processes, backend {dist.get_backend()}")
    sampler = DistributedSampler(train_ds, shuffle=True, seed=cfg.seed) if ddp else None
    gen = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(
        train_ds,
        batch_size=cfg.batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        drop_last=len(train_ds) > cfg.batch_size,
        num_workers=cfg.workers,
        generator=gen,
    )
    scaler = torch.amp.GradScaler("cuda") if cfg.amp and device.type == "cuda" else None
    writer = _tensorboard(out) if is_main() else None

    def snapshot(path: Path, epoch: int, metrics: dict, extra: dict | None = None, weights=None):
        meta = build_meta(ispec, spec.num_points, layout, metrics=metrics, model=spec.as_dict())
        save_checkpoint(path, model if weights is None else weights, spec, cfg.as_dict(), meta, extra=extra)

    if cfg.init and not resume and val_ds is not None and is_main():
        row = {"epoch": 0, "val": check(model)}
        history.append(row)
        log(f"epoch 0 (initial weights) val NME {row['val']['nme']:.3f}%")
    t0 = time.time()
    for epoch in range(start_epoch, cfg.epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        train_ds.set_epoch(epoch)
        loss = train_one_epoch(net, loader, optimizer, cfg, epoch, device, scaler, frozen, ema, teacher, adapter)
        row = {"epoch": epoch + 1, "loss": loss, "lr": cfg.lr * lr_factor(cfg, epoch + 1), "time_s": time.time() - t0}
        last = epoch + 1 == cfg.epochs
        if val_ds is not None and is_main() and ((epoch + 1) % cfg.eval_every == 0 or last):
            row["val"] = check(model)
            if ema is not None:
                row["val_ema"] = check(ema.model)
        history.append(row)
        if is_main():
            val = f" val NME {row['val']['nme']:.3f}%" if "val" in row else ""
            val += f" (EMA {row['val_ema']['nme']:.3f}%)" if "val_ema" in row else ""
            log(f"epoch {epoch + 1}/{cfg.epochs} loss {loss:.4f}{val} ({row['time_s']:.0f}s)")
            if writer:
                writer.add_scalar("loss/train", loss, epoch + 1)
                if "val" in row:
                    writer.add_scalar("nme/val", row["val"]["nme"], epoch + 1)
            snapshot(
                out / "last.pt",
                epoch + 1,
                {},
                extra={
                    "optimizer": optimizer.state_dict(),
                    "epoch": epoch + 1,
                    "history": history,
                    **({"ema": ema.state_dict()} if ema is not None else {}),
                    **({"adapter": adapter.state_dict()} if adapter is not None else {}),
                },
            )
    final = out / "model.pt"
    if is_main():
        last_row = history[-1] if history else {}
        if ema is None:
            outputs = [(final, model, last_row.get("val"))]
        else:  # the average is the model; the last raw weights stay beside it for comparison
            outputs = [(final, ema.model, last_row.get("val_ema")), (out / "model_raw.pt", model, last_row.get("val"))]
        test = read_wflw(Path(cfg.data), "test") if cfg.test_split and cfg.dataset == "wflw" else None
        if cfg.test_split and test is None:
            log("a 300-W folder has no test split: score the model with lmk eval --dataset 300w --data TEST_FOLDER")
        for path, weights, val in outputs:
            metrics = {"val": val} if val else {}
            if test is not None:
                metrics.update(_score_test(cfg, ispec, weights, test))
                log(f"{path.name}: test NME {metrics['nme']:.3f}% FR {metrics['fr']:.2f}% AUC {metrics['auc']:.4f}")
            snapshot(path, cfg.epochs, metrics, extra={"history": history}, weights=weights)
    if ddp:
        same = replicas_identical(model)
        if is_main():
            log(f"distributed: replicas identical after training: {same}")
        dist.barrier()
        dist.destroy_process_group()
    return final


def load_teacher(cfg: TrainConfig, ispec: InputSpec) -> tuple[torch.nn.Module, InputSpec]:
    """The teacher in eval mode and its input spec. Its crop must frame the face as the student's
    does (same box and margin): its points on the student's crops are only meaningful then."""
    from lmk.checkpoint import load_model

    teacher, blob = load_model(Path(cfg.teacher))
    tspec = InputSpec.from_meta(blob["meta"])
    for key in ("box", "enlarge", "scale", "mean", "std"):
        theirs, mine = getattr(tspec, key), getattr(ispec, key)
        if tuple(np.ravel(theirs)) != tuple(np.ravel(mine)):
            raise ValueError(f"{cfg.teacher}: teacher crops with {key}={theirs!r}, this model with {mine!r}")
    for p in teacher.parameters():
        p.requires_grad = False
    return teacher.eval(), tspec


def teacher_fill(teacher: torch.nn.Module, tspec: InputSpec, records: list, layout: str, log=print) -> list:
    """Per record: the teacher's points (the model's layout) in image pixels for faces annotated in
    another layout (300-W faces for a 98-point model, WFLW faces for a 68-point one), None for the
    others. Predicted once, on un-augmented crops; augmentation then moves them with the image like
    any label, and only the points the record lacks take them."""
    from lmk.predict import predict_records
    from lmk.runtime.torch_runner import torch_runner

    partial = [i for i, r in enumerate(records) if r.scheme != layout]
    fill: list = [None] * len(records)
    if partial:
        log(f"teacher labels the missing points of {len(partial)} faces")
        pred = predict_records([records[i] for i in partial], torch_runner(teacher), tspec, batch_size=32)
        for i, p in zip(partial, pred):
            fill[i] = p
    return fill


def _score_test(cfg: TrainConfig, ispec: InputSpec, model: torch.nn.Module, test: list) -> dict:
    from lmk.evaluation import score_runner
    from lmk.runtime.torch_runner import torch_runner

    s = score_runner(test, torch_runner(model.float().eval()), ispec, batch_size=16)
    return s.as_metrics(f"{Path(cfg.data).name}/test")


HEAD_LAYERS = {"head.cls.": 1, "head.off.": 2, "head.fc.": 2}  # per-point output layers: channels per point


def select_head_points(state: dict, index: list[int]) -> dict:
    """The state of the same model with only the points `index` (in that order): the per-point
    output channels of the head are kept, everything else is shared by all points. A 98-point
    model so becomes a 68-point one that starts exactly where the mapped model is."""
    out = dict(state)
    for key, value in state.items():
        per = next((n for prefix, n in HEAD_LAYERS.items() if key.startswith(prefix)), 0)
        if per:
            rows = [i * per + j for i in index for j in range(per)]
            out[key] = value[rows]
    return out


def init_from_checkpoint(model: torch.nn.Module, spec: ModelSpec, path: str) -> None:
    """Load another checkpoint's weights (same architecture) as the starting point. The input size
    may differ (fine-tuning at a new resolution) where no weight's shape depends on it; a 98-point
    checkpoint starts a 68-point model with the head's outputs of the mapped points (PROTOCOL.md)."""
    blob = read_checkpoint(Path(path))
    theirs = ModelSpec(**blob["model"])
    state = float_state(blob["state_dict"])
    if theirs.num_points == 98 and spec.num_points == 68:
        state = select_head_points(state, MAP_98_TO_68)
        theirs = dataclasses.replace(theirs, num_points=68)
    if dataclasses.replace(theirs, input_size=spec.input_size) != spec:
        raise ValueError(f"{path}: --init checkpoint is {blob['model']}, but training builds {spec.as_dict()}")
    try:
        model.load_state_dict(state)
    except RuntimeError as e:  # a head whose weights depend on the input size (flatten)
        first = str(e).strip().splitlines()[-1].strip()
        raise ValueError(
            f"{path}: its weights do not fit a {spec.input_size} px {spec.backbone}-{spec.head} ({first})"
        ) from None


def replicas_identical(model: torch.nn.Module) -> bool:
    """All ranks hold bit-identical weights (what DDP's gradient all-reduce guarantees)."""
    flat = torch.cat([p.detach().float().flatten().cpu() for p in model.parameters()])
    mine = torch.stack([flat.sum(), (flat * torch.arange(len(flat)) % 9973).sum()]).double()
    gathered = [torch.zeros_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, mine)
    return all(torch.equal(g, gathered[0]) for g in gathered)


def _tensorboard(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    try:
        return SummaryWriter(str(out / "tb"))
    except Exception:
        return None
