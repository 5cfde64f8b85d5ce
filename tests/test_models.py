import numpy as np
import pytest
import torch

from lmk.models import BACKBONES, HEADS, ModelSpec, build_model
from lmk.models.efficientnet_lite import (
    VARIANTS,
    EfficientNetLite,
    lite_imagenet_path,
    load_lite_imagenet,
    map_lite_key,
)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_lite_key_mapping_covers_every_tensor(variant):
    """The stage tables must match the released checkpoints tensor for tensor (strict load)."""
    src = torch.load(lite_imagenet_path(variant), map_location="cpu", weights_only=True)
    mapped = {map_lite_key(k) for k in src} - {None}
    assert mapped == set(EfficientNetLite(VARIANTS[variant]).state_dict())
    assert map_lite_key("_blocks.3._depthwise_conv.weight") == "blocks.3.dw.conv.weight"
    assert map_lite_key("_fc.weight") is None
    model = EfficientNetLite(VARIANTS[variant])
    load_lite_imagenet(model, lite_imagenet_path(variant))  # strict: shapes too
    torch.testing.assert_close(model.blocks[3].dw.conv.weight, src["_blocks.3._depthwise_conv.weight"])
    torch.testing.assert_close(model.head.bn.running_var, src["_bn1.running_var"])


@pytest.mark.parametrize("cut", [4, 5])
def test_cut_lite0_takes_the_released_weights_of_the_layers_it_keeps(cut):
    """A cut backbone (the nano / small zoo models) keeps Lite0's first stages with their ImageNet
    weights, has no 1280-channel head conv, and ends at stride 16."""
    src = torch.load(lite_imagenet_path(0), map_location="cpu", weights_only=True)
    model = BACKBONES[f"efficientnet_lite0_cut{cut}"](pretrained=True).eval()
    assert model.head is None and model.stride == 16
    last = len(model.blocks) - 1
    torch.testing.assert_close(model.blocks[last].dw.conv.weight, src[f"_blocks.{last}._depthwise_conv.weight"])
    assert f"_blocks.{last + 1}._depthwise_conv.weight" in src  # the released net goes on: this one stops
    feats = model(torch.randn(1, 3, 96, 96))
    assert [f.shape[1] for f in feats] == list(model.channels) == [40, 80 if cut == 4 else 112]
    assert feats[-1].shape[-2:] == (6, 6)


def test_input_size_must_fit_the_backbone_stride():
    assert build_model(ModelSpec("efficientnet_lite0_cut4", "pipneck", 98, 112))(torch.zeros(1, 3, 112, 112)).shape == (
        1,
        98,
        2,
    )
    with pytest.raises(ValueError, match="multiple of 32"):
        build_model(ModelSpec("efficientnet_lite0", "pip32", 98, 112))


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
@pytest.mark.parametrize("head", sorted(HEADS))
def test_forward_shapes(backbone, head):
    model = build_model(ModelSpec(backbone, head, 98, 64)).eval()
    out = model(torch.randn(2, 3, 64, 64), return_aux=True)
    assert out["coords"].shape == (2, 98, 2)
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 98, 2)


