"""Smooth random fields that are analytic in space and time, for the synthetic model.

Covers: :func:`moving_noise`, a sum of random plane waves drifting with a mean velocity and
evolving at random frequencies. Because the value at any place and time is a closed-form function
of the seed, two runs that share an hour see exactly the same field, which is what keeps
consecutive synthetic runs consistent.

Not covered: the physics the fields modulate (``nwp._weather``).

>>> import numpy as np
>>> lat, lon, t = np.arange(40.0, 50.0), np.arange(-10.0, 0.0), np.array([0.0, 1.0])
>>> a = moving_noise(7, 1, lat, lon, t, scale_km=300.0)
>>> a.shape, bool(np.array_equal(a, moving_noise(7, 1, lat, lon, t, scale_km=300.0)))
((2, 10, 10), True)
"""

from __future__ import annotations

import numpy as np

__all__ = ["moving_noise"]

_KM_PER_DEG = 111.32
_COS_REF = float(np.cos(np.radians(50.0)))
"""East distances use one reference latitude so that every wave separates into row x column."""


def moving_noise(seed: int, tag: int, lat: np.ndarray, lon: np.ndarray, hours: np.ndarray, *,
                 scale_km: float, modes: int = 48, drift_kmh: tuple[float, float] = (25.0, 5.0),
                 life_h: float = 24.0) -> np.ndarray:
    """A zero-mean, unit-variance random field on ``hours x lat x lon`` (float32).

    Args:
        seed: the run's weather seed.
        tag: which field (each physical use has its own tag, so fields are independent).
        lat: row latitudes (degrees).
        lon: column longitudes (degrees).
        hours: times in hours since the generator's epoch.
        scale_km: typical wavelength of the features.
        modes: number of plane waves (more is more isotropic and Gaussian).
        drift_kmh: mean east and north motion of the pattern.
        life_h: typical time for the pattern to change in place (beyond the drift).

    Returns:
        Array of shape ``(hours.size, lat.size, lon.size)``.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x6E6F, tag]))
    k = 2 * np.pi / (scale_km * rng.uniform(0.7, 1.4, modes))
    theta = rng.uniform(0, 2 * np.pi, modes)
    kx, ky = k * np.cos(theta), k * np.sin(theta)
    omega = rng.normal(0.0, 2 * np.pi / life_h / 2, modes)
    phase0 = rng.uniform(0, 2 * np.pi, modes)
    x = np.asarray(lon, float) * _KM_PER_DEG * _COS_REF
    y = np.asarray(lat, float) * _KM_PER_DEG
    ex = np.exp(1j * np.outer(kx, x)).astype(np.complex64)  # (modes, lon)
    ey = np.exp(1j * np.outer(y, ky)).astype(np.complex64)  # (lat, modes)
    t = np.asarray(hours, float)
    phase = np.mod(phase0[None, :] - np.outer(t, kx * drift_kmh[0] + ky * drift_kmh[1] + omega),
                   2 * np.pi)
    amp = (np.exp(1j * phase) * np.sqrt(2.0 / modes)).astype(np.complex64)  # (time, modes)
    weights = (amp[:, None, :] * ey[None, :, :]).reshape(-1, modes)  # (time * lat, modes)
    out = np.real(weights @ ex)  # one matrix product: fast even where BLAS threads are contended
    return out.reshape(t.size, y.size, x.size)
