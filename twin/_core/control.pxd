# cython: language_level=3
"""Pot controllers that run inside the kernel, per cell, each on its own sample period.

What a real pot control system does with the cell voltage it measures every few seconds:
- pseudo-resistance R_p = (U - E_b)/I, filtered (first order, time constant P_FILTER_TIME);
- alumina feed control by tracking: nominal feeding, then underfeed until the slope of R_p
  crosses a threshold (or a time-out), then overfeed for a set time, back to nominal
  (Pechiney/AP-type practice; smelter notes sec. 2.14 and 5);
- resistance (ACD) control: beam moves toward a target R_p when outside a dead band, a few mm
  at a time, limited per day, inhibited while tracking, after taps and on anode effect; the target
  is the base plus additives (smelter notes sec. 5.1): the crew's temperature additive, a noise
  additive (the controller's estimate of the voltage noise above a threshold) and a heat-balance
  feed-forward on the line current (EP0671488-type: the share of the heat a current change takes away
  that a higher resistance gives back); the ACD is kept between a floor and a ceiling;
- anode-effect detection above a voltage, quench after a delay by an alumina dump and beam
  pumping (which ends the effect; alumina still at the AE level starts a new one).
States live in the state block (layout.pxd), so they are checkpointed with the cell.
"""
from libc.math cimport sqrt

from twin._core.bath cimport fmax, fmin
from twin._core.feed cimport add_alumina_now
from twin._core.zones cimport zones_stirred
from twin._core.layout cimport *

ctypedef unsigned long long u64


cdef inline u64 splitmix64(u64 z) noexcept nogil:
    """SplitMix64 finaliser (Steele, Lea & Flood 2014): a counter-based hash of good statistical quality."""
    z = z + <u64> 0x9E3779B97F4A7C15
    z = (z ^ (z >> 30)) * <u64> 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <u64> 0x94D049BB133111EB
    return z ^ (z >> 31)


cdef inline double standard_noise(double seed, double counter) noexcept nogil:
    """Zero-mean, unit-variance noise from (seed, counter): the sum of four 16-bit uniforms, centred and
    scaled (Irwin-Hall, bounded at +-3.46). Counter-based, so the stream is checkpointed with its
    counter and a cell's noise never depends on other cells."""
    cdef u64 h = splitmix64((<u64> seed) * <u64> 0x100000001B3 ^ splitmix64(<u64> counter))
    cdef double total = ((h & 0xFFFF) + ((h >> 16) & 0xFFFF) + ((h >> 32) & 0xFFFF) + ((h >> 48) & 0xFFFF))
    return (total / 65536.0 - 2.0) * 1.7320508075688772


# the streams of a cell's event draws, apart from its measurement noise (standard_noise)
cdef enum:
    STREAM_AE_VOLTAGE = 1
    STREAM_QUENCH = 2


cdef inline double event_uniform(double seed, double counter, u64 stream) noexcept nogil:
    """Uniform in [0, 1) from (seed, counter, stream): a cell's event draws (an AE's voltage, a quench's
    outcome), counter-based like the noise, so checkpointed with the counters and never another cell's."""
    cdef u64 h = splitmix64(splitmix64((<u64> seed) * <u64> 0x100000001B3 ^ stream) ^ splitmix64(<u64> counter))
    return <double> (h >> 11) * (1.0 / 9007199254740992.0)


cdef inline double event_normal(double seed, double counter, u64 stream) noexcept nogil:
    """Zero mean, unit variance (the sum of four uniforms of the stream, as standard_noise: bounded at +-3.46)."""
    cdef double total = 0.0
    cdef int j
    for j in range(4):
        total += event_uniform(seed, 4.0 * counter + j, stream)
    return (total - 2.0) * 1.7320508075688772


# a line current this far above its design is an over-current (amperage increase, power program), not ripple
cdef extern from *:
    """
    #define TWIN_OVERCURRENT 1.02
    """
    const double OVERCURRENT "TWIN_OVERCURRENT"


cdef enum:
    MODE_NOMINAL = 0
    MODE_UNDERFEED = 1
    MODE_OVERFEED = 2


