"""ResNet-18 in plain torch (torchvision layout), returning features at strides 8, 16, 32."""

from __future__ import annotations

from torch import nn

from lmk.models.layers import ConvBNAct


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = ConvBNAct(cin, cout, 3, stride)
        self.conv2 = ConvBNAct(cout, cout, 3, act=None)
        self.down = ConvBNAct(cin, cout, 1, stride, act=None) if stride != 1 or cin != cout else nn.Identity()
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(self.conv2(self.conv1(x)) + self.down(x))


class ResNet18(nn.Module):
    channels = (128, 256, 512)

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(ConvBNAct(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1))
        widths, cin, layers = (64, 128, 256, 512), 64, []
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            layers.append(nn.Sequential(BasicBlock(cin, w, stride), BasicBlock(w, w, 1)))
            cin = w
        self.layers = nn.ModuleList(layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.layers[0](self.stem(x))
        f8 = self.layers[1](x)
        f16 = self.layers[2](f8)
        return [f8, f16, self.layers[3](f16)]


def resnet18(pretrained: bool = False) -> ResNet18:
    if pretrained:
        raise ValueError("resnet18: no ImageNet weights are available offline; train from scratch")
    return ResNet18()
