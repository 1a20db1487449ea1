# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""N-cell Hall-Heroult potline kernel: one call advances every cell of every line by n_steps fast steps.

Scheme (multirate, fixed step, explicit):
- fast step ``dt`` (seconds): line current from the cells' back EMF and resistance, alumina pools
  in closed form with feeder shots at their exact times, metal, ACD, anode effect, heat sums;
- slow step every ``n_sub`` fast steps: composition-dependent properties, heat balance of the
  bath/metal node, Stefan ledge, shell node. The electric and reaction heat of the fast steps
  are summed exactly, so the energy ledger closes to round-off.
Lines are independent between line-current solves and run in parallel (OpenMP) when built with it.
"""
from cython.parallel cimport prange
from libc.math cimport exp, log, sqrt

from twin._core.bath cimport (
    AL_PER_COULOMB, AL2O3_PER_COULOMB, CARBON_PER_COULOMB, R_OVER_6F, KELVIN, ALF3_PER_NA2O, CRYOLITE_PER_NA2O, ALF3_PER_CAO, CAF2_PER_CAO,
    liquidus_c, alumina_saturation_c, log_conductivity_c, standard_potential_c, alumina_activity_c,
    fmax, fmin, critical_current_density_f, anode_surface_overvoltage_c, anode_concentration_overvoltage_c, bath_ratio_c, cathode_overvoltage_c,
    bubble_thickness_c, bubble_coverage_c, back_reaction_density_c, productive_current_c, reaction_enthalpy_c,
    pad_instability_c,
)
from twin._core.layout cimport *
from twin._core.feed cimport book_feed, add_alumina_now, impurities, alumina_formed
from twin._core.zones cimport (LowVoltage, delivered_share, zone_alumina, zone_constants, zones_accumulate,
                               zones_step, zones_stirred)
from twin._core.control cimport (
    MODE_OVERFEED, feed_factor, measure, feed_control, resistance_control, anode_effect_control, standard_noise, event_normal,
    STREAM_AE_VOLTAGE,
)

# the lowest back voltage an anode effect draws (V): above the pot controller's detection at 8 V, as a
# high-voltage AE is (the low-voltage ones are the LVAE of the zones)
cdef double AE_EMF_MIN = 10.0

STATE_NAMES = ("cryolite", "alf3", "caf2", "alumina", "undissolved", "metal", "ledge", "t_bath",
               "t_shell", "acd", "anode_height", "ae_on", "ae_time", "feed_demand", "rp_filtered",
               "rp_previous", "rp_slope", "feed_mode", "mode_time", "control_timer", "beam_timer", "inhibit",
               "beam_moves_today", "setting_time", "noise_counter", "t_cathode", "t_top", "rp_noise",
               "shell_cooling", "rp_raw", "crushed", "lvae_hold", "ae_seen",
               "zone_dissolved_0", "zone_dissolved_1", "zone_dissolved_2", "zone_dissolved_3",
               "zone_undissolved_0", "zone_undissolved_1", "zone_undissolved_2", "zone_undissolved_3",
               "feeder_0", "feeder_1", "feeder_2", "feeder_3", "ae_emf", "ae_attempts", "catch_up")
PARAM_NAMES = ("anode_area", "one_anode_area", "cathode_area", "r_anode", "r_cathode", "r_external",
               "ae_alumina", "ae_voltage", "ae_duration", "sef_cf4", "c2f6_ratio", "undissolved_fraction",
               "k_dissolve", "dissolution_superheat", "shot_mass", "na2o", "cao", "feed_gain", "alumina_target", "feed_enabled",
               "c_bath", "c_metal", "ua_top", "ua_bottom", "t_ambient", "side_area", "h_bath_ledge",
               "k_ledge", "rho_ledge", "latent", "r_lining", "h_shell", "c_shell", "ledge_min", "ce_ref",
               "superheat_ref", "alf3_ref", "rho_anode", "anode_geo_area", "excess_carbon",
               "anode_resistivity", "anode_height_ref", "r_cathode_age", "rho_metal",
               "tracking", "back_emf", "filter_time", "control_period", "nominal_time", "underfeed_factor",
               "overfeed_factor", "slope_threshold", "slope_sigmas", "underfeed_timeout", "overfeed_time", "resistance_control",
               "beam_period", "r_target", "r_band", "large_error", "acd_sensitivity", "beam_max_move", "beam_max_moves",
               "ae_detect_voltage", "quench_delay", "quench_mass", "quench_success", "quench_retry",
               "quench_attempts", "ae_voltage_sd", "setting_heat", "setting_heat_time",
               "pickup_time", "setting_fraction", "ovc", "ovc_c2f6_ratio", "noise_sd",
               "noise_seed", "feed_override", "c_cathode", "bottom_split", "c_top", "top_split", "top_factor",
               "nominal_current", "hx_gain", "hx_min", "hx_max", "hx_time", "heat_feedforward", "enthalpy_voltage",
               "r_additive", "noise_gain", "noise_threshold", "acd_min", "acd_max", "pad_acd", "pad_length",
               "ce_pad_loss", "loss_density", "pad_noise", "crushed_alf3", "crushed_caf2", "crushed_alumina",
               "crushed_cp", "crushed_time", "zones", "zone_mixing_time", "lvae_alumina", "lvae_cf4_ratio",
               "lvae_detection", "feeder_dose_0", "feeder_dose_1", "feeder_dose_2", "feeder_dose_3", "in_service")
AUX_NAMES = ("liquidus", "inv_saturation", "bath_ratio", "ce", "logk_base", "h_reaction", "alumina_wt",
             "back_emf", "resistance", "r_series", "q_electric", "q_reaction", "log_anode_area", "log_cathode_area",
             "area_factor", "inv_anode_area", "filter_gain", "active", "log_active", "alumina_cap",
             "noise_sd", "pad_loss", "hx_relax", "alumina_min", "zone_offset", "delivered", "zone_decay",
             "zone_carry", "zone_dosed", "loss_current",
             "slope_noise", "dissolution_heat", "zone_mean", "zone_keep", "zone_keep_1", "zone_keep_2",
             "zone_keep_3", "zone_gain", "zone_gain_1", "zone_gain_2", "zone_gain_3", "zone_cos", "zone_cos_1",
             "zone_cos_2", "zone_cos_3")
SUM_NAMES = ("voltage", "current_ce", "t_bath", "liquidus", "alumina", "alf3", "bath_mass", "metal_mass",
             "ledge", "acd", "t_shell", "q_loss", "shell_cooling", "beam_position", "alumina_fed")
COUNTER_NAMES = ("metal_produced", "metal_tapped", "alumina_fed", "alumina_consumed", "alf3_added",
                 "carbon_consumed", "energy_dc", "ae_minutes", "ae_count", "cf4", "c2f6", "shots",
                 "e_electric", "e_reaction", "e_top", "e_bottom", "e_side", "e_bath", "e_shell", "e_latent",
                 "tracks", "beam_moves", "beam_travel", "quenches", "ae_overvoltage", "e_anode",
                 "anodes_set", "butts", "cf4_overvoltage", "c2f6_overvoltage", "beam_position", "e_cathode",
                 "e_top_node", "out_of_range", "bath_tapped", "bath_tapped_alumina", "bath_tapped_fluorine",
                 "sodium_uptake", "bath_added", "e_additions", "ae_detected", "lvae_minutes", "lvae_count",
                 "lvae_detected", "cf4_lvae", "feeder_faults", "relines", "reline_metal_in", "reline_bath_in",
                 "reline_alumina_in", "reline_fluorine_in", "quench_failures")
LINE_NAMES = ("source_voltage", "current", "sum_emf", "sum_resistance", "sum_current", "sum_voltage")
LINE_PARAM_NAMES = ("r_bus", "v_max", "tau", "i_set_start", "i_set_end")
# Faraday's law for the Python side: the same compile-time constants the kernel uses (kg per coulomb)
ALUMINA_ZONES_MAX = MAX_ZONES                   # alumina zones (feeder groups) a cell can have
AL_KG_PER_COULOMB = AL_PER_COULOMB              # aluminium, z = 3, CE 1
ALUMINA_KG_PER_COULOMB = AL2O3_PER_COULOMB      # alumina, z = 6, CE 1
CARBON_KG_PER_COULOMB = CARBON_PER_COULOMB      # carbon as CO2, z = 4

assert len(STATE_NAMES) == N_STATE and len(PARAM_NAMES) == N_PARAM and len(AUX_NAMES) == N_AUX
assert len(SUM_NAMES) == N_SUM and len(COUNTER_NAMES) == N_COUNTER
assert len(LINE_NAMES) == N_LINE and len(LINE_PARAM_NAMES) == N_LINE_PARAM


# The Tafel-type overvoltages hold for current densities above 0.01 A/cm2 (Haupin 1998); below it
# (outages, line start-up) they are taken at 0.01, so a cell at rest keeps a positive back EMF.
cdef double LOG_MIN_DENSITY = -4.605170185988091     # ln(0.01)

# Validity ranges of the correlations the cells use (the narrowest of each kind; sources in bath.pxd and
# twin.smelter.bath): bath temperature 940-1000 degC (Haupin's E_rev; Hives 940-1050; Skybakmoen
# 850-1050; the production enthalpy 927-1027), excess AlF3 and CaF2 below 20 wt % (Solheim 1996),
# superheat 0-30 K (Dewing's CE data), dissolved alumina up to saturation (kept there by the kernel).
# Time spent outside is counted per cell (C_OUT_OF_RANGE); the run goes on. Leaving physics itself
# (negative masses, a frozen bath, NaN) is checked by the Python face, which stops the run.
cdef double T_VALID_MIN = 940.0, T_VALID_MAX = 1000.0, ALF3_VALID_MAX = 20.0, CAF2_VALID_MAX = 20.0
cdef double SUPERHEAT_VALID_MAX = 30.0


cdef struct Heat:
    double capacity      # J/K bath + metal
    double q_top         # W bath -> anode/crust/cover node
    double q_top_air     # W top node -> air
    double q_bottom      # W bath/metal -> cathode node
    double q_bottom_air  # W cathode node -> air (through the bottom lining)
    double q_bath_ledge  # W bath -> ledge face
    double q_ledge_shell # W ledge face -> shell node, through ledge and lining
    double q_shell_air   # W shell -> air
    double q_anode       # W taken by newly set (cold) anodes
    double q_melt        # W taken by crushed bath heating from the potroom and melting


cdef struct Rates:
    double metal         # kg/s Al made, Faraday at the cell's CE (z = 3)
    double alumina       # kg/s Al2O3 electrolysed (z = 6)
    double carbon        # kg/s net anode carbon
    double acd           # m/s ACD drift: anode burn-off minus metal-pad rise


cdef inline void faraday_rates(const double[:, ::1] p, const double[:, ::1] a, Py_ssize_t k, double current,
                               Rates* r) noexcept nogil:
    """Production, consumption and ACD drift of cell k at a line current: the current less the cell's
    back-reaction and pad-instability losses makes metal (its loss current and pad loss in ``a``)."""
    cdef double charge_ce = productive_current_c(current, a[A_LOSS_CURRENT, k], a[A_PAD_LOSS, k])
    r.metal = charge_ce * AL_PER_COULOMB
    r.alumina = charge_ce * AL2O3_PER_COULOMB
    # Faraday's carbon (to CO2: the back reaction turns CO2 into CO and burns no more carbon, so all the
    # current counts) and the excess that burns by the hour, not by the ampere (air and CO2 attack): so the
    # net carbon per tonne rises as the current falls (Kuang et al., Metall. Mater. Trans. B 27 (1996) 177)
    r.carbon = current * CARBON_PER_COULOMB + p[P_EXCESS_CARBON, k]
    r.acd = (r.carbon / (p[P_RHO_ANODE, k] * p[P_ANODE_GEO_AREA, k])
             - r.metal / (p[P_RHO_METAL, k] * p[P_CATHODE_AREA, k] * 1e-4))


cdef inline void series_resistance(const double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a,
                                   Py_ssize_t k) noexcept nogil:
    """The resistances in series with the bath: the anode's at its mean carbon height (the carbon's share
    rho h / A grows and shrinks with the height, the stubs', yokes' and contacts' stays), the cathode's at its
    lining's age, the busbar's share."""
    a[A_R_SERIES, k] = (p[P_R_ANODE, k] + p[P_ANODE_RESISTIVITY, k] / p[P_ANODE_GEO_AREA, k]
                        * (x[X_ANODE_HEIGHT, k] - p[P_ANODE_HEIGHT_REF, k])
                        + p[P_R_CATHODE, k] + p[P_R_CATHODE_AGE, k] + p[P_R_EXTERNAL, k])


cdef inline double bath_mass(const double[:, ::1] x, Py_ssize_t k) noexcept nogil:
    return x[X_CRYOLITE, k] + x[X_ALF3, k] + x[X_CAF2, k] + x[X_ALUMINA, k]


cdef inline void cell_constants(const double[:, ::1] p, double[:, ::1] a, Py_ssize_t k) noexcept nogil:
    """Per-cell combinations of parameters, computed when parameters are set, not every step."""
    a[A_LOG_ANODE_AREA, k] = log(p[P_ANODE_AREA, k])
    a[A_INV_ANODE_AREA, k] = 1.0 / p[P_ANODE_AREA, k]
    a[A_LOG_CATHODE_AREA, k] = log(p[P_CATHODE_AREA, k])
    a[A_AREA_FACTOR, k] = exp(-0.1 * log(p[P_ONE_ANODE_AREA, k]))


cdef inline double slope_noise_factor(double gain, double samples, double period) noexcept nogil:
    """Variance of (filtered(t) - filtered(t - period)) / period per unit variance of white raw samples, for a
    first-order filter of gain ``gain`` per sample and ``samples`` samples a period: the filtered variance
    g / (2 - g), twice, less its correlation (1 - g)^samples across the period."""
    return 2.0 * gain / (2.0 - gain) * (1.0 - exp(samples * log(1.0 - gain))) / (period * period)


cdef inline void zone_state(const double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a,
                             Py_ssize_t k) noexcept nogil:
    """The feeders' delivered share and the zones' offsets from the state, the zones' sums empty (before a
    kernel call, which runs whole slow steps)."""
    cdef double mb = bath_mass(x, k)
    a[A_DELIVERED, k] = delivered_share(x, p, k)
    a[A_ZONE_DECAY, k] = 1.0
    a[A_ZONE_CARRY, k] = 0.0
    a[A_ZONE_DOSED, k] = 0.0
    zone_alumina(x, p, a, k, 100.0 * x[X_ALUMINA, k] / mb, mb)


cdef inline double bath_liquidus(const double[:, ::1] x, Py_ssize_t k) noexcept nogil:
    cdef double mb = bath_mass(x, k)
    return liquidus_c(100.0 * x[X_ALF3, k] / mb, 100.0 * x[X_CAF2, k] / mb, 100.0 * x[X_ALUMINA, k] / mb,
                      0.0, 0.0, 0.0)


cdef inline void update_properties(const double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a,
                                   Py_ssize_t k, double current) noexcept nogil:
    """Composition- and temperature-dependent properties (slow step); the CE kept for the production
    enthalpy and the outputs is the one at ``current`` (A), the fast steps use the loss current itself."""
    cdef double mb = bath_mass(x, k)
    cdef double alf3 = 100.0 * x[X_ALF3, k] / mb
    cdef double caf2 = 100.0 * x[X_CAF2, k] / mb
    cdef double al2o3 = 100.0 * x[X_ALUMINA, k] / mb
    cdef double t = x[X_T_BATH, k]
    cdef double sat = alumina_saturation_c(t, alf3, caf2, 0.0, 0.0)
    cdef double pad = pad_instability_c(x[X_ACD, k], p[P_PAD_ACD, k], p[P_PAD_LENGTH, k])
    cdef double pad_noise = p[P_PAD_NOISE, k] * pad
    a[A_LIQUIDUS, k] = bath_liquidus(x, k)
    a[A_DISSOLUTION_HEAT, k] = dissolution_heat(p, k, t - a[A_LIQUIDUS, k])
    a[A_INV_SATURATION, k] = 1.0 / sat
    a[A_BATH_RATIO, k] = bath_ratio_c(alf3, al2o3, caf2, 0.0, 0.0)
    a[A_PAD_LOSS, k] = p[P_CE_PAD_LOSS, k] * pad
    a[A_LOSS_CURRENT, k] = p[P_CATHODE_AREA, k] * back_reaction_density_c(
        t - a[A_LIQUIDUS, k], alf3, 0.0, p[P_LOSS_DENSITY, k], p[P_SUPERHEAT_REF, k], p[P_ALF3_REF, k])
    # at no current (an outage) the CE a current would have at the cell's design current
    current = current if current > 1.0 else p[P_NOMINAL_CURRENT, k]
    a[A_CE, k] = productive_current_c(current, a[A_LOSS_CURRENT, k], a[A_PAD_LOSS, k]) / current
    # the bath holds dissolved alumina up to saturation
    a[A_ALUMINA_CAP, k] = 0.01 * sat * mb
    # what the controller samples: measurement noise and the metal pad's own noise, independent
    a[A_NOISE_SD, k] = sqrt(p[P_NOISE_SD, k] * p[P_NOISE_SD, k] + pad_noise * pad_noise)
    a[A_LOGK_BASE, k] = log_conductivity_c(t + KELVIN, 0.0, alf3, caf2, 0.0, 0.0, 0.0)
    a[A_H_REACTION, k] = reaction_enthalpy_c(t + KELVIN, a[A_CE, k])
    series_resistance(x, p, a, k)
    # new anodes pick up their share of the current first-order after setting
    a[A_ACTIVE, k] = 1.0 - p[P_SETTING_FRACTION, k] * exp(-x[X_SETTING_TIME, k] / p[P_PICKUP_TIME, k])
    a[A_LOG_ACTIVE, k] = log(a[A_ACTIVE, k])


cdef inline double electrics(const double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a,
                             Py_ssize_t k, double current, double log_current) noexcept nogil:
    """Back EMF and ohmic resistance of cell k off anode effect, linearised at the line current.

    Stores alumina wt % (the cell's and the leanest zone's), back EMF and resistance in ``a``; returns the
    critical current density of the leanest zone (``A_ALUMINA_MIN``), where an anode effect starts.
    """
    cdef double t_k = x[X_T_BATH, k] + KELVIN
    cdef double c = fmax(100.0 * x[X_ALUMINA, k] / bath_mass(x, k), 1e-3)
    cdef double i = current * a[A_INV_ANODE_AREA, k] / a[A_ACTIVE, k]
    # the critical density switches the anode effect on: taken at a temperature inside its range (a bath
    # cooled by an outage is outside it, where the linear T term would fall without bound)
    cdef double t_crit = fmin(fmax(t_k, T_VALID_MIN + KELVIN), T_VALID_MAX + KELVIN)
    cdef double i_crit = critical_current_density_f(t_crit, c, a[A_AREA_FACTOR, k])
    cdef double c_lean = fmax(c + a[A_ZONE_OFFSET, k], 1e-3)
    cdef double d_b = bubble_thickness_c(i)
    cdef double phi = bubble_coverage_c(i, a[A_BATH_RATIO, k], c, p[P_AE_ALUMINA, k])
    # 1 / (kappa * area) with kappa = exp(ln kappa_base - 0.0200 %Al2O3)
    cdef double inv_kappa_area = exp(0.0200 * c - a[A_LOGK_BASE, k]) * a[A_INV_ANODE_AREA, k] / a[A_ACTIVE, k]
    a[A_ALUMINA_WT, k] = c
    a[A_ALUMINA_MIN, k] = c_lean
    a[A_BACK_EMF, k] = (
        standard_potential_c(t_k)
        - R_OVER_6F * t_k * log(alumina_activity_c(c * a[A_INV_SATURATION, k]))
        + anode_surface_overvoltage_c(t_k, fmax(log_current - a[A_LOG_ANODE_AREA, k] - a[A_LOG_ACTIVE, k],
                                                LOG_MIN_DENSITY), log(c))
        + anode_concentration_overvoltage_c(t_k, i, i_crit)
        + cathode_overvoltage_c(t_k, a[A_BATH_RATIO, k],
                                fmax(log_current - a[A_LOG_CATHODE_AREA, k], LOG_MIN_DENSITY)))
    a[A_RESISTANCE, k] = ((100.0 * x[X_ACD, k] - d_b + d_b * phi / (1.0 - phi)) * inv_kappa_area
                          + a[A_R_SERIES, k])
    return i_crit if c_lean >= c else critical_current_density_f(t_crit, c_lean, a[A_AREA_FACTOR, k])


cdef inline void update_electrics(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a,
                                  double[:, ::1] ctr, Py_ssize_t k, double current,
                                  double log_current) noexcept nogil:
    """Electrics of cell k with its anode-effect state: onset checked, AE voltage while on.

    An anode effect starts when the anode current density reaches the critical one (Grjotheim &
    Welch) or the dissolved alumina falls to the configured AE level, in the leanest zone; while it is
    on, the cell shows its AE back voltage in series with the anode, cathode and external resistances.
    """
    cdef double i_crit
    if x[X_AE_ON, k] < 0.5:
        i_crit = electrics(x, p, a, k, current, log_current)
        if a[A_ALUMINA_MIN, k] > p[P_AE_ALUMINA, k] and current * a[A_INV_ANODE_AREA, k] / a[A_ACTIVE, k] < i_crit:
            return
        x[X_AE_ON, k] = 1.0
        x[X_AE_TIME, k] = 0.0
        x[X_AE_SEEN, k] = 0.0
        x[X_AE_ATTEMPTS, k] = 0.0
        ctr[C_AE_COUNT, k] += 1.0
        # each AE its own back voltage: the gas film's voltage varies from one AE to the next
        x[X_AE_EMF, k] = fmax(p[P_AE_VOLTAGE, k] + p[P_AE_VOLTAGE_SD, k]
                              * event_normal(p[P_NOISE_SEED, k], ctr[C_AE_COUNT, k], STREAM_AE_VOLTAGE), AE_EMF_MIN)
    else:
        a[A_ALUMINA_WT, k] = fmax(100.0 * x[X_ALUMINA, k] / bath_mass(x, k), 1e-3)
    # an AE switched on from outside (a test, a restored state) has no draw: the configured voltage
    a[A_BACK_EMF, k] = x[X_AE_EMF, k] if x[X_AE_EMF, k] > 0.0 else p[P_AE_VOLTAGE, k]
    a[A_RESISTANCE, k] = a[A_R_SERIES, k]


cdef inline void heat_flows(const double[:, ::1] x, const double[:, ::1] p, const double[:, ::1] a,
                            Py_ssize_t k, Heat* h) noexcept nogil:
    """Heat capacity and heat flows of cell k (W), lumped bath/metal node, ledge, shell node."""
    cdef double t = x[X_T_BATH, k]
    cdef double t_amb = p[P_T_AMBIENT, k]
    cdef double liq = a[A_LIQUIDUS, k]
    cdef double area = p[P_SIDE_AREA, k]
    h.capacity = bath_mass(x, k) * p[P_C_BATH, k] + x[X_METAL, k] * p[P_C_METAL, k]
    # top and bottom paths: bath -> node -> air in series, the node at its share of the temperature drop
    # (its split) at steady state, so the nodes add heat capacity without changing the steady losses
    h.q_top = p[P_UA_TOP, k] / (1.0 - p[P_TOP_SPLIT, k]) * (t - x[X_T_TOP, k])
    h.q_top_air = p[P_UA_TOP, k] / p[P_TOP_SPLIT, k] * p[P_TOP_FACTOR, k] * (x[X_T_TOP, k] - t_amb)
    h.q_bottom = p[P_UA_BOTTOM, k] / (1.0 - p[P_BOTTOM_SPLIT, k]) * (t - x[X_T_CATHODE, k])
    h.q_bottom_air = p[P_UA_BOTTOM, k] / p[P_BOTTOM_SPLIT, k] * (x[X_T_CATHODE, k] - t_amb)
    h.q_bath_ledge = p[P_H_BATH_LEDGE, k] * area * (t - liq)
    h.q_ledge_shell = area * (liq - x[X_T_SHELL, k]) / (x[X_LEDGE, k] / p[P_K_LEDGE, k] + p[P_R_LINING, k])
    h.q_shell_air = area * p[P_H_SHELL, k] * x[X_SHELL_COOLING, k] * (x[X_T_SHELL, k] - t_amb)
    # cold anodes: the heat of one setting, taken first-order (smelter notes sec. 2.13, 2.17)
    h.q_anode = p[P_SETTING_HEAT, k] / p[P_SETTING_HEAT_TIME, k] * exp(-x[X_SETTING_TIME, k] / p[P_SETTING_HEAT_TIME, k])
    # crushed bath melts first order; each kg takes its heating from the potroom and its heat of fusion
    h.q_melt = (x[X_CRUSHED, k] / p[P_CRUSHED_TIME, k]
                * (p[P_CRUSHED_CP, k] * (t - t_amb) + p[P_LATENT, k])) if x[X_CRUSHED, k] > 0.0 else 0.0


cdef inline double dissolution_heat(const double[:, ::1] p, Py_ssize_t k, double superheat) noexcept nogil:
    """The superheat's factor on the dissolution rate: a cold shot freezes a crust of bath around itself that
    must melt before its alumina can dissolve, so the heat the bath brings to it limits the rate (Kobbeltvedt,
    Rolseth & Thonstad, Light Metals 1996; Haverkamp & Welch 1998: rate rising with superheat, agglomerates
    staying frozen without it). 1 at the reference superheat (superheat_ref_K), as SH / (SH + SH_half)
    normalised there: 0 at and below the liquidus (a frozen bath dissolves nothing), ~0.7 at half the
    reference, rising slowly above it [A: form and SH_half to calibrate]."""
    cdef double sh = fmax(superheat, 0.0), half = p[P_DISSOLUTION_SUPERHEAT, k], ref = p[P_SUPERHEAT_REF, k]
    return sh * (ref + half) / ((sh + half) * ref)


cdef inline double dissolution_rate(const double[:, ::1] p, const double[:, ::1] a, Py_ssize_t k) noexcept nogil:
    """First-order dissolution rate of the undissolved pool (1/s), driven by the distance to saturation:
    k_d (1 - c / c_sat) (mass transfer to the bath; notes sec. 2.14: rate falls with the bath's alumina),
    0 in a saturated bath; c from the last electrics, c_sat from the last slow step; times the superheat's
    factor (A_DISSOLUTION_HEAT, set with the properties)."""
    return (p[P_K_DISSOLVE, k] * a[A_DISSOLUTION_HEAT, k]
            * fmax(1.0 - a[A_ALUMINA_WT, k] * a[A_INV_SATURATION, k], 0.0))


cdef inline double nominal_feed_rate(const double[:, ::1] p, Py_ssize_t k, double current) noexcept nogil:
    """kg/s of alumina as fed that the controller expects cell k to consume at ``current`` (Faraday demand at the
    CE it expects: ce_ref at the line's design current, the loss a flux)."""
    return (productive_current_c(current, (1.0 - p[P_CE_REF, k]) * p[P_NOMINAL_CURRENT, k], 0.0)
            * AL2O3_PER_COULOMB / (1.0 - impurities(p, k)))


cdef inline double feed_rate(const double[:, ::1] x, const double[:, ::1] p, const double[:, ::1] a,
                             Py_ssize_t k, double current) noexcept nogil:
    """Feed rate, kg/s of alumina as fed: the nominal rate (Faraday demand for the measured current at the
    CE the controller expects: ce_ref at the line's design current, the loss a flux, so a lower current
    expects a lower CE) times the tracking controller's factor; or, with tracking off, the
    placeholder feeder that corrects toward the target alumina (it sees the true alumina); or, in
    replay, the rate imposed from outside.
    """
    cdef double nominal = nominal_feed_rate(p, k, current)
    cdef double gain
    if p[P_FEED_OVERRIDE, k] >= 0.0:              # replay: the feed the historian recorded
        return p[P_FEED_OVERRIDE, k]
    if p[P_TRACKING, k] > 0.5:
        return p[P_FEED_ENABLED, k] * nominal * feed_factor(x, p, k)
    gain = 1.0 + p[P_FEED_GAIN, k] * (p[P_ALUMINA_TARGET, k] - a[A_ALUMINA_WT, k])
    return p[P_FEED_ENABLED, k] * nominal * fmin(fmax(gain, 0.0), 2.0)


cdef inline void fast_step(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a,
                           double[:, ::1] s, double[:, ::1] ctr, Py_ssize_t k, double current,
                           double dt, bint continuous_feed) noexcept nogil:
    """Advance cell k over one fast step at constant line current."""
    cdef double u = a[A_BACK_EMF, k] + a[A_RESISTANCE, k] * current
    cdef Rates rate
    cdef double consumption
    cdef double w = impurities(p, k), formed = alumina_formed(p, k)
    cdef double r = p[P_UNDISSOLVED_FRACTION, k]
    cdef double kd = dissolution_rate(p, a, k)
    cdef double z = kd * dt
    # exp(-z) of the undissolved pool over the step: a Taylor series where it is exact to 1e-7 (the kernel's
    # common case, a few multiplications), the library call otherwise
    cdef double decay = 1.0 - z * (1.0 - 0.5 * z * (1.0 - z / 3.0 * (1.0 - 0.25 * z))) if z < 0.1 else exp(-z)
    cdef double f = feed_rate(x, p, a, k, current)
    cdef double u0 = x[X_UNDISSOLVED, k]
    cdef double total = u0 + x[X_ALUMINA, k]
    cdef double fed = 0.0, dosed = 0.0, dosed_carry = 0.0, u1, d1, demand, g, lag, production, carry
    # the share of a dose the feeders deliver (< 1 with a feeder choked or blocked): the controller doses
    # the cell-wide shot, the bath gets what arrives; a replayed feed is what arrived
    cdef double delivered = a[A_DELIVERED, k] if p[P_FEED_OVERRIDE, k] < 0.0 else 1.0
    faraday_rates(p, a, k, current, &rate)
    consumption = rate.alumina

    # alumina pools: closed form of du/dt = -kd u (+ inflow), total alumina by mass balance; each zone keeps
    # its undissolved alumina (zones.pxd)
    u1 = u0 * decay
    if continuous_feed:
        dosed = f * dt
        dosed_carry = dosed * ((1.0 - decay) / (kd * dt) if kd > 1e-12 else 1.0)
        fed = dosed * delivered
        u1 += r * (1.0 - w) * delivered * dosed_carry
    else:
        demand = x[X_FEED_DEMAND, k] + f * dt
        g = p[P_SHOT_MASS, k]
        while f > 0.0 and demand >= g:
            lag = (demand - g) / f          # time from this shot to the end of the step
            carry = exp(-kd * lag)
            u1 += r * (1.0 - w) * g * delivered * carry
            dosed += g
            dosed_carry += g * carry
            fed += g * delivered
            demand -= g
            ctr[C_SHOTS, k] += 1.0
        x[X_FEED_DEMAND, k] = demand
    d1 = total + fed * (1.0 - w) + fed * formed - consumption * dt - u1
    if d1 < 0.0:                            # no alumina left: electrolysis starves (only on a long AE)
        consumption = (total + fed * (1.0 - w) + fed * formed - u1) / dt
        d1 = 0.0
    if d1 > a[A_ALUMINA_CAP, k]:            # a saturated bath dissolves no more: the rest stays undissolved
        u1 += d1 - a[A_ALUMINA_CAP, k]
        d1 = a[A_ALUMINA_CAP, k]
    x[X_UNDISSOLVED, k] = u1
    x[X_ALUMINA, k] = d1
    book_feed(x, p, ctr, k, fed)
    zones_accumulate(a, k, decay, dosed, dosed_carry)
    x[X_METAL, k] += rate.metal * dt
    x[X_SETTING_TIME, k] += dt
    x[X_ACD, k] += rate.acd * dt
    x[X_ANODE_HEIGHT, k] -= rate.carbon / (p[P_RHO_ANODE, k] * p[P_ANODE_GEO_AREA, k]) * dt

    ctr[C_ALUMINA_CONSUMED, k] += consumption * dt
    ctr[C_METAL_PRODUCED, k] += rate.metal * dt
    ctr[C_CARBON_CONSUMED, k] += rate.carbon * dt
    ctr[C_ENERGY_DC, k] += u * current * dt / 3.6e6
    a[A_Q_ELECTRIC, k] += current * (u - current * p[P_R_EXTERNAL, k]) * dt
    a[A_Q_REACTION, k] += rate.metal * a[A_H_REACTION, k] * dt

    # anode effect: explicit switched state (onset in update_electrics, end by duration here or
    # by the controller's quench)
    if x[X_AE_ON, k] > 0.5:
        x[X_AE_TIME, k] += dt
        production = rate.metal * 86.4      # t Al per cell-day at the present rate
        ctr[C_AE_MINUTES, k] += dt / 60.0
        ctr[C_CF4, k] += p[P_SEF_CF4, k] * production * dt / 60.0
        ctr[C_C2F6, k] += p[P_SEF_CF4, k] * p[P_C2F6_RATIO, k] * production * dt / 60.0
        if x[X_AE_TIME, k] >= p[P_AE_DURATION, k]:
            x[X_AE_ON, k] = 0.0
            x[X_AE_TIME, k] = 0.0

    # the pot controller: it measures the voltage of this step, then acts on its own periods
    measure(x, p, a, k, u, current)
    anode_effect_control(x, p, a, ctr, k, u, current, rate.metal, dt)
    feed_control(x, p, a, ctr, k, dt)
    resistance_control(x, p, ctr, k, current, dt)

    s[S_VOLTAGE, k] += u
    s[S_CURRENT_CE, k] += rate.metal / AL_PER_COULOMB
    s[S_ALUMINA, k] += a[A_ALUMINA_WT, k]
    s[S_METAL_MASS, k] += x[X_METAL, k]
    s[S_ACD, k] += x[X_ACD, k]
    s[S_BATH_MASS, k] += bath_mass(x, k)
    s[S_BEAM_POSITION, k] += ctr[C_BEAM_POSITION, k]
    s[S_ALUMINA_FED, k] += ctr[C_ALUMINA_FED, k]


cdef inline double shell_cooling_target(const double[:, ::1] p, Py_ssize_t k, double current) noexcept nogil:
    """Setting the shell heat exchangers aim at: 1 at the design current, moved by the relative change of
    the line current times their gain, within their range (TRIMET/EnPot practice, park notes sec. 1.4:
    less shell cooling while the power is down, more while it is up)."""
    return fmin(fmax(1.0 + p[P_HX_GAIN, k] * (current / p[P_NOMINAL_CURRENT, k] - 1.0), p[P_HX_MIN, k]),
                p[P_HX_MAX, k])


cdef inline void melt_into_bath(double[:, ::1] x, const double[:, ::1] p, Py_ssize_t k, double kg) noexcept nogil:
    """``kg`` of crushed bath melted: into the bath by its composition (its heat is booked by the caller)."""
    x[X_CRUSHED, k] -= kg
    x[X_ALF3, k] += kg * p[P_CRUSHED_ALF3, k]
    x[X_CAF2, k] += kg * p[P_CRUSHED_CAF2, k]
    x[X_ALUMINA, k] += kg * p[P_CRUSHED_ALUMINA, k]
    x[X_CRYOLITE, k] += kg * (1.0 - p[P_CRUSHED_ALF3, k] - p[P_CRUSHED_CAF2, k] - p[P_CRUSHED_ALUMINA, k])


cdef inline void low_voltage_anode_effect(double[:, ::1] x, const double[:, ::1] p, const double[:, ::1] a,
                                          double[:, ::1] ctr, Py_ssize_t k, double current,
                                          LowVoltage* lv) noexcept nogil:
    """Low-voltage anode effect over a slow step (``lv``: the zones' time below the LVAE alumina, where it
    came): zones below it make CF4, off a full AE, at a share of the HVAE rate (the slope method's rate per
    AE-minute at the present production, notes sec. 2.18) in proportion to their area and depth (the LVAE
    index); one effect until no zone has been below for LVAE_GAP_S. A step that ends on a high-voltage AE
    books none (its minutes are the AE's)."""
    if x[X_AE_ON, k] > 0.5:
        x[X_LVAE_HOLD, k] = 0.0
        return
    x[X_LVAE_HOLD, k] = lv.hold
    ctr[C_LVAE_COUNT, k] += lv.onsets
    ctr[C_LVAE_DETECTED, k] += p[P_LVAE_DETECTION, k] * lv.onsets
    ctr[C_LVAE_MINUTES, k] += lv.time_below / 60.0
    ctr[C_CF4_LVAE, k] += (p[P_LVAE_CF4_RATIO, k] * p[P_SEF_CF4, k]
                           * a[A_CE, k] * current * AL_PER_COULOMB * 86.4 * lv.index_time / 60.0)


cdef inline double ledge_rate(const double[:, ::1] p, Py_ssize_t k, Heat* h) noexcept nogil:
    """Stefan condition: rho L dledge/dt = q(ledge face -> shell) - q(bath -> ledge face), m/s."""
    return (h.q_ledge_shell - h.q_bath_ledge) / (p[P_RHO_LEDGE, k] * p[P_LATENT, k] * p[P_SIDE_AREA, k])


cdef inline void slow_step(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a,
                           double[:, ::1] s, double[:, ::1] ctr, Py_ssize_t k, double dt_slow,
                           double weight, double current) noexcept nogil:
    """Heat balance, Stefan ledge and shell node over one slow step (Heun), then refresh the properties.

    The electric and reaction heat are the exact sums of the fast steps; the losses are averaged
    over the Euler predictor and the corrector, so every flux booked is the flux applied.
    """
    cdef Heat h0, h1, h
    cdef double t0 = x[X_T_BATH, k], ts0 = x[X_T_SHELL, k], ledge0 = x[X_LEDGE, k], cry0 = x[X_CRYOLITE, k]
    cdef double superheat0 = t0 - a[A_LIQUIDUS, k]
    cdef double tc0 = x[X_T_CATHODE, k], tt0 = x[X_T_TOP, k]
    cdef double q_in = a[A_Q_ELECTRIC, k] - a[A_Q_REACTION, k]
    cdef double stefan = p[P_RHO_LEDGE, k] * p[P_LATENT, k] * p[P_SIDE_AREA, k]
    cdef double frozen_per_m = p[P_RHO_LEDGE, k] * p[P_SIDE_AREA, k]
    cdef double d_ledge, d_t, d_ts, d_tc, d_tt, capacity, hx_target, superheat, mb, alumina_wt
    cdef LowVoltage lv

    s[S_T_BATH, k] += weight * t0
    s[S_LIQUIDUS, k] += weight * a[A_LIQUIDUS, k]
    s[S_ALF3, k] += weight * 100.0 * x[X_ALF3, k] / bath_mass(x, k)
    s[S_LEDGE, k] += weight * ledge0
    s[S_T_SHELL, k] += weight * ts0
    s[S_SHELL_COOLING, k] += weight * x[X_SHELL_COOLING, k]

    # predictor: explicit Euler to the end of the step
    heat_flows(x, p, a, k, &h0)
    d_ledge = fmax(ledge_rate(p, k, &h0) * dt_slow, p[P_LEDGE_MIN, k] - ledge0)
    x[X_LEDGE, k] = ledge0 + d_ledge
    x[X_CRYOLITE, k] = cry0 - frozen_per_m * d_ledge
    x[X_T_BATH, k] = t0 + (q_in - (h0.q_top + h0.q_bottom + h0.q_bath_ledge + h0.q_anode + h0.q_melt) * dt_slow) / h0.capacity
    x[X_T_SHELL, k] = ts0 + (h0.q_ledge_shell - h0.q_shell_air) * dt_slow / p[P_C_SHELL, k]
    x[X_T_CATHODE, k] = tc0 + (h0.q_bottom - h0.q_bottom_air) * dt_slow / p[P_C_CATHODE, k]
    x[X_T_TOP, k] = tt0 + (h0.q_top - h0.q_top_air) * dt_slow / p[P_C_TOP, k]
    a[A_LIQUIDUS, k] = bath_liquidus(x, k)    # the only property the heat flows need
    heat_flows(x, p, a, k, &h1)

    # corrector: mean of the start and predicted flows
    h.q_top = 0.5 * (h0.q_top + h1.q_top)
    h.q_top_air = 0.5 * (h0.q_top_air + h1.q_top_air)
    h.q_bottom = 0.5 * (h0.q_bottom + h1.q_bottom)
    h.q_bottom_air = 0.5 * (h0.q_bottom_air + h1.q_bottom_air)
    h.q_bath_ledge = 0.5 * (h0.q_bath_ledge + h1.q_bath_ledge)
    h.q_ledge_shell = 0.5 * (h0.q_ledge_shell + h1.q_ledge_shell)
    h.q_shell_air = 0.5 * (h0.q_shell_air + h1.q_shell_air)
    h.q_anode = 0.5 * (h0.q_anode + h1.q_anode)
    h.q_melt = 0.5 * (h0.q_melt + h1.q_melt)
    d_ledge = ledge_rate(p, k, &h) * dt_slow
    if ledge0 + d_ledge < p[P_LEDGE_MIN, k]:
        # ledge melted to its minimum: the bath passes on only what the wall and the melting take
        d_ledge = p[P_LEDGE_MIN, k] - ledge0
        h.q_bath_ledge = h.q_ledge_shell - stefan * d_ledge / dt_slow
    x[X_LEDGE, k] = ledge0 + d_ledge
    x[X_CRYOLITE, k] = cry0 - frozen_per_m * d_ledge
    # sensible heat is booked at the mean capacity: C changes only by the frozen/melted bath
    capacity = 0.5 * (h0.capacity + (h0.capacity - frozen_per_m * d_ledge * p[P_C_BATH, k]))
    d_t = (q_in - (h.q_top + h.q_bottom + h.q_bath_ledge + h.q_anode + h.q_melt) * dt_slow) / capacity
    d_ts = (h.q_ledge_shell - h.q_shell_air) * dt_slow / p[P_C_SHELL, k]
    d_tc = (h.q_bottom - h.q_bottom_air) * dt_slow / p[P_C_CATHODE, k]
    d_tt = (h.q_top - h.q_top_air) * dt_slow / p[P_C_TOP, k]
    x[X_T_BATH, k] = t0 + d_t
    x[X_T_SHELL, k] = ts0 + d_ts
    x[X_T_CATHODE, k] = tc0 + d_tc
    x[X_T_TOP, k] = tt0 + d_tt

    ctr[C_E_ELECTRIC, k] += a[A_Q_ELECTRIC, k]
    ctr[C_E_REACTION, k] += a[A_Q_REACTION, k]
    ctr[C_E_TOP, k] += h.q_top_air * dt_slow
    ctr[C_E_BOTTOM, k] += h.q_bottom_air * dt_slow
    ctr[C_E_TOP_NODE, k] += p[P_C_TOP, k] * d_tt
    ctr[C_E_CATHODE, k] += p[P_C_CATHODE, k] * d_tc
    ctr[C_E_SIDE, k] += h.q_shell_air * dt_slow
    ctr[C_E_ANODE, k] += h.q_anode * dt_slow
    ctr[C_E_ADDITIONS, k] += h.q_melt * dt_slow
    if x[X_CRUSHED, k] > 0.0:        # the mass whose heat was booked (Heun's mean rate x dt)
        melt_into_bath(x, p, k, fmin(x[X_CRUSHED, k] * dt_slow / p[P_CRUSHED_TIME, k], x[X_CRUSHED, k]))
    ctr[C_E_BATH, k] += capacity * d_t
    ctr[C_E_SHELL, k] += p[P_C_SHELL, k] * d_ts
    ctr[C_E_LATENT, k] -= stefan * d_ledge
    s[S_Q_LOSS, k] += weight * (h.q_top_air + h.q_bottom_air + h.q_shell_air)
    a[A_Q_ELECTRIC, k] = 0.0
    a[A_Q_REACTION, k] = 0.0
    # shell heat exchangers: their dampers follow the line current (feed-forward on the heat input),
    # first order, within their range
    hx_target = shell_cooling_target(p, k, current)
    x[X_SHELL_COOLING, k] += (hx_target - x[X_SHELL_COOLING, k]) * a[A_HX_RELAX, k]
    update_properties(x, p, a, k, current)
    # the fast steps of the next slow step dissolve at its mid-point's superheat, extrapolated from this step's
    # change (second order, as the Heun heat balance; at the step's start it would lag half a step)
    superheat = x[X_T_BATH, k] - a[A_LIQUIDUS, k]
    a[A_DISSOLUTION_HEAT, k] = dissolution_heat(p, k, superheat + 0.5 * (superheat - superheat0))
    mb = bath_mass(x, k)
    alumina_wt = 100.0 * x[X_ALUMINA, k] / mb
    zones_step(x, p, a, k, dt_slow, alumina_wt, mb, &lv)
    zone_alumina(x, p, a, k, alumina_wt, mb)
    low_voltage_anode_effect(x, p, a, ctr, k, current, &lv)
    # correlations used outside their validity ranges: counted, not stopped
    superheat = x[X_T_BATH, k] - a[A_LIQUIDUS, k]
    if (x[X_T_BATH, k] < T_VALID_MIN or x[X_T_BATH, k] > T_VALID_MAX or superheat < 0.0
            or superheat > SUPERHEAT_VALID_MAX or x[X_ALF3, k] < 0.0 or 100.0 * x[X_ALF3, k] > ALF3_VALID_MAX * mb
            or 100.0 * x[X_CAF2, k] > CAF2_VALID_MAX * mb):
        ctr[C_OUT_OF_RANGE, k] += dt_slow


def add_alumina(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] ctr, const Py_ssize_t[::1] cells,
                double mass):
    """Put ``mass`` kg of alumina (as fed) into each listed cell now, split like a feeder shot.

    For manual additions (an operator's quench, replayed feeds); the feeder itself runs in the kernel.
    """
    cdef Py_ssize_t i, k
    if not mass >= 0.0:
        raise ValueError(f"alumina mass must be >= 0 kg, got {mass}")
    for i in range(cells.shape[0]):
        k = cells[i]
        if not 0 <= k < x.shape[1]:
            raise IndexError(f"cell {k} is not in 0..{x.shape[1] - 1}")
        add_alumina_now(x, p, ctr, k, mass)


def nominal_feed(const double[:, ::1] p, const double[::1] current):
    """Each cell's nominal feed (kg/s of alumina as fed) at its ``current`` (A): the rate the pot controller
    doses around (``nominal_feed_rate``), for a feed set from outside (an operator's overfeed)."""
    import numpy as np
    cdef Py_ssize_t k, n = p.shape[1]
    if current.shape[0] != n:
        raise ValueError(f"{current.shape[0]} currents for {n} cells")
    out = np.empty(n)
    cdef double[::1] rate = out
    for k in range(n):
        rate[k] = nominal_feed_rate(p, k, current[k])
    return out


def quench_by_hand(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, double[:, ::1] ctr,
                   const Py_ssize_t[::1] cells, double mass):
    """An operator's kill of the anode effect on each listed cell: ``mass`` kg of alumina dumped and the beam
    pumped (the zones stirred even), the anode effect over, the controller then overfeeding as after its own
    quench. A kill by hand (beam pumping and a green pole under the anodes) ends the AE, as the crew's kill
    at P_AE_DURATION does; a cell not on anode effect is left as it is."""
    cdef Py_ssize_t i, k
    if not mass >= 0.0:
        raise ValueError(f"alumina mass must be >= 0 kg, got {mass}")
    for i in range(cells.shape[0]):
        k = cells[i]
        if not 0 <= k < x.shape[1]:
            raise IndexError(f"cell {k} is not in 0..{x.shape[1] - 1}")
        if x[X_AE_ON, k] < 0.5:
            continue
        add_alumina_now(x, p, ctr, k, mass)
        zones_stirred(x, a, k)
        x[X_AE_ON, k] = 0.0
        x[X_AE_TIME, k] = 0.0
        x[X_FEED_MODE, k] = MODE_OVERFEED
        x[X_MODE_TIME, k] = 0.0


def refresh(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, const Py_ssize_t[::1] cells):
    """Derived quantities of the listed cells from their state, after Python replaced it (a restarted cell)."""
    cdef Py_ssize_t i, k
    for i in range(cells.shape[0]):
        k = cells[i]
        if not 0 <= k < x.shape[1]:
            raise IndexError(f"cell {k} is not in 0..{x.shape[1] - 1}")
        cell_constants(p, a, k)
        update_properties(x, p, a, k, p[P_NOMINAL_CURRENT, k])
        zone_state(x, p, a, k)


def prepare(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, double[:, ::1] ctr,
            double[:, ::1] line, const Py_ssize_t[::1] line_start):
    """Fill the derived per-cell quantities and the line sums from a state (before the first advance)."""
    cdef Py_ssize_t j, k
    cdef double log_current
    for j in range(line_start.shape[0] - 1):
        log_current = log(fmax(line[L_CURRENT, j], 1.0))
        line[L_SUM_EMF, j] = 0.0
        line[L_SUM_RESISTANCE, j] = 0.0
        for k in range(line_start[j], line_start[j + 1]):
            cell_constants(p, a, k)
            update_properties(x, p, a, k, line[L_CURRENT, j])
            zone_state(x, p, a, k)
            update_electrics(x, p, a, ctr, k, line[L_CURRENT, j], log_current)
            if p[P_IN_SERVICE, k] > 0.5:
                line[L_SUM_EMF, j] += a[A_BACK_EMF, k]
                line[L_SUM_RESISTANCE, j] += a[A_RESISTANCE, k]


cdef void advance_line(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, double[:, ::1] s,
                       double[:, ::1] ctr, double[:, ::1] line, const double[:, ::1] line_p,
                       Py_ssize_t j, Py_ssize_t first, Py_ssize_t last, Py_ssize_t n_slow,
                       Py_ssize_t n_sub, double dt, bint continuous_feed) noexcept nogil:
    cdef Py_ssize_t i_slow, i_fast, k, n = n_slow * n_sub, step = 0
    cdef double current, log_current, sum_e, sum_r, i_set, v_target, resistance
    cdef double relax = 1.0 if line_p[LP_TAU, j] <= 0.0 else 1.0 - exp(-dt / line_p[LP_TAU, j])
    for k in range(first, last):          # parameters (and the feeders) may have changed since the last call
        cell_constants(p, a, k)
        series_resistance(x, p, a, k)
        zone_state(x, p, a, k)
        a[A_FILTER_GAIN, k] = 1.0 - exp(-dt / p[P_FILTER_TIME, k])
        a[A_SLOPE_NOISE, k] = slope_noise_factor(a[A_FILTER_GAIN, k], p[P_CONTROL_PERIOD, k] / dt,
                                                 p[P_CONTROL_PERIOD, k])
        a[A_HX_RELAX, k] = 1.0 - exp(-dt * n_sub / p[P_HX_TIME, k])
        zone_constants(p, a, k, dt * n_sub)
    for i_slow in range(n_slow):
        for i_fast in range(n_sub):
            current = line[L_CURRENT, j]
            log_current = log(fmax(current, 1.0))
            sum_e = 0.0
            sum_r = 0.0
            for k in range(first, last):
                if p[P_IN_SERVICE, k] < 0.5:     # cut out: the line current bypasses it
                    continue
                fast_step(x, p, a, s, ctr, k, current, dt, continuous_feed)
                update_electrics(x, p, a, ctr, k, current, log_current)
                sum_e = sum_e + a[A_BACK_EMF, k]
                sum_r = sum_r + a[A_RESISTANCE, k]
            line[L_SUM_CURRENT, j] += current
            line[L_SUM_VOLTAGE, j] += line[L_SOURCE_VOLTAGE, j]
            # rectifier: the regulator moves the source voltage toward what the set-point needs,
            # within its ceiling; the line current follows the cells' back EMF and resistance
            step += 1
            i_set = line_p[LP_I_SET_START, j] + (line_p[LP_I_SET_END, j] - line_p[LP_I_SET_START, j]) * step / n
            resistance = sum_r + line_p[LP_R_BUS, j]
            v_target = fmin(sum_e + resistance * i_set, line_p[LP_V_MAX, j])
            if i_set > 0.0:
                line[L_SOURCE_VOLTAGE, j] += (v_target - line[L_SOURCE_VOLTAGE, j]) * relax
            else:
                line[L_SOURCE_VOLTAGE, j] = 0.0      # outage: the rectifier is switched off
            line[L_CURRENT, j] = fmax((line[L_SOURCE_VOLTAGE, j] - sum_e) / resistance, 0.0)
            line[L_SUM_EMF, j] = sum_e
            line[L_SUM_RESISTANCE, j] = sum_r
        for k in range(first, last):
            if p[P_IN_SERVICE, k] > 0.5:
                slow_step(x, p, a, s, ctr, k, dt * n_sub, <double> n_sub, line[L_CURRENT, j])


def advance(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, double[:, ::1] s,
            double[:, ::1] ctr, double[:, ::1] line, const double[:, ::1] line_p,
            const Py_ssize_t[::1] line_start, Py_ssize_t n_slow, Py_ssize_t n_sub, double dt,
            bint continuous_feed=False, int num_threads=0):
    """Advance all lines by ``n_slow * n_sub`` fast steps of ``dt`` seconds.

    Arrays are the structure-of-arrays blocks of ``twin._core.layout`` (rows x cells, or rows x
    lines); ``line_start`` holds the first cell of each line and, last, the number of cells.
    ``prepare`` must have been called on the state. Lines run in parallel when OpenMP is built in.
    """
    cdef Py_ssize_t j, n_lines = line_start.shape[0] - 1
    cdef int threads = num_threads if num_threads > 0 else <int> n_lines
    if n_slow < 0 or n_sub < 1 or dt <= 0.0:
        raise ValueError(f"need n_slow >= 0, n_sub >= 1 and dt > 0; got {n_slow}, {n_sub}, {dt}")
    with nogil:
        for j in prange(n_lines, num_threads=threads, schedule="static"):
            advance_line(x, p, a, s, ctr, line, line_p, j, line_start[j], line_start[j + 1],
                         n_slow, n_sub, dt, continuous_feed)


def cell_rhs(const double[:, ::1] x, const double[:, ::1] p, double[:, ::1] a, double current):
    """Continuous right-hand side dx/dt of each cell at a fixed line current, continuous feeding.

    The same equations the kernel integrates (no events: feeding as a continuous inflow, no
    anode effect, no taps, no ledge clamp), for ``scipy.integrate.solve_ivp`` comparisons and for
    the steady-state solve. Returns an array shaped like ``x``. Updates ``a`` from ``x``.
    """
    import numpy as np
    cdef Py_ssize_t k, n = x.shape[1]
    out = np.zeros((N_STATE, n))
    cdef double[:, ::1] dx = out
    cdef Heat h
    cdef Rates rate
    cdef double log_current = log(fmax(current, 1.0)), u, f, w, r, d_ledge, melt
    for k in range(n):
        cell_constants(p, a, k)
        update_properties(x, p, a, k, current)
        zone_state(x, p, a, k)
        electrics(x, p, a, k, current, log_current)
        heat_flows(x, p, a, k, &h)
        faraday_rates(p, a, k, current, &rate)
        u = a[A_BACK_EMF, k] + a[A_RESISTANCE, k] * current
        f = feed_rate(x, p, a, k, current)
        w = impurities(p, k)
        r = p[P_UNDISSOLVED_FRACTION, k]
        d_ledge = ledge_rate(p, k, &h)
        dx[X_UNDISSOLVED, k] = r * (1.0 - w) * f - dissolution_rate(p, a, k) * x[X_UNDISSOLVED, k]
        dx[X_ALUMINA, k] = (dissolution_rate(p, a, k) * x[X_UNDISSOLVED, k] + (1.0 - r) * (1.0 - w) * f
                            + alumina_formed(p, k) * f - rate.alumina)
        dx[X_ALF3, k] = -(ALF3_PER_NA2O * p[P_NA2O, k] + ALF3_PER_CAO * p[P_CAO, k]) * f
        dx[X_CAF2, k] = CAF2_PER_CAO * p[P_CAO, k] * f
        dx[X_CRYOLITE, k] = (CRYOLITE_PER_NA2O * p[P_NA2O, k] * f
                             - p[P_RHO_LEDGE, k] * p[P_SIDE_AREA, k] * d_ledge)
        dx[X_METAL, k] = rate.metal
        dx[X_LEDGE, k] = d_ledge
        dx[X_T_BATH, k] = (current * (u - current * p[P_R_EXTERNAL, k]) - rate.metal * a[A_H_REACTION, k]
                           - h.q_top - h.q_bottom - h.q_bath_ledge - h.q_anode - h.q_melt) / h.capacity
        melt = x[X_CRUSHED, k] / p[P_CRUSHED_TIME, k]
        dx[X_CRUSHED, k] = -melt
        dx[X_ALF3, k] += melt * p[P_CRUSHED_ALF3, k]
        dx[X_CAF2, k] += melt * p[P_CRUSHED_CAF2, k]
        dx[X_ALUMINA, k] += melt * p[P_CRUSHED_ALUMINA, k]
        dx[X_CRYOLITE, k] += melt * (1.0 - p[P_CRUSHED_ALF3, k] - p[P_CRUSHED_CAF2, k] - p[P_CRUSHED_ALUMINA, k])
        dx[X_T_SHELL, k] = (h.q_ledge_shell - h.q_shell_air) / p[P_C_SHELL, k]
        dx[X_T_CATHODE, k] = (h.q_bottom - h.q_bottom_air) / p[P_C_CATHODE, k]
        dx[X_T_TOP, k] = (h.q_top - h.q_top_air) / p[P_C_TOP, k]
        dx[X_SHELL_COOLING, k] = (shell_cooling_target(p, k, current) - x[X_SHELL_COOLING, k]) / p[P_HX_TIME, k]
        dx[X_ACD, k] = rate.acd
        dx[X_ANODE_HEIGHT, k] = -rate.carbon / (p[P_RHO_ANODE, k] * p[P_ANODE_GEO_AREA, k])
        dx[X_SETTING_TIME, k] = 1.0
    return out


cdef extern from *:
    """
    #ifdef _OPENMP
    static const int TWIN_OPENMP_ENABLED = 1;
    #else
    static const int TWIN_OPENMP_ENABLED = 0;
    #endif
    """
    const int TWIN_OPENMP_ENABLED


def measurement_noise(double seed, Py_ssize_t n, double first=0.0):
    """``n`` draws of the unit noise stream ``seed`` from counter ``first`` (what the controllers add)."""
    import numpy as np
    out = np.empty(n)
    cdef double[::1] o = out
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = standard_noise(seed, first + i)
    return out


def openmp_enabled():
    """True when the kernel was compiled with OpenMP, so potlines advance in parallel."""
    return bool(TWIN_OPENMP_ENABLED)
