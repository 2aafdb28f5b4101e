"""Box-mean and min/max filters over the last two axes, edges extended (``mode="nearest"``).

Covers the three neighbourhood filters the pressure-centre finder needs, written with NumPy
because importing ``scipy.ndimage`` costs about a third of a second, which is more than the
filters themselves take and a large share of ``fathom shipping stats`` on one run. The results
are bit-for-bit those of ``scipy.ndimage.uniform_filter`` / ``minimum_filter`` /
``maximum_filter`` with ``mode="nearest"`` and the same sizes (pinned by a test against SciPy):
the box mean is a running sum in float64 along each axis in turn, divided by the window length,
and stored in the input's dtype after each axis, as SciPy's ``uniform_filter1d`` does.

Inputs must be finite (the caller fills gaps first): NaN handling differs from SciPy's.
Not covered: other edge modes, origins, footprints or the time axis (sizes are per spatial axis).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = ["box_mean", "maximum_filter", "minimum_filter"]


def _padded(x: NDArray[np.floating], size: int, axis: int) -> NDArray[np.floating]:
    half = size // 2
    pad = [(0, 0)] * x.ndim
    pad[axis] = (half, size - half - 1)
    return np.pad(x, pad, mode="edge")


def _box_mean_1d(x: NDArray[np.floating], size: int, axis: int) -> NDArray[np.floating]:
    line = np.moveaxis(_padded(x.astype(np.float64), size, axis), axis, -1)
    first = np.cumsum(line[..., :size], axis=-1)[..., -1:]  # summed in order, as SciPy does
    running = np.cumsum(np.concatenate([first, line[..., size:] - line[..., :-size]], axis=-1), axis=-1)
    return np.moveaxis(running / size, -1, axis).astype(x.dtype)


def box_mean(x: NDArray[np.floating], size: tuple[int, int]) -> NDArray[np.floating]:
    """Mean over a ``size`` window of the last two axes, centred (odd sizes), edges extended.

    >>> box_mean(np.array([[1.0, 2.0, 3.0, 10.0]]), (1, 3))
    array([[1.33333333, 2.        , 5.        , 7.66666667]])
    """
    out = x
    for axis, n in zip((x.ndim - 2, x.ndim - 1), size, strict=True):
        if n > 1:
            out = _box_mean_1d(out, n, axis)
    return out


def _extreme(x: NDArray[np.floating], size: tuple[int, int],
             pick: Callable[..., NDArray[np.floating]]) -> NDArray[np.floating]:
    out = x
    for axis, n in zip((x.ndim - 2, x.ndim - 1), size, strict=True):
        if n > 1:
            padded = np.moveaxis(_padded(out, n, axis), axis, -1)
            length = padded.shape[-1] - n + 1
            acc = padded[..., :length].copy()
            for k in range(1, n):  # one pass per offset: contiguous, and far faster than a strided reduce
                pick(acc, padded[..., k:k + length], out=acc)
            out = np.moveaxis(acc, -1, axis)
    return out


def minimum_filter(x: NDArray[np.floating], size: tuple[int, int]) -> NDArray[np.floating]:
    """Minimum over a ``size`` window of the last two axes, edges extended.

    >>> minimum_filter(np.array([[3.0, 1.0, 4.0, 1.5, 9.0]]), (1, 3))
    array([[1. , 1. , 1. , 1.5, 1.5]])
    """
    return _extreme(x, size, np.minimum)


def maximum_filter(x: NDArray[np.floating], size: tuple[int, int]) -> NDArray[np.floating]:
    """Maximum over a ``size`` window of the last two axes, edges extended."""
    return _extreme(x, size, np.maximum)
