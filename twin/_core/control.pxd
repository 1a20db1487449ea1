# cython: language_level=3
"""Pot controllers that run inside the kernel, per cell, each on its own sample period.

What a real pot control system does with the cell voltage it measures every few seconds:
- pseudo-resistance R_p = (U - E_b)/I, filtered (first order, time constant P_FILTER_TIME);
- alumina feed control by tracking: nominal feeding, then underfeed until the slope of R_p
  crosses a threshold (or a time-out), then overfeed for a set time, back to nominal
  (Pechiney/AP-type practice; smelter notes sec. 2.14 and 5);
- resistance (ACD) control: beam moves toward a target R_p when outside a dead band, a few mm
  at a time, limited per day, inhibited while tracking, after taps and on anode effect;
- anode-effect detection above a voltage, quench after a delay by an alumina dump and beam
  pumping (which ends the effect; alumina still at the AE level starts a new one).
States live in the state block (layout.pxd), so they are checkpointed with the cell.
"""
from twin._core.bath cimport fmax, fmin
from twin._core.feed cimport add_alumina_now
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
    """One raw pseudo-resistance sample (the measured voltage over the step) into the filter."""
    cdef double measured = voltage
    cdef double raw
    if p[P_NOISE_SD, k] > 0.0:
        measured = voltage + p[P_NOISE_SD, k] * standard_noise(p[P_NOISE_SEED, k], x[X_NOISE_COUNTER, k])
        x[X_NOISE_COUNTER, k] += 1.0
    raw = (measured - p[P_BACK_EMF, k]) / fmax(current, 1.0)
    x[X_RP_FILTERED, k] += (raw - x[X_RP_FILTERED, k]) * a[A_FILTER_GAIN, k]


cdef inline void feed_control(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] ctr, Py_ssize_t k,
                              double dt) noexcept nogil:
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
    elif mode == MODE_UNDERFEED and (x[X_RP_SLOPE, k] >= p[P_SLOPE_THRESHOLD, k]
                                     or x[X_MODE_TIME, k] >= p[P_UNDERFEED_TIMEOUT, k]):
        x[X_FEED_MODE, k] = MODE_OVERFEED
        x[X_MODE_TIME, k] = 0.0
    elif mode == MODE_OVERFEED and x[X_MODE_TIME, k] >= p[P_OVERFEED_TIME, k]:
        x[X_FEED_MODE, k] = MODE_NOMINAL
        x[X_MODE_TIME, k] = 0.0


cdef inline void resistance_control(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] ctr, Py_ssize_t k,
                                    double dt) noexcept nogil:
    """Beam moves toward the target pseudo-resistance, outside tracking, taps and anode effects."""
    cdef double error, move
    x[X_INHIBIT, k] = fmax(x[X_INHIBIT, k] - dt, 0.0)
    x[X_BEAM_TIMER, k] -= dt
    if x[X_BEAM_TIMER, k] > 0.0:
        return
    x[X_BEAM_TIMER, k] += p[P_BEAM_PERIOD, k]
    if (p[P_RESISTANCE_CONTROL, k] < 0.5 or x[X_INHIBIT, k] > 0.0 or x[X_AE_ON, k] > 0.5
            or x[X_FEED_MODE, k] != MODE_NOMINAL or x[X_BEAM_MOVES_TODAY, k] >= p[P_BEAM_MAX_MOVES, k]):
        return
    error = x[X_RP_FILTERED, k] - p[P_R_TARGET, k]
    if error > p[P_R_BAND, k] or error < -p[P_R_BAND, k]:
        move = fmin(fmax(-error / p[P_ACD_SENSITIVITY, k], -p[P_BEAM_MAX_MOVE, k]), p[P_BEAM_MAX_MOVE, k])
        x[X_ACD, k] += move
        x[X_BEAM_MOVES_TODAY, k] += 1.0
        ctr[C_BEAM_MOVES, k] += 1.0
        ctr[C_BEAM_TRAVEL, k] += fmax(move, -move)
        ctr[C_BEAM_POSITION, k] += move


cdef inline void anode_effect_control(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] ctr,
                                      Py_ssize_t k, double voltage, double current, double ce,
                                      double metal_rate, double dt) noexcept nogil:
    """Book the AE overvoltage (and PFC by the overvoltage method, with ``ce`` the current efficiency
    and ``metal_rate`` kg/s); once the controller has seen the AE for the quench delay, quench it."""
    cdef double over
    if x[X_AE_ON, k] < 0.5:
        return
    over = fmax(voltage - target_voltage(p, k, current), 0.0)
    ctr[C_AE_OVERVOLTAGE, k] += over * dt
    # overvoltage method (IPCC Tier 2/3): E_CF4 = OVC (AEO/CE%) MP, booked as the AE happens
    ctr[C_CF4_OVERVOLTAGE, k] += p[P_OVC, k] * 1000.0 * over / (100.0 * ce) * metal_rate * 1e-3 * dt
    ctr[C_C2F6_OVERVOLTAGE, k] += (p[P_OVC_C2F6_RATIO, k] * p[P_OVC, k] * 1000.0 * over / (100.0 * ce)
                                   * metal_rate * 1e-3 * dt)
    if voltage > p[P_AE_DETECT_VOLTAGE, k] and x[X_AE_TIME, k] >= p[P_QUENCH_DELAY, k]:
        add_alumina_now(x, p, ctr, k, p[P_QUENCH_MASS, k])
        x[X_AE_ON, k] = 0.0
        x[X_AE_TIME, k] = 0.0
        x[X_FEED_MODE, k] = MODE_OVERFEED         # the controller follows a quench with overfeeding
        x[X_MODE_TIME, k] = 0.0
        ctr[C_QUENCHES, k] += 1.0
