"""Type stub of the compiled potline kernel (twin/_core/pot.pyx)."""
import numpy as np
from numpy.typing import NDArray

STATE_NAMES: tuple[str, ...]
PARAM_NAMES: tuple[str, ...]
AUX_NAMES: tuple[str, ...]
SUM_NAMES: tuple[str, ...]
COUNTER_NAMES: tuple[str, ...]
LINE_NAMES: tuple[str, ...]
LINE_PARAM_NAMES: tuple[str, ...]

ALUMINA_ZONES_MAX: int
AL_KG_PER_COULOMB: float
ALUMINA_KG_PER_COULOMB: float
CARBON_KG_PER_COULOMB: float

Block = NDArray[np.float64]

def add_alumina(x: Block, p: Block, ctr: Block, cells: NDArray[np.intp], mass: float) -> None: ...
def nominal_feed(p: Block, current: NDArray[np.float64]) -> Block: ...
def quench_by_hand(x: Block, p: Block, a: Block, ctr: Block, cells: NDArray[np.intp], mass: float) -> None: ...
def refresh(x: Block, p: Block, a: Block, cells: NDArray[np.intp]) -> None: ...
def prepare(x: Block, p: Block, a: Block, ctr: Block, line: Block, line_start: NDArray[np.intp]) -> None: ...
def advance(x: Block, p: Block, a: Block, s: Block, ctr: Block, line: Block, line_p: Block,
            line_start: NDArray[np.intp], n_slow: int, n_sub: int, dt: float,
            continuous_feed: bool = False, num_threads: int = 0) -> None: ...
def cell_rhs(x: Block, p: Block, a: Block, current: float) -> Block: ...
def measurement_noise(seed: float, n: int, first: float = 0.0) -> Block: ...
def openmp_enabled() -> bool: ...
