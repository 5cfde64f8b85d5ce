"""The BlazeFace network on MNN's session API: one (192, 192, 3) input in, raw regressors and
score logits out. MNN only (no torch, no MNN.tools); the file is the converted TFLite model,
whose tensors keep TensorFlow's NHWC layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lmk.runtime.mnn_runner import import_mnn, native_output_dropped

HERE = Path(__file__).resolve().parent
MODEL_FILE = HERE / "blazeface_full_range.mnn"
REGRESSORS = "reshaped_regressor_face_4"
CLASSIFIER = "reshaped_classifier_face_4"


def normalize(image_rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float32 in [-1, 1], the range the BlazeFace models were trained on."""
    return image_rgb.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


class BlazeFaceNet:
    """One MNN session of a BlazeFace file; calls run one image at a time."""

    def __init__(self, path: Path = MODEL_FILE, threads: int = 1):
        self.MNN = import_mnn()
        self.path = Path(path)
        if not self.path.is_file():
            raise ValueError(f"{self.path}: face detector model not found (see benchmarks/detector_model.py)")
        try:
            with native_output_dropped():
                self.interp = self.MNN.Interpreter(str(self.path))
                self.session = self.interp.createSession({"numThread": max(1, int(threads))})
        except Exception as exc:
            raise ValueError(f"{self.path}: not a readable MNN model ({str(exc).split('.')[0]})") from None
        self.input = self.interp.getSessionInput(self.session)
        shape = tuple(self.input.getShape())
        if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or shape[1] != shape[2]:
            raise ValueError(f"{self.path}: input shape {shape}, expected (1, S, S, 3) (a BlazeFace model)")
        self.size = int(shape[1])
        outputs = self.interp.getSessionOutputAll(self.session)
        if REGRESSORS not in outputs or CLASSIFIER not in outputs:
            raise ValueError(f"{self.path}: outputs {sorted(outputs)}, expected {REGRESSORS} and {CLASSIFIER}")
        self.num_anchors = int(outputs[REGRESSORS].getShape()[1])

    def _read(self, name: str) -> np.ndarray:
        out = self.interp.getSessionOutput(self.session, name)
        shape = out.getShape()
        host = self.MNN.Tensor(
            shape, self.MNN.Halide_Type_Float, np.zeros(shape, np.float32), self.MNN.Tensor_DimensionType_Tensorflow
        )
        out.copyToHostTensor(host)
        return np.array(host.getNumpyData(), dtype=np.float32).reshape(shape)

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(regressors (N, 16), logits (N,)) for one normalised (S, S, 3) float32 input."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.shape != (self.size, self.size, 3):
            raise ValueError(f"{self.path}: input {x.shape}, expected ({self.size}, {self.size}, 3)")
        tmp = self.MNN.Tensor(
            (1, self.size, self.size, 3), self.MNN.Halide_Type_Float, x[None], self.MNN.Tensor_DimensionType_Tensorflow
        )
        self.input.copyFrom(tmp)
        self.interp.runSession(self.session)
        return self._read(REGRESSORS)[0], self._read(CLASSIFIER)[0, :, 0]
