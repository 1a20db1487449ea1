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
- undissolved alumina stays in the zone it fell in and dissolves there at the cell's rate;
- consumption is even over the anode area, so it moves no deviation;
- neighbouring zones exchange dissolved alumina first order, time constant P_ZONE_MIXING_TIME [A: the
  exchange is the parameter to calibrate against sampled zone alumina];
- the quench stirs the bath (beam pumping), leaving the zones even.
"""
from twin._core.bath cimport ALUMINA_PER_NA2O, fmax, fmin
from twin._core.layout cimport *


cdef inline double zone_dose(const double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k, Py_ssize_t z) noexcept nogil:
    """Share of the cell-wide shot that feeder z delivers into its zone."""
    return p[P_FEEDER_DOSE + z, k] * x[X_FEEDER + z, k] / p[P_ZONES, k]


cdef inline double delivered_share(const double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k) noexcept nogil:
    """Share of a cell-wide shot that reaches the bath (1 with every feeder sound and on its design dose)."""
    cdef Py_ssize_t z, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef double total = 0.0
    for z in range(nz):
        total = total + zone_dose(x, p, k, z)
    return total


cdef inline void zones_dissolve(double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k, double decay) noexcept nogil:
    """The zones' undissolved deviations over a step of pool decay ``decay``: what dissolves stays in its zone."""
    cdef Py_ssize_t z, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef double u
    if nz < 2:
        return
    for z in range(nz):
        u = x[X_ZONE_UNDISSOLVED + z, k]
        x[X_ZONE_UNDISSOLVED + z, k] = u * decay
        x[X_ZONE_DISSOLVED + z, k] += u * (1.0 - decay)


cdef inline void zones_fed(double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k, double mass,
                           double carry) noexcept nogil:
    """Deviations from ``mass`` kg (as fed) delivered cell-wide by one shot (or a step of continuous
    feed), of whose undissolved part the share ``carry`` is still undissolved at the end of the step."""
    cdef Py_ssize_t z, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef double w = p[P_NA2O, k], r = p[P_UNDISSOLVED_FRAC, k]
    cdef double mean, extra
    if nz < 2:
        return
    mean = delivered_share(x, p, k) / nz
    for z in range(nz):
        extra = mass * (zone_dose(x, p, k, z) - mean)
        x[X_ZONE_UNDISSOLVED + z, k] += extra * r * (1.0 - w) * carry
        x[X_ZONE_DISSOLVED + z, k] += extra * ((1.0 - w) * (1.0 - r * carry) + w * ALUMINA_PER_NA2O)


cdef inline void zones_mix(double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k, double dt) noexcept nogil:
    """Exchange of dissolved alumina between neighbouring zones over ``dt`` (explicit; the configuration
    keeps dt / mixing time <= 0.25, well inside the chain's stability limit of 0.5)."""
    cdef Py_ssize_t z, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef double m = dt / p[P_ZONE_MIXING_TIME, k]
    cdef double flow[MAX_ZONES]
    if nz < 2:
        return
    for z in range(nz - 1):         # from zone z to zone z + 1
        flow[z] = m * (x[X_ZONE_DISSOLVED + z, k] - x[X_ZONE_DISSOLVED + z + 1, k])
    for z in range(nz - 1):
        x[X_ZONE_DISSOLVED + z, k] -= flow[z]
        x[X_ZONE_DISSOLVED + z + 1, k] += flow[z]


cdef inline void zones_stirred(double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k) noexcept nogil:
    """Beam pumping at a quench mixes the bath: dissolved alumina even over the zones."""
    cdef Py_ssize_t z
    for z in range(MAX_ZONES):
        x[X_ZONE_DISSOLVED + z, k] = 0.0


cdef inline void zone_alumina(const double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, Py_ssize_t k,
                              double mean_wt, double bath) noexcept nogil:
    """Leanest zone's alumina (wt %) and the LVAE index from the zones' alumina, given the cell's mean
    alumina ``mean_wt`` and bath mass ``bath`` (kg). The LVAE index is the zones' mean depth below
    P_LVAE_ALUMINA, 1 at the AE alumina (a zone at it would be on a full anode effect)."""
    cdef Py_ssize_t z, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef double c, lowest = mean_wt, index = 0.0
    cdef double span = 1.0 / fmax(p[P_LVAE_ALUMINA, k] - p[P_AE_ALUMINA, k], 1e-6)
    for z in range(nz):
        c = mean_wt + 100.0 * nz * x[X_ZONE_DISSOLVED + z, k] / bath if nz > 1 else mean_wt
        lowest = fmin(lowest, c)
        index = index + fmin(fmax((p[P_LVAE_ALUMINA, k] - c) * span, 0.0), 1.0)
    a[A_ALUMINA_MIN, k] = fmax(lowest, 1e-3)
    a[A_LVAE, k] = index / nz
