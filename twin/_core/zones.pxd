# cython: language_level=3
"""Alumina zones of a cell: one per feeder group, exchanging dissolved alumina with their neighbours.

Point-fed cells are not stirred tanks: the anodes act as baffles and each feeder serves its part of the
cell, so alumina is leaner far from a feeder and a choked or blocked feeder leaves its zone to run down
(smelter notes sec. 2.14, Welch 2008; Yao 2017 and Dion et al. 2018 need 2-4 zones with exchange
coefficients for AE and LVAE realism). The zones are equal shares of the bath in a row along the cell;
the cell's pools stay the conserved totals and each zone carries its deviation from an equal share (kg),
so everything that sees the whole cell (conductivity, back EMF, balances, taps) is unchanged:
- a shot gives each zone its feeder's dose (design dose x the feeder's own dose factor x the share it
  delivers: 1 sound, 0 blocked); what a zone gets above the mean is its deviation;
- undissolved alumina stays in the zone it fell in and dissolves there at the cell's rate. Both are
  linear in the doses with the feeders fixed over a kernel call, so the fast steps only accumulate the
  dosed mass, the dissolution's decay and the dosed mass still undissolved (three numbers), and the slow
  step moves the zones exactly as step-by-step updates would;
- consumption is even over the anode area, so it moves no deviation;
- neighbouring zones exchange dissolved alumina first order, time constant P_ZONE_MIXING_TIME [A: the
  exchange is the parameter to calibrate against sampled zone alumina] (slow step: minutes);
- the quench stirs the bath (beam pumping), leaving the zones even.
The leanest zone's offset from the cell's mean and the LVAE index are refreshed at the slow step (the
offsets move over minutes); the anode-effect onset adds that offset to the cell's alumina of each step.
"""
from libc.math cimport ceil

from twin._core.bath cimport fmax, fmin
from twin._core.feed cimport impurities, alumina_formed
from twin._core.layout cimport *


cdef inline double delivered_share(const double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k) noexcept nogil:
    """Share of a cell-wide shot that reaches the bath (1 with every feeder sound and on its design dose)."""
    cdef Py_ssize_t z, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef double total = 0.0
    for z in range(nz):
        total = total + p[P_FEEDER_DOSE + z, k] * x[X_FEEDER + z, k]
    return total / nz


cdef inline void zones_accumulate(double[:, ::1] a, Py_ssize_t k, double decay, double dosed,
                                  double dosed_carry) noexcept nogil:
    """One fast step into the slow step's sums: the pool's decay ``decay``; ``dosed`` kg dosed cell-wide, of
    which ``dosed_carry`` (each shot's mass x the share of its undissolved part left at the step's end)."""
    a[A_ZONE_DECAY, k] *= decay
    a[A_ZONE_CARRY, k] = a[A_ZONE_CARRY, k] * decay + dosed_carry
    a[A_ZONE_DOSED, k] += dosed


cdef inline void zones_step(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, Py_ssize_t k) noexcept nogil:
    """The zones' deviations over the slow step from its sums: their undissolved alumina decays into their
    own dissolved alumina, and the step's doses give each zone its feeder's share above or below the mean.
    The sums start again."""
    cdef Py_ssize_t z, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef double w = impurities(p, k), r = p[P_UNDISSOLVED_FRACTION, k]
    cdef double decay = a[A_ZONE_DECAY, k], dosed = a[A_ZONE_DOSED, k], carry = a[A_ZONE_CARRY, k]
    cdef double to_undissolved = r * (1.0 - w) * carry
    cdef double to_dissolved = (1.0 - w) * (dosed - r * carry) + alumina_formed(p, k) * dosed
    cdef double u, excess
    a[A_ZONE_DECAY, k] = 1.0
    a[A_ZONE_CARRY, k] = 0.0
    a[A_ZONE_DOSED, k] = 0.0
    if nz < 2:
        return
    for z in range(nz):
        excess = (p[P_FEEDER_DOSE + z, k] * x[X_FEEDER + z, k] - a[A_DELIVERED, k]) / nz
        u = x[X_ZONE_UNDISSOLVED + z, k]
        x[X_ZONE_UNDISSOLVED + z, k] = u * decay + excess * to_undissolved
        x[X_ZONE_DISSOLVED + z, k] += u * (1.0 - decay) + excess * to_dissolved


cdef inline void zones_mix(double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k, double dt) noexcept nogil:
    """Exchange of dissolved alumina between neighbouring zones over ``dt`` (explicit, in sub-steps of at most
    a quarter of the exchange time: well inside the chain's stability limit of a half)."""
    cdef Py_ssize_t z, i, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef Py_ssize_t n = <Py_ssize_t> ceil(4.0 * dt / p[P_ZONE_MIXING_TIME, k])
    cdef double m = dt / (n * p[P_ZONE_MIXING_TIME, k])
    cdef double flow[MAX_ZONES]
    if nz < 2:
        return
    for i in range(n):
        for z in range(nz - 1):         # from zone z to zone z + 1
            flow[z] = m * (x[X_ZONE_DISSOLVED + z, k] - x[X_ZONE_DISSOLVED + z + 1, k])
        for z in range(nz - 1):
            x[X_ZONE_DISSOLVED + z, k] -= flow[z]
            x[X_ZONE_DISSOLVED + z + 1, k] += flow[z]


cdef inline void zones_stirred(double[:, ::1] x, double[:, ::1] a, Py_ssize_t k) noexcept nogil:
    """Beam pumping at a quench mixes the bath: dissolved alumina even over the zones."""
    cdef Py_ssize_t z
    for z in range(MAX_ZONES):
        x[X_ZONE_DISSOLVED + z, k] = 0.0
    a[A_ZONE_OFFSET, k] = 0.0
    a[A_LVAE, k] = 0.0


cdef inline void zone_alumina(const double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, Py_ssize_t k,
                              double mean_wt, double bath) noexcept nogil:
    """The leanest zone's offset from the cell's alumina (wt %, <= 0) and the LVAE index, given the cell's
    alumina ``mean_wt`` and bath mass ``bath`` (kg). The LVAE index is the zones' mean depth below
    P_LVAE_ALUMINA, 1 at the AE alumina (a zone there would be on a full anode effect)."""
    cdef Py_ssize_t z, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef double offset, lowest = 0.0, index = 0.0
    cdef double span = 1.0 / fmax(p[P_LVAE_ALUMINA, k] - p[P_AE_ALUMINA, k], 1e-6)
    for z in range(nz):
        offset = 100.0 * nz * x[X_ZONE_DISSOLVED + z, k] / bath if nz > 1 else 0.0
        lowest = fmin(lowest, offset)
        index = index + fmin(fmax((p[P_LVAE_ALUMINA, k] - mean_wt - offset) * span, 0.0), 1.0)
    a[A_ZONE_OFFSET, k] = lowest
    a[A_LVAE, k] = index / nz
