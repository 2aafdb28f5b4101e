"""The NumPy neighbourhood filters of the pressure-centre finder are SciPy's, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from fathom.domains.shipping.stats._filters import box_mean, maximum_filter, minimum_filter


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("w", [3, 5, 23, 25])
def test_filters_equal_scipy_nearest(dtype: type, w: int) -> None:
    rng = np.random.default_rng(w)
    x = (1000 + 30 * rng.standard_normal((3, 41, 57))).astype(dtype)
    assert np.array_equal(box_mean(x, (w, w)), ndimage.uniform_filter(x, size=(1, w, w), mode="nearest"))
    assert np.array_equal(minimum_filter(x, (w, w)), ndimage.minimum_filter(x, size=(1, w, w), mode="nearest"))
    assert np.array_equal(maximum_filter(x, (w, w)), ndimage.maximum_filter(x, size=(1, w, w), mode="nearest"))
    assert box_mean(x, (w, w)).dtype == x.dtype


def test_one_run_of_stats_imports_no_scipy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With the area labels cached, `shipping stats` on one run needs neither dask nor SciPy."""
    import subprocess
    import sys
    from datetime import datetime

    from fathom.domains.shipping import write_runs

    run = write_runs(datetime(2025, 1, 5), 1, tmp_path / "nwp", seed=1, resolution=0.5, runs_per_day=1)[0]
    code = ("import sys; from fathom.cli import main\n"
            "try:\n    main(['shipping', 'stats', sys.argv[1], '--out', sys.argv[2]])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('dask', 'scipy', 'distributed') if sys.modules.get(m) is not None))")
    for _ in range(2):  # the first run fills the label cache (SciPy's graph code), the second uses it
        done = subprocess.run([sys.executable, "-c", code, str(run), str(tmp_path / "s.json")],
                              capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
