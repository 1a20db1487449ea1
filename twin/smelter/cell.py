"""Layout of a cell's state and parameters, and their construction from the configuration.

The kernel works on structure-of-arrays blocks (one row per variable, one column per cell); the
row names come from the compiled layout (``twin._core.pot``), so Python and C cannot disagree.
All conversions from the config's units to SI happen here, once.
"""
from __future__ import annotations

import numpy as np

from twin._core import pot
from twin.smelter.bath import back_reaction_anchor, pad_instability
from twin.smelter.config import CellConfig, ControlConfig

STATE = {name: i for i, name in enumerate(pot.STATE_NAMES)}
PARAM = {name: i for i, name in enumerate(pot.PARAM_NAMES)}
AUX = {name: i for i, name in enumerate(pot.AUX_NAMES)}
SUM = {name: i for i, name in enumerate(pot.SUM_NAMES)}
COUNTER = {name: i for i, name in enumerate(pot.COUNTER_NAMES)}
LINE = {name: i for i, name in enumerate(pot.LINE_NAMES)}
LINE_PARAM = {name: i for i, name in enumerate(pot.LINE_PARAM_NAMES)}

# Fluorine mass fractions (IUPAC atomic weights) for the fluoride balance.
F_IN_CRYOLITE = 6 * 18.998403 / 209.9413
F_IN_ALF3 = 3 * 18.998403 / 83.9767
F_IN_CAF2 = 2 * 18.998403 / 78.0748
# mean heat capacity of solid cryolite between the potroom and the bath temperature [M] (JANAF ~1.5 kJ/(kg K))
CRUSHED_BATH_CP = 1.5e3


def reference_current_A(cell: CellConfig) -> float:
    """The reference cell's line current (A): its CE anchor's cathode current density on its cathode."""
    return cell.ce_ref_cathode_A_per_cm2 * cell.cathode_area_m2 * 1e4


def excess_carbon_kg_per_s(cell: CellConfig) -> float:
    """Carbon a cell burns beyond Faraday's CO2 (kg/s): air and CO2 attack on its anodes' footprint."""
    return cell.excess_carbon_kg_per_m2_day * cell.anodes * cell.anode_length_m * cell.anode_width_m / 86400.0


def staggered_mean_height_m(cell: CellConfig) -> float:
    """Mean carbon height of a cell whose anodes are evenly spread over their life, at the reference current:
    halfway between a new anode and its butt (uniform burn)."""
    net_carbon = reference_current_A(cell) * pot.CARBON_KG_PER_COULOMB + excess_carbon_kg_per_s(cell)
    burnt = net_carbon * cell.anode_cycle_days * 86400.0 / cell.anodes      # kg of one anode over its life
    butt_share = max(1.0 - burnt / cell.anode_carbon_kg, 0.0)
    return cell.anode_height_m * (1.0 + butt_share) / 2.0


def cathode_drop_rise_V(cell: CellConfig, age_days: np.ndarray | float) -> np.ndarray:
    """Rise of the cathode voltage drop with the lining's age (V at the reference current): an early rise
    that saturates, then a steady one (the config's cathode_drop_* keys)."""
    age = np.asarray(age_days, float)
    return 1e-3 * (cell.cathode_drop_early_mV * (1.0 - np.exp(-age / cell.cathode_drop_early_days))
                   + cell.cathode_drop_mV_per_year * age / 365.25)


def cathode_age_resistance(cell: CellConfig, age_days: np.ndarray | float) -> np.ndarray:
    """Cathode resistance (ohm) a lining of ``age_days`` has above or below ``r_cathode_uohm``, which holds at
    ``cathode_drop_ref_days``."""
    return ((cathode_drop_rise_V(cell, age_days) - cathode_drop_rise_V(cell, cell.cathode_drop_ref_days))
            / reference_current_A(cell))


