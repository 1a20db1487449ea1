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
  step gives each zone its share of them;
- consumption is even over the anode area, so it moves no deviation;
- neighbouring zones exchange dissolved alumina first order, time constant P_ZONE_MIXING_TIME [A: the
  exchange is the parameter to calibrate against sampled zone alumina] (minutes), solved exactly over the
  slow step with the step's gains coming at an even rate, so the zones do not depend on the step's length;
- the quench stirs the bath (beam pumping), leaving the zones even.
The leanest zone's offset from the cell's mean is refreshed at the slow step (the offsets move over
minutes); the anode-effect onset adds that offset to the cell's alumina of each step. The time a zone
spends below the LVAE alumina, and the LVAE index (the zones' mean depth below it, 1 at the AE alumina),
are integrated along the sub-steps, where each zone crosses, not sampled once per slow step.
"""
from libc.math cimport M_PI, ceil, cos, exp, sqrt

from twin._core.bath cimport fmax, fmin
from twin._core.feed cimport impurities, alumina_formed
from twin._core.layout cimport *

cdef enum:
    ZONE_STEP_MAX_S = 60    # s, the longest sub-step the LVAE time is followed in (linear in between)
    # one LVAE lasts until no zone has been below the LVAE alumina for this long: a zone near it dips below
    # and back with every shot, and the pot control system sees anode currents over a minute or so [A]
    LVAE_GAP_S = 60


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


cdef struct LowVoltage:
    double time_below    # s of the slow step with a zone below P_LVAE_ALUMINA
    double index_time    # s x the LVAE index, integrated over the slow step
    double onsets        # LVAE started: a zone went below P_LVAE_ALUMINA with no LVAE running
    double hold          # s the running LVAE lasts at the step's end with no zone below (0: none running)


cdef inline double below_from(double c0, double c1, double threshold) noexcept nogil:
    """Share of a sub-step, from its start, that a zone going linearly from ``c0`` to ``c1`` wt % spends below
    ``threshold`` (0 if it starts above)."""
    if c0 >= threshold:
        return 0.0
    if c1 < threshold:
        return 1.0
    return (threshold - c0) / (c1 - c0)


cdef inline Py_ssize_t zone_substeps(double dt) noexcept nogil:
    """Sub-steps of a slow step of ``dt`` s that the zones are followed in."""
    return <Py_ssize_t> ceil(dt / ZONE_STEP_MAX_S)


cdef inline void zone_constants(const double[:, ::1] p, double[:, ::1] a, Py_ssize_t k,
                                double dt) noexcept nogil:
    """The zones' exchange over a sub-step of a slow step of ``dt`` s, in its modes (the cosines of a row of
    zones are the exchange's eigenvectors, eigenvalue 2 (1 - cos(pi j / zones)) / P_ZONE_MIXING_TIME): each
    mode's share left, a constant rate's gain, each zone's phase. Once per kernel call: no exp or cos per step."""
    cdef Py_ssize_t j, z, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef double h = dt / zone_substeps(dt), tau = p[P_ZONE_MIXING_TIME, k], rate
    a[A_ZONE_KEEP, k] = 1.0             # mode 0, the zones' mean, is not exchanged
    a[A_ZONE_GAIN, k] = h
    for j in range(1, MAX_ZONES):
        rate = 2.0 * (1.0 - cos(M_PI * j / nz)) / tau if j < nz else 1.0
        a[A_ZONE_KEEP + j, k] = exp(-rate * h)
        a[A_ZONE_GAIN + j, k] = (1.0 - a[A_ZONE_KEEP + j, k]) / rate
    for z in range(MAX_ZONES):
        a[A_ZONE_COS + z, k] = cos(M_PI * (z + 0.5) / nz) if z < nz else 0.0


cdef inline void zones_step(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, Py_ssize_t k,
                            double dt, double mean_wt, double bath, LowVoltage* lv) noexcept nogil:
    """The zones over a slow step of ``dt`` s from its sums, ending at the cell's alumina ``mean_wt`` (wt %)
    in ``bath`` kg, and the time their alumina spent below the LVAE alumina (``lv``). The sums start again.

    Each zone's dissolved alumina gains over the step what its own undissolved pool gave up and its feeder's
    share of the step's doses above or below the mean, at an even rate; neighbouring zones exchange first
    order. The chain is solved exactly over sub-steps of at most ZONE_STEP_MAX_S in its modes
    (``zone_constants``), so a step's feed is mixed as it comes and the zones do not depend on the step's
    length. Along the sub-steps each zone's alumina (the cell's, linear between the step's ends, plus the
    zone's offset) is followed linearly: the time below the LVAE alumina, where it crosses, and the LVAE
    index (trapezoid) converge with the step instead of being sampled once per step."""
    cdef Py_ssize_t z, j, i, nz = <Py_ssize_t> p[P_ZONES, k], n = zone_substeps(dt)
    cdef double h = dt / n
    cdef double w = impurities(p, k), r = p[P_UNDISSOLVED_FRACTION, k]
    cdef double decay = a[A_ZONE_DECAY, k], dosed = a[A_ZONE_DOSED, k], carry = a[A_ZONE_CARRY, k]
    cdef double to_undissolved = r * (1.0 - w) * carry
    cdef double to_dissolved = (1.0 - w) * (dosed - r * carry) + alumina_formed(p, k) * dosed
    cdef double threshold = p[P_LVAE_ALUMINA, k], span = 1.0 / fmax(threshold - p[P_AE_ALUMINA, k], 1e-6)
    cdef double mean0 = a[A_ZONE_MEAN, k], to_wt = 100.0 * nz / bath if nz > 1 else 0.0
    cdef double u, excess, rate, c0, c1, head, tail, depth, none, cos_z
    cdef double norm0 = sqrt(1.0 / nz), norm = sqrt(2.0 / nz)
    cdef double mode[MAX_ZONES][MAX_ZONES]    # mode j at zone z, normalised: sum over z of mode^2 = 1
    cdef double gain[MAX_ZONES]               # each mode's gain over a sub-step (kg)
    cdef double amp[MAX_ZONES]                # each mode's amplitude now (kg)
    cdef double before[MAX_ZONES]
    a[A_ZONE_DECAY, k] = 1.0
    a[A_ZONE_CARRY, k] = 0.0
    a[A_ZONE_DOSED, k] = 0.0
    for z in range(nz):         # cos(j theta_z) by Chebyshev's recurrence from the zone's phase, normalised
        cos_z = a[A_ZONE_COS + z, k]
        mode[0][z] = 1.0
        if nz > 1:
            mode[1][z] = cos_z
        for j in range(2, nz):
            mode[j][z] = 2.0 * cos_z * mode[j - 1][z] - mode[j - 2][z]
        mode[0][z] = norm0
        for j in range(1, nz):
            mode[j][z] *= norm
    for j in range(nz):
        amp[j] = 0.0
        gain[j] = 0.0
    if nz > 1:
        for z in range(nz):
            excess = (p[P_FEEDER_DOSE + z, k] * x[X_FEEDER + z, k] - a[A_DELIVERED, k]) / nz
            u = x[X_ZONE_UNDISSOLVED + z, k]
            x[X_ZONE_UNDISSOLVED + z, k] = u * decay + excess * to_undissolved
            rate = (u * (1.0 - decay) + excess * to_dissolved) / dt
            for j in range(nz):
                amp[j] += mode[j][z] * x[X_ZONE_DISSOLVED + z, k]
                gain[j] += mode[j][z] * rate * a[A_ZONE_GAIN + j, k]
    lv.time_below = 0.0
    lv.index_time = 0.0
    lv.onsets = 0.0
    lv.hold = x[X_LVAE_HOLD, k]
    for i in range(n):
        head = 0.0       # the zones' time below from the sub-step's start, and up to its end (shares)
        tail = 0.0
        depth = 0.0
        for z in range(nz):
            before[z] = to_wt * x[X_ZONE_DISSOLVED + z, k]
        for j in range(nz):
            amp[j] = amp[j] * a[A_ZONE_KEEP + j, k] + gain[j]
        for z in range(nz):
            if nz > 1:
                x[X_ZONE_DISSOLVED + z, k] = 0.0
                for j in range(nz):
                    x[X_ZONE_DISSOLVED + z, k] += amp[j] * mode[j][z]
            c0 = mean0 + (mean_wt - mean0) * i / n + before[z]
            c1 = mean0 + (mean_wt - mean0) * (i + 1) / n + to_wt * x[X_ZONE_DISSOLVED + z, k]
            head = fmax(head, below_from(c0, c1, threshold))
            tail = fmax(tail, below_from(c1, c0, threshold))
            depth = depth + (fmin(fmax((threshold - c0) * span, 0.0), 1.0)
                             + fmin(fmax((threshold - c1) * span, 0.0), 1.0))
        lv.time_below += fmin(head + tail, 1.0) * h
        lv.index_time += 0.5 * depth / nz * h
        if head + tail >= 1.0:      # a zone below all through
            lv.onsets += 1.0 if lv.hold <= 0.0 else 0.0
            lv.hold = LVAE_GAP_S
            continue
        none = (1.0 - head - tail) * h
        if head > 0.0:
            lv.onsets += 1.0 if lv.hold <= 0.0 else 0.0
            lv.hold = LVAE_GAP_S
        lv.hold = fmax(lv.hold - none, 0.0)
        if tail > 0.0:
            lv.onsets += 1.0 if lv.hold <= 0.0 else 0.0
            lv.hold = LVAE_GAP_S


cdef inline void zones_stirred(double[:, ::1] x, double[:, ::1] a, Py_ssize_t k) noexcept nogil:
    """Beam pumping at a quench mixes the bath: dissolved alumina even over the zones."""
    cdef Py_ssize_t z
    for z in range(MAX_ZONES):
        x[X_ZONE_DISSOLVED + z, k] = 0.0
    a[A_ZONE_OFFSET, k] = 0.0


cdef inline void zone_alumina(const double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, Py_ssize_t k,
                              double mean_wt, double bath) noexcept nogil:
    """The leanest zone's offset from the cell's alumina (wt %, <= 0), given the cell's alumina ``mean_wt``
    (kept: the next slow step starts from it) and bath mass ``bath`` (kg)."""
    cdef Py_ssize_t z, nz = <Py_ssize_t> p[P_ZONES, k]
    cdef double lowest = 0.0
    if nz > 1:
        for z in range(nz):
            lowest = fmin(lowest, 100.0 * nz * x[X_ZONE_DISSOLVED + z, k] / bath)
    a[A_ZONE_OFFSET, k] = lowest
    a[A_ZONE_MEAN, k] = mean_wt