cdef inline double feed_factor(const double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k) noexcept nogil:
    """Feed rate over the nominal rate in the present tracking mode."""
    cdef double mode = x[X_FEED_MODE, k]
    if mode == MODE_UNDERFEED:
        return p[P_UNDERFEED_FACTOR, k]
    if mode == MODE_OVERFEED:
        return p[P_OVERFEED_FACTOR, k]
    return 1.0


cdef inline double target_voltage(const double[:, ::1] p, Py_ssize_t k, double current) noexcept nogil:
    return p[P_BACK_EMF, k] + p[P_R_TARGET, k] * current


cdef inline void measure(double[:, ::1] x, const double[:, ::1] p, const double[:, ::1] a, Py_ssize_t k,
                         double voltage, double current) noexcept nogil:
    """One raw pseudo-resistance sample (the voltage over the step with its measurement and metal-pad
    noise) into the filter, and into the noise estimate (half the mean square of successive differences,
    so slow trends do not count as noise; not while on anode effect)."""
    cdef double measured = voltage
    cdef double raw, d
    if a[A_NOISE_SD, k] > 0.0:
        measured = voltage + a[A_NOISE_SD, k] * standard_noise(p[P_NOISE_SEED, k], x[X_NOISE_COUNTER, k])
        x[X_NOISE_COUNTER, k] += 1.0
    raw = (measured - p[P_BACK_EMF, k]) / fmax(current, 1.0)
    x[X_RP_FILTERED, k] += (raw - x[X_RP_FILTERED, k]) * a[A_FILTER_GAIN, k]
    if x[X_AE_ON, k] < 0.5:
        d = raw - x[X_RP_RAW, k]
        x[X_RP_NOISE, k] += (0.5 * d * d - x[X_RP_NOISE, k]) * a[A_FILTER_GAIN, k]
    x[X_RP_RAW, k] = raw


cdef inline double slope_threshold(const double[:, ::1] x, const double[:, ::1] p, const double[:, ::1] a,
                                   Py_ssize_t k) noexcept nogil:
    """Slope of the pseudo-resistance that ends an underfeed (ohm/s): the configured threshold, and on a noisy
    cell P_SLOPE_SIGMAS standard deviations of the slope's own noise, in quadrature. The slope's variance is
    the controller's noise estimate (variance of raw samples) times A_SLOPE_NOISE (what the filter and the
    difference over a control period make of white noise), so noise alone no longer reads as a lean cell
    (pot controllers guard the slope against noise; this quadrature rule is the model's own [A])."""
    cdef double thr = p[P_SLOPE_THRESHOLD, k]
    cdef double noise = p[P_SLOPE_SIGMAS, k] * p[P_SLOPE_SIGMAS, k] * x[X_RP_NOISE, k] * a[A_SLOPE_NOISE, k]
    return sqrt(thr * thr + noise)


cdef inline void feed_control(double[:, ::1] x, const double[:, ::1] p, const double[:, ::1] a, double[:, ::1] ctr,
                              Py_ssize_t k, double dt) noexcept nogil:
    """Tracking feed control: mode changes at each control sample."""
    cdef double period = p[P_CONTROL_PERIOD, k]
    cdef double mode
    x[X_CONTROL_TIMER, k] -= dt
    if x[X_CONTROL_TIMER, k] > 0.0:
        return
    x[X_CONTROL_TIMER, k] += period
    x[X_RP_SLOPE, k] = (x[X_RP_FILTERED, k] - x[X_RP_PREVIOUS, k]) / period
    x[X_RP_PREVIOUS, k] = x[X_RP_FILTERED, k]
    x[X_MODE_TIME, k] += period
    if p[P_TRACKING, k] < 0.5:
        return
    mode = x[X_FEED_MODE, k]
    if mode == MODE_NOMINAL and x[X_MODE_TIME, k] >= p[P_NOMINAL_TIME, k]:
        x[X_FEED_MODE, k] = MODE_UNDERFEED
        x[X_MODE_TIME, k] = 0.0
        ctr[C_TRACKS, k] += 1.0
    elif mode == MODE_UNDERFEED and (x[X_RP_SLOPE, k] >= slope_threshold(x, p, a, k)
                                     or x[X_MODE_TIME, k] >= p[P_UNDERFEED_TIMEOUT, k]):
        x[X_FEED_MODE, k] = MODE_OVERFEED
        x[X_MODE_TIME, k] = 0.0
    elif mode == MODE_OVERFEED and x[X_MODE_TIME, k] >= p[P_OVERFEED_TIME, k]:
        x[X_FEED_MODE, k] = MODE_NOMINAL
        x[X_MODE_TIME, k] = 0.0


