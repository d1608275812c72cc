"""Packing metric series into chunk rows and back: little-endian float64/int64 arrays."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence

__all__ = ["decimate", "pack_floats", "pack_ints", "unpack_floats", "unpack_ints"]

_SWAP = sys.byteorder != "little"


def pack_floats(values: Sequence[float]) -> bytes:
    """float64 little-endian bytes; NaN and infinities are kept bit for bit."""
    arr = array("d", values)
    if _SWAP:
        arr.byteswap()
    return arr.tobytes()


def pack_ints(values: Sequence[int]) -> bytes:
    """int64 little-endian bytes."""
    arr = array("q", values)
    if _SWAP:
        arr.byteswap()
    return arr.tobytes()


def unpack_floats(data: bytes) -> array[float]:
    """The inverse of ``pack_floats``."""
    arr = array("d")
    arr.frombytes(data)
    if _SWAP:
        arr.byteswap()
    return arr


def unpack_ints(data: bytes) -> array[int]:
    """The inverse of ``pack_ints``."""
    arr = array("q")
    arr.frombytes(data)
    if _SWAP:
        arr.byteswap()
    return arr


def decimate(n: int, values: Sequence[float], max_points: int) -> list[int]:
    """Indices of at most about ``max_points`` points that keep each bucket's first, min and max.

    Min/max per bucket keeps spikes visible in a chart, unlike plain striding; NaN points are kept
    when a bucket has nothing else, so gaps stay visible.
    """
    if max_points <= 0 or n <= max_points:
        return list(range(n))
    buckets = max(1, max_points // 3)
    size = n / buckets
    keep: list[int] = []
    for b in range(buckets):
        lo, hi = int(b * size), min(n, int((b + 1) * size))
        if lo >= hi:
            continue
        i_min = i_max = lo
        for i in range(lo, hi):
            v = values[i]
            if v != v:  # NaN
                continue
            vmin, vmax = values[i_min], values[i_max]
            if vmin != vmin or v < vmin:
                i_min = i
            if vmax != vmax or v > vmax:
                i_max = i
        keep.extend(sorted({lo, i_min, i_max}))
    if keep[-1] != n - 1:
        keep.append(n - 1)
    return keep
