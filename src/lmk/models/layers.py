"""Small building blocks shared by the backbones (one activation module per use: PT2E needs it)."""

from __future__ import annotations

from torch import nn


def make_divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class ConvBNAct(nn.Sequential):
    """conv -> BN -> activation (or none); symmetric padding k // 2."""

    def __init__(
        self, cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act: type[nn.Module] | None = nn.ReLU
    ):
        layers: dict[str, nn.Module] = {
            "conv": nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
            "bn": nn.BatchNorm2d(cout),
        }
        if act is not None:
            layers["act"] = act(inplace=True) if act in (nn.ReLU, nn.ReLU6, nn.Hardswish) else act()
        super().__init__()
        for name, layer in layers.items():
            self.add_module(name, layer)