cdef inline double resistance_target(const double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k,
                                     double current) noexcept nogil:
    """Target pseudo-resistance (ohm): base + crew's additive + heat feed-forward + noise additive.

    Feed-forward: the cell's net heat I (E_b + (R - R_ext) I - V_H) at the design current and base
    target is held, for the configured share, at the present current: R* = (Q0/I - E_b + V_H)/I + R_ext.
    """
    cdef double r0 = p[P_R_TARGET, k], eb = p[P_BACK_EMF, k], r_ext = p[P_R_EXTERNAL, k]
    cdef double vh = p[P_ENTHALPY_VOLTAGE, k], i0 = p[P_NOMINAL_CURRENT, k]
    cdef double target = r0 + p[P_R_ADDITIVE, k]
    cdef double q0, noise
    if p[P_HEAT_FEEDFORWARD, k] > 0.0:
        q0 = i0 * (eb + (r0 - r_ext) * i0 - vh)
        target += p[P_HEAT_FEEDFORWARD, k] * ((q0 / current - eb + vh) / current + r_ext - r0)
    noise = sqrt(x[X_RP_NOISE, k]) * current
    if noise > p[P_NOISE_THRESHOLD, k]:
        target += p[P_NOISE_GAIN, k] * (noise - p[P_NOISE_THRESHOLD, k])
    return target


cdef inline void resistance_control(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] ctr, Py_ssize_t k,
                                    double current, double dt) noexcept nogil:
    """Beam moves toward the target pseudo-resistance, outside tracking, taps and anode effects, with
    the ACD kept between its floor and ceiling; no control below 30 % of the design current (start-up,
    outage), where the pseudo-resistance says little.

    The daily move limit guards against hunting on small errors: a large error (beyond P_LARGE_ERROR: the
    line's current changed, power came back) is corrected whatever the count, all the way back into the
    band (X_CATCH_UP holds from the large error until then: a curtailment's raised ACD comes back with the
    power even when the curtailment used up the day's moves). Above the
    design current the controller does not take the ACD below the metal pad's onset of instability
    (P_PAD_ACD) to shed heat: there the pad's noise and CE loss cost more than the heat (issue 19)."""
    cdef double error, floor, move = 0.0, acd = x[X_ACD, k], max_move = p[P_BEAM_MAX_MOVE, k]
    x[X_INHIBIT, k] = fmax(x[X_INHIBIT, k] - dt, 0.0)
    x[X_BEAM_TIMER, k] -= dt
    if x[X_BEAM_TIMER, k] > 0.0:
        return
    x[X_BEAM_TIMER, k] += p[P_BEAM_PERIOD, k]
    if (p[P_RESISTANCE_CONTROL, k] < 0.5 or x[X_INHIBIT, k] > 0.0 or x[X_AE_ON, k] > 0.5
            or current < 0.3 * p[P_NOMINAL_CURRENT, k]):
        return
    # regulation waits for tracking and stops at the daily move limit; the floor and ceiling always hold
    if x[X_FEED_MODE, k] == MODE_NOMINAL:
        error = x[X_RP_FILTERED, k] - resistance_target(x, p, k, current)
        if fmax(error, -error) > p[P_LARGE_ERROR, k]:
            x[X_CATCH_UP, k] = 1.0
        elif fmax(error, -error) <= p[P_R_BAND, k]:
            x[X_CATCH_UP, k] = 0.0
        if ((error > p[P_R_BAND, k] or error < -p[P_R_BAND, k])
                and (x[X_BEAM_MOVES_TODAY, k] < p[P_BEAM_MAX_MOVES, k] or x[X_CATCH_UP, k] > 0.5)):
            move = fmin(fmax(-error / p[P_ACD_SENSITIVITY, k], -max_move), max_move)
    # never below the floor (above the design current, by more than the regulator's ripple: the pad's onset)
    floor = p[P_ACD_MIN, k]
    if current > OVERCURRENT * p[P_NOMINAL_CURRENT, k]:
        floor = fmax(floor, p[P_PAD_ACD, k])
    move = fmax(move, fmin(floor - acd, max_move))
    move = fmin(move, fmax(p[P_ACD_MAX, k] - acd, -max_move))    # never above the ceiling
    if move != 0.0:
        x[X_ACD, k] += move
        x[X_RP_RAW, k] += move * p[P_ACD_SENSITIVITY, k]        # a step the controller made is not noise
        x[X_BEAM_MOVES_TODAY, k] += 1.0
        ctr[C_BEAM_MOVES, k] += 1.0
        ctr[C_BEAM_TRAVEL, k] += fmax(move, -move)
        ctr[C_BEAM_POSITION, k] += move


