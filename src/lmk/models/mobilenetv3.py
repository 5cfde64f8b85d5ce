"""MobileNetV3-Large in plain torch (torchvision's configuration), features at strides 8, 16, 32."""

from __future__ import annotations

from torch import nn

from lmk.models.layers import ConvBNAct, make_divisible

# kernel, expand, out, squeeze-excite, hardswish, stride
LARGE = [
    (3, 16, 16, False, False, 1),
    (3, 64, 24, False, False, 2),
    (3, 72, 24, False, False, 1),
    (5, 72, 40, True, False, 2),
    (5, 120, 40, True, False, 1),
    (5, 120, 40, True, False, 1),
    (3, 240, 80, False, True, 2),
    (3, 200, 80, False, True, 1),
    (3, 184, 80, False, True, 1),
    (3, 184, 80, False, True, 1),
    (3, 480, 112, True, True, 1),
    (3, 672, 112, True, True, 1),
    (5, 672, 160, True, True, 2),
    (5, 960, 160, True, True, 1),
    (5, 960, 160, True, True, 1),
]


class SqueezeExcite(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        mid = make_divisible(ch // 4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(ch, mid, 1)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(mid, ch, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        return x * self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, k: int, exp: int, cout: int, se: bool, hs: bool, stride: int):
        super().__init__()
        act = nn.Hardswish if hs else nn.ReLU
        self.expand = ConvBNAct(cin, exp, 1, act=act) if exp != cin else nn.Identity()
        self.dw = ConvBNAct(exp, exp, k, stride, groups=exp, act=act)
        self.se = SqueezeExcite(exp) if se else nn.Identity()
        self.project = ConvBNAct(exp, cout, 1, act=None)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.se(self.dw(self.expand(x))))
        return x + y if self.residual else y


class MobileNetV3Large(nn.Module):
    channels = (40, 112, 960)

    def __init__(self):
        super().__init__()
        self.stem = ConvBNAct(3, 16, 3, 2, act=nn.Hardswish)
        cin, blocks = 16, []
        for k, exp, cout, se, hs, stride in LARGE:
            blocks.append(InvertedResidual(cin, k, exp, cout, se, hs, stride))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.head = ConvBNAct(160, 960, 1, act=nn.Hardswish)
        self._taps = (5, 11)  # last block at stride 8 and at stride 16

    def forward(self, x):
        x = self.stem(x)
        feats = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self._taps:
                feats.append(x)
        feats.append(self.head(x))
        return feats


def mobilenetv3_large(pretrained: bool = False) -> MobileNetV3Large:
    if pretrained:
        raise ValueError("mobilenetv3_large: no ImageNet weights are available offline; train from scratch")
    return MobileNetV3Large()
