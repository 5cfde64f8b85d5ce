"""Where the detector looks: the whole image and overlapping square tiles, each letterboxed
(scaled to fit, padded black, centred) into the model's square input, and the exact way back.

Pixel convention: pixel centres at integer coordinates, so an image of width W spans
[-0.5, W - 0.5]. The model's relative coordinates u in [0, 1] span its input's outer edges.
numpy + OpenCV only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Tile:
    """A pixel range of the image: columns x0 .. x1 - 1, rows y0 .. y1 - 1."""

    x0: int
    y0: int
    x1: int
    y1: int


def axis_starts(length: int, tile: int, overlap: float) -> list[int]:
    """Evenly spaced tile starts covering [0, length) with at least `overlap` (fraction of the tile)
    shared between neighbours."""
    if tile >= length:
        return [0]
    step = tile * (1.0 - overlap)
    count = math.ceil((length - tile) / step) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def plan_tiles(width: int, height: int, grid: int, overlap: float) -> list[Tile]:
    """Tiles of one pass. `grid` 1: the whole image. `grid` n >= 2: square tiles, n of them along the
    longer side with neighbours sharing `overlap` of a tile, as many as needed along the shorter
    side (a tile is cut to the image where the image is narrower than it)."""
    if grid < 1 or not 0.0 <= overlap < 1.0:
        raise ValueError(f"tile grid {grid} / overlap {overlap}: need grid >= 1 and 0 <= overlap < 1")
    if grid == 1:
        return [Tile(0, 0, width, height)]
    side = math.ceil(max(width, height) / (grid - (grid - 1) * overlap))
    xs, ys = axis_starts(width, side, overlap), axis_starts(height, side, overlap)
    return [Tile(x, y, min(x + side, width), min(y + side, height)) for y in ys for x in xs]


@dataclass(frozen=True)
class Letterbox:
    """How one tile sits in the model input: scaled by (sx, sy) (the resized size over the tile
    size; equal up to rounding) and shifted by (pad_x, pad_y) input pixels."""

    tile: Tile
    size: int
    sx: float
    sy: float
    pad_x: int
    pad_y: int

    def to_image(self, rel: np.ndarray) -> np.ndarray:
        """Input-relative (..., 2) coordinates -> image pixel coordinates."""
        rel = np.asarray(rel, dtype=np.float64)
        x = self.tile.x0 + (rel[..., 0] * self.size - self.pad_x) / self.sx - 0.5
        y = self.tile.y0 + (rel[..., 1] * self.size - self.pad_y) / self.sy - 0.5
        return np.stack([x, y], axis=-1)

    def boxes_to_image(self, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) input-relative x0, y0, x1, y1 -> image pixels."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 2, 2)
        return self.to_image(b).reshape(-1, 4)


def letterbox(image: np.ndarray, tile: Tile, size: int) -> tuple[np.ndarray, Letterbox]:
    """(size x size x 3 uint8 model input, its Letterbox) for one tile of an RGB image. Shrinking
    uses area averaging (no aliasing of small faces), enlarging bilinear interpolation."""
    crop = image[tile.y0 : tile.y1, tile.x0 : tile.x1]
    th, tw = crop.shape[:2]
    k = size / max(tw, th)
    rw, rh = max(1, min(size, round(tw * k))), max(1, min(size, round(th * k)))
    interp = cv2.INTER_AREA if k < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(crop, (rw, rh), interpolation=interp) if (rw, rh) != (tw, th) else crop
    pad_x, pad_y = (size - rw) // 2, (size - rh) // 2
    canvas = np.zeros((size, size, 3), dtype=np.uint8)
    canvas[pad_y : pad_y + rh, pad_x : pad_x + rw] = resized
    return canvas, Letterbox(tile, size, rw / tw, rh / th, pad_x, pad_y)