cdef inline void anode_effect_control(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a,
                                      double[:, ::1] ctr, Py_ssize_t k, double voltage, double current,
                                      double metal_rate, double dt) noexcept nogil:
    """Book the AE overvoltage (and PFC by the overvoltage method, at the cell's current efficiency and
    ``metal_rate`` kg/s); count it as detected once the cell voltage is above the detection level;
    once the controller has seen the AE for the quench delay, quench it.

    A quench attempt (alumina dump, beam pumping) kills the AE with probability P_QUENCH_SUCCESS; a failed one
    is retried after P_QUENCH_RETRY, up to P_QUENCH_ATTEMPTS, after which the AE runs until the crew kills it
    (P_AE_DURATION, in the fast step). So most AEs end at the quench delay, some a retry or two later and a
    few run for minutes: the long tail that carries much of a potline's AE-minutes (IAI anode effect surveys;
    smelter notes sec. 2.18, table 3.1)."""
    cdef double over, ce = a[A_CE, k]
    if x[X_AE_ON, k] < 0.5:
        return
    over = fmax(voltage - target_voltage(p, k, current), 0.0)
    ctr[C_AE_OVERVOLTAGE, k] += over * dt
    # overvoltage method (IPCC Tier 2/3): E_CF4 = OVC (AEO/CE%) MP, booked as the AE happens
    ctr[C_CF4_OVERVOLTAGE, k] += p[P_OVC, k] * 1000.0 * over / (100.0 * ce) * metal_rate * 1e-3 * dt
    ctr[C_C2F6_OVERVOLTAGE, k] += (p[P_OVC_C2F6_RATIO, k] * p[P_OVC, k] * 1000.0 * over / (100.0 * ce)
                                   * metal_rate * 1e-3 * dt)
    if voltage <= p[P_AE_DETECT_VOLTAGE, k]:
        return
    if x[X_AE_SEEN, k] < 0.5:                     # what the pot control system saw
        x[X_AE_SEEN, k] = 1.0
        ctr[C_AE_DETECTED, k] += 1.0
    if (x[X_AE_ATTEMPTS, k] < p[P_QUENCH_ATTEMPTS, k]
            and x[X_AE_TIME, k] >= p[P_QUENCH_DELAY, k] + x[X_AE_ATTEMPTS, k] * p[P_QUENCH_RETRY, k]):
        add_alumina_now(x, p, ctr, k, p[P_QUENCH_MASS, k])
        zones_stirred(x, a, k)                    # beam pumping mixes the bath
        if event_uniform(p[P_NOISE_SEED, k], 8.0 * ctr[C_AE_COUNT, k] + x[X_AE_ATTEMPTS, k],
                         STREAM_QUENCH) >= p[P_QUENCH_SUCCESS, k]:
            x[X_AE_ATTEMPTS, k] += 1.0
            ctr[C_QUENCH_FAILURES, k] += 1.0
            return
        x[X_AE_ON, k] = 0.0
        x[X_AE_TIME, k] = 0.0
        x[X_FEED_MODE, k] = MODE_OVERFEED         # the controller follows a quench with overfeeding
        x[X_MODE_TIME, k] = 0.0
        ctr[C_QUENCHES, k] += 1.0