def cell_parameters(cell: CellConfig, control: ControlConfig, n_cells: int, seed: int = 0) -> np.ndarray:
    """Parameter block ``(len(PARAM_NAMES), n_cells)`` in SI units from a cell design and its controller.

    Two controller parameters depend on the line and the operating point and are set by the
    potline: ``slope_threshold`` (a normalised voltage slope over the line current) and
    ``r_target`` (by default the steady pseudo-resistance).
    """
    anode_geo_m2 = cell.anodes * cell.anode_length_m * cell.anode_width_m
    values = {
        "anode_area": anode_geo_m2 * 1e4 * cell.fanning_factor,
        "one_anode_area": cell.anode_length_m * cell.anode_width_m * 1e4,
        "cathode_area": cell.cathode_area_m2 * 1e4,
        "r_anode": cell.r_anode_uohm * 1e-6,
        "r_cathode": cell.r_cathode_uohm * 1e-6,
        "r_external": cell.r_external_uohm * 1e-6,
        "ae_alumina": cell.ae_alumina_wt,
        "ae_voltage": cell.ae_voltage_V,
        "ae_voltage_sd": cell.ae_voltage_sd_V,
        "ae_duration": cell.ae_duration_s,
        "sef_cf4": cell.pfc_slope_cf4,
        "c2f6_ratio": cell.pfc_c2f6_ratio,
        "undissolved_fraction": float(np.clip(cell.undissolved_fraction + cell.fines_undissolved_per_wt
                                              * (cell.fines_wt - cell.fines_ref_wt), 0.0, 1.0)),
        "k_dissolve": cell.dissolution_rate_per_s,
        "dissolution_superheat": cell.dissolution_half_superheat_K,
        "shot_mass": cell.shot_mass_kg,
        "na2o": cell.na2o_wt / 100.0,
        "cao": cell.cao_wt / 100.0,
        "feed_gain": cell.feed_gain_per_wt,
        "alumina_target": cell.alumina_wt,
        "feed_enabled": 1.0,
        "c_bath": cell.bath_heat_capacity_J_per_kgK,
        "c_metal": cell.metal_heat_capacity_J_per_kgK,
        "ua_top": cell.ua_top_W_per_K,
        "ua_bottom": cell.ua_bottom_W_per_K,
        "t_ambient": cell.ambient_C,
        "side_area": cell.side_area_m2,
        "h_bath_ledge": cell.h_bath_ledge_W_per_m2K,
        "k_ledge": cell.k_ledge_W_per_mK,
        "rho_ledge": cell.rho_ledge_kg_per_m3,
        "latent": cell.latent_heat_kJ_per_kg * 1e3,
        "r_lining": cell.r_lining_m2K_per_W,
        "h_shell": cell.h_shell_W_per_m2K,
        "c_shell": cell.shell_heat_capacity_MJ_per_K * 1e6,
        "ledge_min": cell.ledge_min_cm / 100.0,
        "ce_ref": cell.ce_ref,
        "superheat_ref": cell.superheat_ref_K,
        "alf3_ref": cell.alf3_ref_wt,
        "rho_anode": cell.rho_anode_kg_per_m3,
        "anode_geo_area": anode_geo_m2,
        "excess_carbon": excess_carbon_kg_per_s(cell),
        "anode_resistivity": cell.anode_resistivity_uohm_m * 1e-6,
        "anode_height_ref": staggered_mean_height_m(cell),
        "r_cathode_age": 0.0,                  # set by the linings from each cell's age
        "rho_metal": cell.rho_metal_kg_per_m3,
        "tracking": 1.0 if control.feed_control == "tracking" else 0.0,
        "back_emf": control.back_emf_V,
        "filter_time": control.filter_time_s,
        "control_period": control.control_period_s,
        "nominal_time": control.nominal_time_s,
        "underfeed_factor": control.underfeed_factor,
        "overfeed_factor": control.overfeed_factor,
        "slope_threshold": np.nan,
        "slope_sigmas": control.slope_noise_sigmas,
        "underfeed_timeout": control.underfeed_timeout_s,
        "overfeed_time": control.overfeed_time_s,
        "resistance_control": 1.0 if control.resistance_control else 0.0,
        "beam_period": control.beam_period_s,
        "r_target": (control.resistance_target_uohm or np.nan) * 1e-6,
        "r_band": control.resistance_band_uohm * 1e-6,
        "large_error": control.large_error_uohm * 1e-6,
        "acd_sensitivity": control.acd_sensitivity_uohm_per_mm * 1e-6 / 1e-3,
        "beam_max_move": control.beam_max_move_mm / 1e3,
        "beam_max_moves": float(control.beam_max_moves_per_day),
        "ae_detect_voltage": control.ae_detect_V,
        "quench_delay": control.quench_delay_s,
        "quench_mass": control.quench_alumina_kg,
        "quench_success": control.quench_success,
        "quench_retry": control.quench_retry_s,
        "quench_attempts": control.quench_attempts,
        "setting_heat": cell.setting_heat_GJ * 1e9,
        "setting_heat_time": cell.setting_heat_time_h * 3600.0,
        "pickup_time": cell.pickup_time_h * 3600.0,
        "setting_fraction": cell.anodes_per_setting / cell.anodes,
        "ovc": cell.pfc_overvoltage_coefficient,
        "ovc_c2f6_ratio": cell.pfc_overvoltage_c2f6_ratio,
        "noise_sd": control.voltage_noise_mV * 1e-3,
        # one noise stream per cell: an integer below 2**52, so the double holds it exactly
        "noise_seed": (np.random.SeedSequence([seed]).generate_state(1, np.uint64)[0] % 2**40) * 4096
        + np.arange(n_cells),
        "feed_override": -1.0,
        "c_cathode": cell.cathode_heat_capacity_MJ_per_K * 1e6,
        "bottom_split": cell.bottom_split,
        "c_top": cell.top_heat_capacity_MJ_per_K * 1e6,
        "top_split": cell.top_split,
        "top_factor": 1.0,
        "nominal_current": np.nan,             # set by the potline (its design current)
        "hx_gain": control.shell_cooling_gain,
        "hx_min": control.shell_cooling_min,
        "hx_max": control.shell_cooling_max,
        "hx_time": control.shell_cooling_time_min * 60.0,
        "heat_feedforward": control.heat_feedforward,
        "enthalpy_voltage": np.nan,            # set at the steady start (production enthalpy per coulomb)
        "r_additive": 0.0,
        "noise_gain": control.noise_gain_uohm_per_mV * 1e-6 / 1e-3,
        "noise_threshold": control.noise_threshold_mV * 1e-3,
        "acd_min": control.acd_min_cm / 100.0,
        "acd_max": control.acd_max_cm / 100.0,
        "pad_acd": cell.pad_instability_acd_cm / 100.0,
        "pad_length": cell.pad_instability_length_cm / 100.0,
        "ce_pad_loss": cell.ce_pad_loss,
        # the back reaction's loss flux at the reference bath, anchored at the reference point (never at the
        # configured ACD or current: those move the CE)
        "loss_density": back_reaction_anchor(
            cell.ce_ref,
            cell.ce_pad_loss * pad_instability(cell.ce_ref_acd_cm / 100.0, cell.pad_instability_acd_cm / 100.0,
                                               cell.pad_instability_length_cm / 100.0),
            cell.ce_ref_cathode_A_per_cm2),
        "pad_noise": cell.pad_noise_mV * 1e-3,
        "crushed_alf3": cell.alf3_wt / 100.0,         # crushed bath is bath of the design composition
        "crushed_caf2": cell.caf2_wt / 100.0,
        "crushed_alumina": cell.alumina_wt / 100.0,
        "crushed_cp": CRUSHED_BATH_CP,
        "crushed_time": cell.crushed_bath_melt_h * 3600.0,
        "zones": float(cell.alumina_zones),
        "zone_mixing_time": cell.zone_mixing_time_min * 60.0,
        "lvae_alumina": cell.lvae_alumina_wt,
        "lvae_cf4_ratio": cell.lvae_cf4_ratio,
        "lvae_detection": 1.0 if control.lvae_detection else 0.0,
        # each feeder its equal share of the dose (cell-to-cell variation moves them)
        **{f"feeder_dose_{z}": 1.0 for z in range(pot.ALUMINA_ZONES_MAX)},
        "in_service": 1.0,
    }
    missing = set(pot.PARAM_NAMES) - set(values)
    if missing:
        raise RuntimeError(f"cell parameters not set from the config: {sorted(missing)}")
    params = np.empty((len(pot.PARAM_NAMES), n_cells))
    for name, value in values.items():
        params[PARAM[name]] = value
    return params


