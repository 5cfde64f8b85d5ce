"""The full, resolved training configuration (stored verbatim in every checkpoint)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class TrainConfig:
    data: str = "../shared/data/wflw-mini"
    out: str = "runs/train"
    backbone: str = "efficientnet_lite0"
    head: str = "pip"
    pretrained: bool = True
    init: str = ""  # start from this checkpoint's weights (a fine-tuning stage); "" : ImageNet/scratch
    input_size: int = 256
    enlarge: float = 1.2
    loss: str = "l1"
    cls_sigma: float = 0.0  # PIP head: Gaussian cell target (cells); 0: one-hot
    coord_weight: float = 0.0  # PIP head: weight of the loss on the decoded coordinates (cell units)
    ema: float = 0.0  # decay of a weight average kept beside the model (0: off); model.pt is then the average
    optimizer: str = "adamw"
    lr: float = 1e-3
    backbone_lr: float = 1.0  # the backbone's lr is lr x this (< 1: adapt ImageNet features more gently than the head)
    weight_decay: float = 1e-4
    momentum: float = 0.9
    schedule: str = "cosine"  # or "step"
    steps: list[int] = field(default_factory=list)  # epochs at which "step" divides lr by 10
    warmup_epochs: int = 1
    epochs: int = 60
    batch_size: int = 32
    freeze_blocks: int = -1  # freeze stem + first K backbone blocks; -1: none
    val_fraction: float = 0.1  # held-out images of the train split for model selection
    eval_every: int = 5
    hard_repeat: int = 1  # WFLW train faces with an attribute appear this many times per epoch
    extra_300w: str = ""  # optional 300-W folder trained with the 68 mapped points only
    dataset: str = "wflw"  # "300w": `data` is a 300-W folder, the model has 300-W's 68 points
    extra_wflw: str = ""  # with dataset "300w": also train on a WFLW root's train faces (51 inner points)
    augment: str = "default"  # a preset of lmk.data.augment.AUGMENTS
    amp: bool = True  # mixed precision on CUDA (ignored on CPU)
    cpu_bf16: bool = False  # bfloat16 autocast on a CPU (faster with AVX512-BF16 / AMX); weights stay fp32
    teacher: str = ""  # a checkpoint whose predictions supervise this model (distillation); "": none
    teacher_fill: bool = True  # with a teacher: its points stand in for the ones a face lacks (300-W's 30)
    distill_weight: float = 0.0  # with a teacher: weight of the loss to its points on each augmented crop
    feature_weight: float = 0.0  # with a teacher: weight of matching its last feature map (1 - cosine)
    seed: int = 0
    workers: int = 0
    channels_last: bool = True
    test_split: bool = True  # score the final model on the test split and store it

    def as_dict(self) -> dict:
        return asdict(self)


def resume_config(path: str, **overrides) -> TrainConfig:
    """The config stored in a last.pt, so a resumed run continues the same recipe (data, extra
    300-W faces, freezing, ...) instead of whatever the command line's defaults are today."""
    from lmk.checkpoint import CheckpointError, read_checkpoint

    blob = read_checkpoint(path)
    if "optimizer" not in blob or "epoch" not in blob or "config" not in blob:
        raise CheckpointError(f"{path}: not a last.pt (no optimizer state); use --init to fine-tune from it")
    saved = dict(blob["config"])
    unknown = sorted(set(saved) - set(TrainConfig.__dataclass_fields__))
    if unknown:
        raise CheckpointError(f"{path}: config has keys this lmk does not know: {', '.join(unknown)}")
    saved.update(overrides)
    return TrainConfig(**saved)


RESUMABLE = ("epochs", "workers", "out")  # what may differ between a last.pt's recipe and its continuation


def check_resume_config(path: str, saved: dict, cfg: TrainConfig) -> None:
    """Refuse to continue a last.pt with a different recipe (lr, data, freezing, ...): the optimizer
    state and the schedule position belong to the stored one, so a mixed run would be neither."""
    from lmk.checkpoint import CheckpointError

    wanted = cfg.as_dict()
    changed = sorted(k for k in wanted if k not in RESUMABLE and k in saved and saved[k] != wanted[k])
    if changed:
        diff = ", ".join(f"{k}: stored {saved[k]!r}, given {wanted[k]!r}" for k in changed)
        raise CheckpointError(f"{path}: resuming with a different recipe ({diff}); use resume_config({path!r})")
