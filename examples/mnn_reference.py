"""lmk's inference path in numpy + MNN alone (no lmk, no OpenCV): a reference to port line by line.

    python examples/mnn_reference.py MODEL.mnn IMAGE X0,Y0,X1,Y1    # prints 98 "x y" lines

Every step follows the file's metadata (MODEL.mnn.json, docs/contract.md): a square window on the
detector box, a bilinear crop with pixel centres at integers, (pixel / 255 - mean) / std in RGB and
NCHW, then the output's crop_normalized (u, v) mapped back to image pixels.
"""

import json
import sys

import MNN
import numpy as np


def crop(image: np.ndarray, cx: float, cy: float, side: float, size: int) -> np.ndarray:
    """Bilinear square crop, black outside, in float32 as OpenCV's warpAffine computes it: input pixel
    p samples the image at x = cx - side/2 + (p + 0.5) * side / size (pixel centres at integers)."""
    step = np.float32(side / size)
    xs = np.float32(cx - side / 2 + 0.5 * step) + np.arange(size, dtype=np.float32) * step
    ys = np.float32(cy - side / 2 + 0.5 * step) + np.arange(size, dtype=np.float32) * step
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = (xs - x0)[None, :, None], (ys - y0)[:, None, None]
    h, w = image.shape[:2]

    def at(yi, xi):  # pixels outside the image are black
        ok = ((yi >= 0) & (yi < h))[:, None] & ((xi >= 0) & (xi < w))[None, :]
        return image[np.clip(yi, 0, h - 1)][:, np.clip(xi, 0, w - 1)].astype(np.float32) * ok[..., None]

    top = at(y0, x0) + (at(y0, x0 + 1) - at(y0, x0)) * fx
    bottom = at(y0 + 1, x0) + (at(y0 + 1, x0 + 1) - at(y0 + 1, x0)) * fx
    return np.clip(np.rint(top + (bottom - top) * fy), 0, 255).astype(np.uint8)


def landmarks(model_path: str, image_rgb: np.ndarray, box) -> np.ndarray:
    with open(model_path + ".json") as f:  # the sidecar: crop recipe and normalisation
        meta = json.load(f)
    size, enlarge = meta["input"]["shape"][-1], meta["crop"]["enlarge"]
    x0, y0, x1, y1 = box
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, enlarge * max(x1 - x0, y1 - y0)
    x = crop(image_rgb, cx, cy, side, size).astype(np.float32) / meta["input"]["scale"]
    x = (x - np.float32(meta["input"]["mean"])) / np.float32(meta["input"]["std"])
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)  # 1 x 3 x H x W
    interp = MNN.Interpreter(model_path)
    session = interp.createSession({"numThread": 1})
    inp = interp.getSessionInput(session)
    inp.copyFrom(MNN.Tensor(inp.getShape(), MNN.Halide_Type_Float, x, MNN.Tensor_DimensionType_Caffe))
    interp.runSession(session)
    out = interp.getSessionOutput(session, "landmarks")
    host = MNN.Tensor(out.getShape(), MNN.Halide_Type_Float, np.zeros(out.getShape(), np.float32),
                      MNN.Tensor_DimensionType_Caffe)  # fmt: skip
    out.copyToHostTensor(host)
    uv = np.array(host.getNumpyData(), dtype=np.float64).reshape(-1, 2)
    return np.stack([cx - side / 2 + uv[:, 0] * side, cy - side / 2 + uv[:, 1] * side], axis=1)


if __name__ == "__main__":
    import MNN.cv as cv

    rgb = np.ascontiguousarray(np.asarray(cv.imread(sys.argv[2]).read())[..., ::-1])  # MNN.cv reads BGR
    for px, py in landmarks(sys.argv[1], rgb, [float(v) for v in sys.argv[3].split(",")]):
        print(f"{px:.3f} {py:.3f}")
