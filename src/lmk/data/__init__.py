"""Data: readers for the official WFLW / 300-W layouts, the crop transform, augmentation.

Importing this package must not import torch (the runtime uses the crop code without it).
"""

from lmk.data.records import FaceRecord

__all__ = ["FaceRecord"]