def initial_state(cell: CellConfig, n_cells: int) -> np.ndarray:
    """State block at the configured bath composition, before the steady-state solve.

    Temperature, ledge and shell are first guesses; ``twin.smelter.steady`` sets them.
    """
    x = np.zeros((len(pot.STATE_NAMES), n_cells))
    bath = cell.bath_mass_t * 1e3
    x[STATE["alf3"]] = bath * cell.alf3_wt / 100.0
    x[STATE["caf2"]] = bath * cell.caf2_wt / 100.0
    x[STATE["alumina"]] = bath * cell.alumina_wt / 100.0
    x[STATE["cryolite"]] = bath - x[STATE["alf3"]] - x[STATE["caf2"]] - x[STATE["alumina"]]
    x[STATE["metal"]] = cell.metal_mass_t * 1e3
    x[STATE["ledge"]] = 0.08
    x[STATE["t_bath"]] = 960.0
    x[STATE["t_shell"]] = 300.0
    x[STATE["acd"]] = cell.acd_cm / 100.0
    x[STATE["shell_cooling"]] = 1.0
    x[STATE["anode_height"]] = staggered_mean_height_m(cell)
    for z in range(pot.ALUMINA_ZONES_MAX):
        x[STATE[f"feeder_{z}"]] = 1.0             # every feeder sound
    return x


