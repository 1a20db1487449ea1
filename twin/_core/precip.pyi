"""Type stub of the compiled precipitation kernel (twin/_core/precip.pyx)."""
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

GIBBSITE_DENSITY: float
GIBBSITE_AL2O3_FRACTION: float
HYDRATE_WATER_PER_AL2O3: float
TANK_ROWS: tuple[str, ...]
TRAIN_PARAMS: tuple[str, ...]
TOTALS: dict[str, int]
GROWTH_LAWS: tuple[str, ...]

def class_sizes(n_classes: int, smallest_um: float = 1.0) -> Array: ...
def advance(tank: Array, num: Array, sizes: Array, k: Array, cooled_to: Array, feed: Array, seed: Array,
            rh_params: Array, n_steps: int, dt: float, totals: Array, passed: Array) -> None: ...
