"""Face detection for lmk: BlazeFace full range (Google, Apache-2.0) on MNN, decoded in numpy,
with tiling for small faces and a fitted map to the landmark models' crop box. No torch."""

from lmk.detect.detector import Detection, Detector, DetectorOptions, load_detector
from lmk.detect.mapping import BoxMapping, load_box_mapping

__all__ = ["BoxMapping", "Detection", "Detector", "DetectorOptions", "load_box_mapping", "load_detector"]