def test_pip_argmax_decoding_matches_its_definition():
    model = build_model(ModelSpec("resnet18", "pip32", 98, 64)).eval()
    model.head.decode = "argmax"
    torch.nn.init.normal_(model.head.cls.weight, std=1.0)
    out = model(torch.randn(1, 3, 64, 64), return_aux=True)
    logits, off = out["logits"][0], out["offsets"][0]  # G = 2
    idx = logits.argmax(1)
    expect_u = ((idx % 2).float() + 0.5 + off[:, 0].gather(1, idx[:, None])[:, 0]) / 2
    expect_v = ((idx // 2).float() + 0.5 + off[:, 1].gather(1, idx[:, None])[:, 0]) / 2
    torch.testing.assert_close(out["coords"][0], torch.stack([expect_u, expect_v], 1))


def test_pip_soft_decoding_is_the_softmax_mean_of_cell_plus_offset():
    """Default decoding: softmax over all cells of (cell + offset)."""
    model = build_model(ModelSpec("resnet18", "pip", 98, 128)).eval()  # G = 8 (stride 16)
    torch.nn.init.normal_(model.head.cls.weight, std=1.0)
    torch.nn.init.normal_(model.head.off.weight, std=0.1)
    out = model(torch.randn(1, 3, 128, 128), return_aux=True)
    logits, off, g = out["logits"][0].double(), out["offsets"][0].double(), 8
    w = torch.softmax(logits, dim=1)
    ys, xs = torch.meshgrid(torch.arange(g), torch.arange(g), indexing="ij")
    u = ((xs.flatten() + 0.5 + off[:, 0]) * w).sum(1) / g
    v = ((ys.flatten() + 0.5 + off[:, 1]) * w).sum(1) / g
    torch.testing.assert_close(out["coords"][0].double(), torch.stack([u, v], 1), atol=1e-5, rtol=0)


def test_pip_local_decoding_matches_a_loop():
    """Softmax over the 3 x 3 cells around the argmax of (cell + offset)."""
    model = build_model(ModelSpec("resnet18", "pip", 98, 128)).eval()  # G = 8 (stride 16)
    model.head.decode = "local"
    torch.nn.init.normal_(model.head.cls.weight, std=1.0)
    torch.nn.init.normal_(model.head.off.weight, std=0.1)
    out = model(torch.randn(1, 3, 128, 128), return_aux=True)
    logits, off, g = out["logits"][0].double(), out["offsets"][0].double(), 8
    for p in range(98):
        c = int(logits[p].argmax())
        cy, cx = divmod(c, g)
        num, den = torch.zeros(2, dtype=torch.float64), 0.0
        for y in range(max(cy - 1, 0), min(cy + 2, g)):
            for x in range(max(cx - 1, 0), min(cx + 2, g)):
                k = y * g + x
                w = torch.exp(logits[p, k] - logits[p, c])
                num += w * torch.stack([x + 0.5 + off[p, 0, k], y + 0.5 + off[p, 1, k]]) / g
                den += w
        torch.testing.assert_close(out["coords"][0, p].double(), num / den, atol=1e-5, rtol=0)


def test_unknown_names_are_clear():
    with pytest.raises(ValueError, match="unknown backbone"):
        build_model(ModelSpec("vgg", "pip"))
    with pytest.raises(ValueError, match="unknown head"):
        build_model(ModelSpec("resnet18", "mlp"))


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_every_backbone_exports_to_onnx_and_mnn(backbone, tmp_path):
    """Cheap check that each architecture survives ONNX export and MNN conversion with parity."""
    from lmk.artifact import InputSpec, build_meta
    from lmk.export.onnx_export import export_onnx
    from lmk.mnn_tools import convert_mnn
    from lmk.runtime.mnn_runner import load_mnn_runner
    from lmk.runtime.ort_runner import load_ort_runner

    torch.manual_seed(0)
    for head in ("pip", "gap"):
        model = build_model(ModelSpec(backbone, head, 98, 64)).eval()
        if head == "pip":  # spread the logits so that argmax has no near-ties (random init has many)
            torch.nn.init.normal_(model.head.cls.weight, std=1.0)
            torch.nn.init.normal_(model.head.lateral.weight, std=1.0)
        meta = build_meta(InputSpec(size=64, mean=(0.5,) * 3, std=(0.5,) * 3))
        onnx_path = export_onnx(model, tmp_path / f"{head}.onnx", 64, meta)
        mnn_path = convert_mnn(onnx_path, tmp_path / f"{head}.mnn", meta)
        x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
        ref = model(torch.from_numpy(x)).detach().numpy()
        ort_run, ort_meta = load_ort_runner(onnx_path)
        mnn_run, mnn_meta = load_mnn_runner(mnn_path)
        assert ort_meta == meta and mnn_meta == meta
        # fp32 kernels sum in a CPU-dependent order (AVX2 or AVX-512 builds) and the spread random
        # weights make large activations: 5e-4 of the crop side, half the shipped files' parity bar
        np.testing.assert_allclose(ort_run(x), ref, atol=5e-4)
        np.testing.assert_allclose(mnn_run(x), ref, atol=5e-4)
