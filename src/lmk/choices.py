"""The closed sets of values lmk's options take, as Enums: the command line offers and checks them
(typer lists them in --help and refuses others before any work), the library accepts their values.
"""

from __future__ import annotations

from enum import Enum


class Runtime(str, Enum):
    torch = "torch"
    ort = "ort"
    mnn = "mnn"


class Target(str, Enum):
    onnx = "onnx"
    mnn = "mnn"


class ArmMode(str, Enum):
    auto = "auto"  # when the emulated environment is set up
    setup = "setup"  # set it up if needed
    off = "off"


class Dataset(str, Enum):
    wflw = "wflw"
    w300 = "300w"


class Augment(str, Enum):
    default = "default"
    heavy = "heavy"


class Split(str, Enum):
    train = "train"
    test = "test"
    val = "val"  # a .pt checkpoint's own held-out train faces


class MnnMethod(str, Enum):
    EMA = "EMA"
    KL = "KL"
    ADMM = "ADMM"


class MnnPrecision(str, Enum):
    normal = "normal"
    low = "low"  # fp16 arithmetic on ARMv8.2+


class Loss(str, Enum):
    l1 = "l1"
    l2 = "l2"
    log_l2 = "log_l2"
    wing = "wing"


class Optimizer(str, Enum):
    adam = "adam"
    adamw = "adamw"
    sgd = "sgd"


class Schedule(str, Enum):
    cosine = "cosine"
    step = "step"


def values(enum: type[Enum]) -> tuple[str, ...]:
    return tuple(m.value for m in enum)


def parse_list(text: str, enum: type[Enum], option: str) -> tuple[str, ...]:
    """A comma-separated option ("mnn,ort") -> its values, or ValueError naming the option."""
    items = tuple(v.strip() for v in text.split(",") if v.strip())
    allowed = values(enum)
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise ValueError(f"{option} {text!r}: choose from {', '.join(allowed)} (comma-separated)")
    return items
