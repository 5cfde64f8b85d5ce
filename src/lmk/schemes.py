"""Landmark conventions from PROTOCOL.md: flip permutations, normalising points, 98->68 mapping.

Pure Python so that every layer (data, metrics, runtime) can import it without torch.
"""

from __future__ import annotations

from dataclasses import dataclass


def _wflw_flip() -> list[int]:
    pairs = [(i, 32 - i) for i in range(16)]
    pairs += [(33, 46), (34, 45), (35, 44), (36, 43), (37, 42), (38, 50), (39, 49), (40, 48), (41, 47)]
    pairs += [(55, 59), (56, 58)]
    pairs += [(60, 72), (61, 71), (62, 70), (63, 69), (64, 68), (65, 75), (66, 74), (67, 73)]
    pairs += [(76, 82), (77, 81), (78, 80), (83, 87), (84, 86), (88, 92), (89, 91), (93, 95)]
    pairs += [(96, 97)]
    perm = list(range(98))
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return perm


def _w300_flip() -> list[int]:
    pairs = [(i, 16 - i) for i in range(8)]
    pairs += [(17 + i, 26 - i) for i in range(5)]
    pairs += [(31, 35), (32, 34)]
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67)]
    perm = list(range(68))
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return perm


# index in 68 <- index in 98 (PROTOCOL.md)
MAP_98_TO_68: list[int] = (
    list(range(0, 33, 2))
    + list(range(33, 38))
    + list(range(42, 47))
    + list(range(51, 60))
    + [60, 61, 63, 64, 65, 67]
    + [68, 69, 71, 72, 73, 75]
    + list(range(76, 96))
)

# 300-W's 68 points by face region: the jaw is where the 98->68 mapping and the annotation
# conventions differ most, so accuracy is reported (and WFLW labels trusted) per region
REGIONS_68: dict[str, range] = {
    "jaw": range(0, 17),
    "brows": range(17, 27),
    "nose": range(27, 36),
    "eyes": range(36, 48),
    "mouth": range(48, 68),
}

WFLW_ATTRIBUTES: tuple[str, ...] = ("pose", "expression", "illumination", "makeup", "occlusion", "blur")


def attribute_flags(attributes: dict[str, int]) -> list[bool]:
    """One flag per WFLW_ATTRIBUTES entry; a face with any flag set is a 'hard' face (as every WFLW
    test face is). The one definition for scoring subsets and for oversampling in training."""
    return [attributes.get(n, 0) == 1 for n in WFLW_ATTRIBUTES]


@dataclass(frozen=True)
class Scheme:
    """A landmark scheme: how many points, how they mirror, which two points normalise NME."""

    name: str
    num_points: int
    flip: tuple[int, ...]
    norm_points: tuple[int, int]


SCHEMES: dict[str, Scheme] = {
    "wflw98": Scheme("wflw98", 98, tuple(_wflw_flip()), (60, 72)),
    "300w68": Scheme("300w68", 68, tuple(_w300_flip()), (36, 45)),
}