def pot_names(line_names: list[str], cell_line: np.ndarray) -> list[str]:
    """Pot names as plants write them: the line's name, ``.P`` and the pot's number in its line (PL1.P001)."""
    cell_line = np.asarray(cell_line)
    first = {j: int(np.flatnonzero(cell_line == j)[0]) for j in np.unique(cell_line)}
    return [f"{line_names[j]}.P{k - first[j] + 1:03d}" for k, j in enumerate(cell_line.tolist())]


def bath_weight_fractions(x: np.ndarray) -> dict[str, np.ndarray]:
    """wt % of excess AlF3, CaF2 and dissolved alumina, and bath mass (kg), from a state block."""
    bath = x[STATE["cryolite"]] + x[STATE["alf3"]] + x[STATE["caf2"]] + x[STATE["alumina"]]
    return {
        "bath_mass": bath,
        "alf3": 100.0 * x[STATE["alf3"]] / bath,
        "caf2": 100.0 * x[STATE["caf2"]] / bath,
        "alumina": 100.0 * x[STATE["alumina"]] / bath,
    }


def fluorine_of(cryolite, alf3, caf2):
    """kg fluorine in the given kg (or kg/kg) of cryolite, excess AlF3 and CaF2."""
    return F_IN_CRYOLITE * cryolite + F_IN_ALF3 * alf3 + F_IN_CAF2 * caf2


def fluoride_mass(x: np.ndarray, params: np.ndarray) -> np.ndarray:
    """kg fluorine held by each cell: bath fluorides, the (cryolite) side ledge and crushed bath not yet melted."""
    ledge_mass = x[STATE["ledge"]] * params[PARAM["side_area"]] * params[PARAM["rho_ledge"]]
    return (fluorine_of(x[STATE["cryolite"]] + ledge_mass, x[STATE["alf3"]], x[STATE["caf2"]])
            + crushed_fluorine_fraction(params) * x[STATE["crushed"]])


def crushed_fluorine_fraction(params: np.ndarray) -> np.ndarray:
    """kg fluorine per kg of each cell's crushed bath."""
    alf3, caf2, alumina = (params[PARAM[f"crushed_{name}"]] for name in ("alf3", "caf2", "alumina"))
    return fluorine_of(1.0 - alf3 - caf2 - alumina, alf3, caf2)
