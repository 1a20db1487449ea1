"""The smelter's configuration: the cell design, its pot control, the crew's routine, the potlines, the cells that
differ (calibrated values) and the cathode linings. Units live in the key names (``current_kA``, ``acd_cm``);
values are converted to SI once, when the kernel's parameter arrays are built (``twin.smelter.cell``)."""
from __future__ import annotations

import difflib
import itertools
import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from twin.schema import Fraction, Name, NonNegative, Positive, Section


class CellConfig(Section):
    """Design and operating point shared by the cells of the smelter (a 500 kA PFPB cell by default)."""

    # geometry and electrical
    anodes: Annotated[int, Field(ge=2, le=80)] = 48
    anode_length_m: Annotated[float, Field(gt=0.5, le=3.0)] = 1.80
    anode_width_m: Annotated[float, Field(gt=0.3, le=1.5)] = 0.70
    anode_height_m: Annotated[float, Field(gt=0.2, le=1.0)] = 0.60
    fanning_factor: Annotated[float, Field(ge=1.0, le=1.5)] = 1.10
    cathode_area_m2: Annotated[float, Field(gt=10, le=200)] = 70.0
    acd_cm: Annotated[float, Field(ge=2.0, le=8.0)] = 4.5
    # anode assembly and carbon at the staggered cell's mean carbon height; the carbon's share then follows the
    # height (resistivity x height / area; baked anodes ~50-60 uohm m cold, less hot [M: R&D Carbon, Anodes for
    # the Aluminium Industry, 1995])
    r_anode_uohm: NonNegative = 0.60
    anode_resistivity_uohm_m: Annotated[float, Field(ge=10, le=120)] = 45.0
    # cathode blocks and collector bars at a lining age of cathode_drop_ref_days; the drop rises with the
    # lining's age, fast in its first months (sodium, bar-carbon contact), then steadily (Sorlie & Oye,
    # Cathodes in Aluminium Electrolysis, 3rd ed. 2010: tens of mV over a lining's life [M]; the split into
    # an early and a steady rise and their sizes are assumptions [A] to calibrate against CVD readings)
    r_cathode_uohm: NonNegative = 0.50
    cathode_drop_ref_days: Annotated[float, Field(ge=0, le=5000)] = 1000.0
    cathode_drop_early_mV: Annotated[float, Field(ge=0, le=300)] = 30.0
    cathode_drop_early_days: Annotated[float, Field(gt=0, le=2000)] = 200.0
    cathode_drop_mV_per_year: Annotated[float, Field(ge=0, le=100)] = 15.0
    r_external_uohm: NonNegative = 0.30
    # bath and metal
    bath_mass_t: Annotated[float, Field(gt=1, le=40)] = 12.0
    # compositions within the correlations' ranges and plant practice (notes sec. 3.1: excess AlF3 10-13,
    # CaF2 4-6, alumina 1.8-3.5 wt %); alumina must also stay below saturation (~8 wt %)
    alf3_wt: Annotated[float, Field(ge=4, le=16)] = 11.5
    caf2_wt: Annotated[float, Field(ge=0, le=10)] = 5.0
    alumina_wt: Annotated[float, Field(ge=1.5, le=6.0)] = 2.5
    metal_mass_t: Annotated[float, Field(gt=1, le=100)] = 34.0
    # alumina feeding (nominal feeder; tracking control is a later issue)
    shot_mass_kg: Annotated[float, Field(gt=0, le=20)] = 1.8
    undissolved_fraction: Fraction = 0.6
    dissolution_rate_per_s: Annotated[float, Field(gt=0, le=1)] = 0.003      # at superheat_ref_K
    # the heat the bath brings to a shot limits its dissolution: the rate goes as SH / (SH + this), 0 below the
    # liquidus (twin/_core/pot.pyx dissolution_rate) [A]
    dissolution_half_superheat_K: Annotated[float, Field(gt=0, le=50)] = 5.0
    # Na2O of the alumina fed; in a park with a refinery the silo's (the refinery's bound soda) replaces it
    na2o_wt: Annotated[float, Field(ge=0, le=2)] = 0.4
    # CaO of smelter-grade alumina (~0.01-0.05 wt % [M: SGA specifications]) is the bath's CaF2 source
    # (3 CaO + 2 AlF3 -> 3 CaF2 + Al2O3; notes sec. 2.15: CaF2 is not added, it equilibrates at 4-6 %); with the
    # bath the crew taps, 0.035 % settles the reference cell near 4.7 % CaF2 within about a year
    cao_wt: Annotated[float, Field(ge=0, le=0.5)] = 0.035
    # fines (< 45 um) agglomerate and join the undissolved pool; notes sec. 2.14 give the direction
    # (JOM 67 (2015) 2170; Thonstad, Kobbeltvedt, Rolseth), not a law: the sensitivity is an assumption
    # to calibrate; the defaults leave the undissolved fraction as configured at fines_ref_wt
    fines_wt: Annotated[float, Field(ge=0, le=30)] = 5.0
    fines_ref_wt: Annotated[float, Field(ge=0, le=30)] = 5.0
    fines_undissolved_per_wt: Annotated[float, Field(ge=0, le=0.05)] = 0.01
    feed_gain_per_wt: Annotated[float, Field(ge=0, le=10)] = 0.5
    # anode effect
    ae_alumina_wt: Annotated[float, Field(ge=0.5, le=3.0)] = 1.8
    # an anode effect's back voltage: drawn per AE about ae_voltage_V (high-voltage AEs run at ~20-50 V,
    # Tabereaux, JOM 1994; at least 10 V); one the controller does not quench lasts ae_duration_s: the crew
    # kills it by hand within minutes [A]
    ae_voltage_V: Annotated[float, Field(ge=5, le=80)] = 25.0
    ae_voltage_sd_V: Annotated[float, Field(ge=0, le=20)] = 5.0
    ae_duration_s: Annotated[float, Field(gt=0, le=3600)] = 300.0
    pfc_slope_cf4: NonNegative = 0.104
    pfc_c2f6_ratio: NonNegative = 0.057
    pfc_overvoltage_coefficient: NonNegative = 1.16      # (kg CF4/t Al)/mV, IPCC CWPB (no PFPB value published)
    pfc_overvoltage_c2f6_ratio: NonNegative = 0.121
    # alumina zones, one per feeder group (notes sec. 2.14: 2-4 zones with exchange for AE/LVAE realism,
    # Yao 2017, Dion 2018); neighbours exchange dissolved alumina with this time constant [A: to calibrate
    # against zone samples]; at least 2 min, so the kernel's explicit exchange is stable at any fast step
    alumina_zones: Annotated[int, Field(ge=1, le=4)] = 4
    zone_mixing_time_min: Annotated[float, Field(ge=2, le=600)] = 20.0
    # low-voltage anode effects (notes sec. 2.18; Wong, Welch, Nunez, Dion, Spirin 2019): a zone below
    # lvae_alumina_wt makes CF4 without a high-voltage AE, at lvae_cf4_ratio of the HVAE rate of the same
    # anode area at the AE alumina, linear in between [A: both to calibrate against measured LVAE PFC]
    lvae_alumina_wt: Annotated[float, Field(ge=0.5, le=3.5)] = 2.0
    lvae_cf4_ratio: Annotated[float, Field(ge=0, le=1)] = 0.05
    # heat balance
    bath_heat_capacity_J_per_kgK: Annotated[float, Field(gt=1000, le=3000)] = 1800.0
    metal_heat_capacity_J_per_kgK: Annotated[float, Field(gt=800, le=1500)] = 1177.0
    ua_top_W_per_K: Positive = 570.0
    ua_bottom_W_per_K: Positive = 140.0
    ambient_C: Annotated[float, Field(ge=-40, le=80)] = 40.0
    side_area_m2: Annotated[float, Field(gt=1, le=200)] = 30.0
    h_bath_ledge_W_per_m2K: Annotated[float, Field(gt=100, le=5000)] = 1300.0
    k_ledge_W_per_mK: Annotated[float, Field(gt=0.5, le=5)] = 2.0
    rho_ledge_kg_per_m3: Annotated[float, Field(gt=2000, le=3500)] = 2700.0
    latent_heat_kJ_per_kg: Annotated[float, Field(gt=100, le=1000)] = 530.0
    r_lining_m2K_per_W: Annotated[float, Field(gt=0, le=1)] = 0.01
    h_shell_W_per_m2K: Annotated[float, Field(gt=1, le=500)] = 45.0
    shell_heat_capacity_MJ_per_K: Positive = 15.0
    ledge_min_cm: Annotated[float, Field(gt=0, le=5)] = 0.5
    # the masses that carry a cell through hours (notes sec. 2.13, 4: bath 1-5 h, ledge 5-50 h, lining days):
    # the top path (bath -> anodes, crust and cover -> air) and the bottom path (metal -> cathode blocks ->
    # bottom lining -> air) each pass a node; ``*_split`` is the node's place in the path's temperature
    # drop at steady state, so the nodes add heat capacity, not loss. [A]: ~40 t of anode carbon at
    # ~1.5 kJ/(kg K) with the crust and cover; ~30 t of cathode carbon at ~1.8 kJ/(kg K) with the bars.
    top_heat_capacity_MJ_per_K: Annotated[float, Field(gt=0, le=500)] = 60.0
    top_split: Annotated[float, Field(gt=0.05, lt=0.95)] = 0.5
    cathode_heat_capacity_MJ_per_K: Annotated[float, Field(gt=0, le=500)] = 60.0
    bottom_split: Annotated[float, Field(gt=0.05, lt=0.95)] = 0.85
    # metal-pad stability (notes sec. 2.11, 2.16 [M]: CE rises with ACD to ~4-5 cm, falls below ~4 cm; the
    # noise rises as the ACD falls): index exp((pad_instability_acd_cm - ACD) / pad_instability_length_cm)
    # scales a CE loss and a voltage noise; the shape and sizes are assumptions [A] to calibrate per design
    pad_instability_acd_cm: Annotated[float, Field(ge=2.0, le=6.0)] = 4.0
    pad_instability_length_cm: Annotated[float, Field(ge=0.1, le=3.0)] = 0.5
    ce_pad_loss: Annotated[float, Field(ge=0, le=0.1)] = 0.007
    pad_noise_mV: Annotated[float, Field(ge=0, le=200)] = 10.0
    # sodium uptake by the cathode (notes sec. 2.15 [M]: new cathodes take sodium for their first 1-2
    # years): NaF leaves the bath at new_rate exp(-age / time); ~2 t NaF over a lining's life [A]
    cathode_age_days: Annotated[float, Field(ge=0, le=5000)] = 1000.0
    sodium_uptake_new_kg_per_day: Annotated[float, Field(ge=0, le=200)] = 20.0
    sodium_uptake_time_days: Annotated[float, Field(gt=0, le=2000)] = 100.0
    # crushed bath the crew adds (bath height management) melts into the bath first order [A]: hours
    crushed_bath_melt_h: Annotated[float, Field(gt=0.1, le=48)] = 3.0
    # current efficiency: the back reaction is a loss flux per m2 of metal-bath interface (Sterten-Solli; its
    # bath dependence Dewing's), anchored once at the reference point: the cell's CE is ce_ref at a cathode
    # current density of ce_ref_cathode_A_per_cm2 (the reference cell's 500 kA on 70 m2), superheat_ref_K,
    # alf3_ref_wt and an ACD of ce_ref_acd_cm (its pad-instability loss); its own current, cathode area, ACD
    # and bath then move it (twin.smelter.bath.current_efficiency)
    ce_ref: Annotated[float, Field(gt=0.8, le=0.99)] = 0.95
    superheat_ref_K: Annotated[float, Field(gt=0, le=30)] = 8.0
    alf3_ref_wt: Annotated[float, Field(ge=0, le=20)] = 11.5
    ce_ref_cathode_A_per_cm2: Annotated[float, Field(ge=0.3, le=1.5)] = 500e3 / 70e4
    ce_ref_acd_cm: Annotated[float, Field(ge=2.0, le=8.0)] = 4.5
    # anodes: life, setting in pairs, the cold anodes' heat sink and current pick-up (notes 2.13, 2.17)
    # a new anode's carbon: its dimensions times rho_anode_kg_per_m3 (a value given here must agree with them)
    anode_mass_kg: Annotated[float, Field(gt=100, le=3000)] | None = None
    anode_cycle_days: Annotated[float, Field(ge=10, le=60)] = 27.0
    anodes_per_setting: Annotated[int, Field(ge=1, le=4)] = 2
    setting_heat_GJ: Annotated[float, Field(ge=0, le=10)] = 2.6
    setting_heat_time_h: Annotated[float, Field(gt=0, le=72)] = 8.0
    pickup_time_h: Annotated[float, Field(gt=0, le=72)] = 8.0
    # carbon and metal
    rho_anode_kg_per_m3: Annotated[float, Field(gt=1000, le=2000)] = 1550.0
    # carbon burnt beyond Faraday's CO2, per m2 of anode footprint and day: air burn of tops and sides,
    # carboxy (CO2) attack, dusting. It goes by the hour, not by the ampere, so the net carbon per tonne rises
    # as the current falls (Kuang et al., Metall. Mater. Trans. B 27 (1996) 177: consumption above Faraday's
    # rises as the current density falls). 3.8 gives ~230 kg a day on 60.5 m2, net carbon 0.41 t/t Al at
    # 500 kA and CE 95 % (notes sec. 2.17: 0.40-0.43; Fischer et al., Light Metals 1993: 334/CE kg/t from
    # Faraday plus the excess)
    excess_carbon_kg_per_m2_day: Annotated[float, Field(ge=0, le=20)] = 3.8
    rho_metal_kg_per_m3: Annotated[float, Field(gt=2000, le=2500)] = 2300.0
    # operations placeholders until the operations issue
    tap_interval_h: Annotated[float, Field(gt=0, le=96)] = 24.0
    alf3_addition_kg_per_day: NonNegative = 52.5

    @model_validator(mode="before")
    @classmethod
    def _replaced_keys(cls, data):
        if isinstance(data, dict) and "net_carbon_ratio" in data:
            raise ValueError(f"net_carbon_ratio = {data['net_carbon_ratio']!r} is no longer a key: the carbon beyond "
                             "Faraday's is excess_carbon_kg_per_m2_day (kg per m2 of anode footprint and day, 0-20; "
                             "3.8 is the old 1.17 at 500 kA)")
        return data

    @property
    def anode_carbon_kg(self) -> float:
        """kg carbon of a new anode: its dimensions times its density."""
        return self.anode_length_m * self.anode_width_m * self.anode_height_m * self.rho_anode_kg_per_m3

    @model_validator(mode="after")
    def _one_anode_mass(self) -> CellConfig:
        if self.anode_mass_kg is not None and abs(self.anode_mass_kg / self.anode_carbon_kg - 1.0) > 0.01:
            raise ValueError(
                f"anode_mass_kg = {self.anode_mass_kg:g} disagrees with the anode's dimensions and density "
                f"({self.anode_length_m:g} x {self.anode_width_m:g} x {self.anode_height_m:g} m x "
                f"{self.rho_anode_kg_per_m3:g} kg/m3 = {self.anode_carbon_kg:.0f} kg): leave it out, or make them "
                "agree within 1 %")
        return self

    @model_validator(mode="after")
    def _ce_anchor_leaves_a_loss(self) -> CellConfig:
        from twin._core.props import pad_instability  # the kernel's correlation (twin.smelter.bath's face of it)

        pad = self.ce_pad_loss * pad_instability(self.ce_ref_acd_cm / 100.0, self.pad_instability_acd_cm / 100.0,
                                                 self.pad_instability_length_cm / 100.0)
        if self.ce_ref + pad >= 1.0:
            raise ValueError(f"ce_ref = {self.ce_ref:g} with the pad-instability loss {pad:.4f} at ce_ref_acd_cm = "
                             f"{self.ce_ref_acd_cm:g} leaves no back-reaction loss: ce_ref must be below {1 - pad:.4f}")
        return self

    @model_validator(mode="after")
    def _lvae_above_ae(self) -> CellConfig:
        if self.lvae_alumina_wt <= self.ae_alumina_wt:
            raise ValueError(f"lvae_alumina_wt = {self.lvae_alumina_wt:g} must be above ae_alumina_wt = "
                             f"{self.ae_alumina_wt:g} (a low-voltage AE comes before the full anode effect)")
        return self


class ControlConfig(Section):
    """The pot control system: feed tracking, resistance control, anode-effect quench.

    Defaults follow industrial practice for point-fed prebake cells (smelter notes sec. 2.14, 5).
    """

    feed_control: Literal["tracking", "nominal"] = "tracking"
    back_emf_V: Annotated[float, Field(ge=1.0, le=2.5)] = 1.65
    voltage_noise_mV: Annotated[float, Field(ge=0, le=500)] = 0.0   # sd of raw voltage samples; 0: none
    filter_time_s: Annotated[float, Field(gt=0, le=3600)] = 120.0
    control_period_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    nominal_time_s: Annotated[float, Field(ge=0, le=86400)] = 1800.0
    underfeed_factor: Annotated[float, Field(ge=0, lt=1)] = 0.6
    overfeed_factor: Annotated[float, Field(gt=1, le=3)] = 1.5
    slope_threshold_mV_per_min: Annotated[float, Field(gt=0, le=100)] = 4.0
    # the slope must also clear this many standard deviations of its own noise (from the controller's noise
    # estimate), in quadrature with the threshold: on a noisy pad, noise alone does not end an underfeed
    slope_noise_sigmas: Annotated[float, Field(ge=0, le=5)] = 2.0
    underfeed_timeout_s: Annotated[float, Field(gt=0, le=86400)] = 5400.0
    overfeed_time_s: Annotated[float, Field(gt=0, le=86400)] = 1800.0
    resistance_control: bool = True
    beam_period_s: Annotated[float, Field(gt=0, le=86400)] = 300.0
    resistance_target_uohm: Annotated[float, Field(gt=0, le=50)] | None = None
    resistance_band_uohm: Annotated[float, Field(ge=0, le=5)] = 0.05
    # an error this large (~7 mm of ACD: a current change, power back after a curtailment) is corrected past
    # the daily move limit (there against hunting on small errors) until it is back in the band [A]
    large_error_uohm: Annotated[float, Field(gt=0, le=10)] = 0.5
    acd_sensitivity_uohm_per_mm: Annotated[float, Field(gt=0, le=5)] = 0.07
    beam_max_move_mm: Annotated[float, Field(gt=0, le=20)] = 2.0
    beam_max_moves_per_day: Annotated[int, Field(ge=0, le=1000)] = 24
    tap_inhibit_min: Annotated[float, Field(ge=0, le=600)] = 30.0
    setting_inhibit_h: Annotated[float, Field(ge=0, le=48)] = 2.0
    # resistance-target additives and limits (notes sec. 5.1): the heat-balance feed-forward on the line
    # current (share of the heat a lower current takes away that the target gives back, EP0671488-type),
    # the noise additive, the ACD floor and ceiling (the ceiling high enough for the feed-forward to hold the
    # heat of a -25 % curtailment: ~8 cm at 375 kA, TRIMET-type modulation, park notes sec. 1.4 [A]); above the
    # design current the floor is also the pad's onset of instability (pad_instability_acd_cm). The share 0.62
    # is what holds the reference cell in its window through -25 % for 48 h with the shell exchangers closing
    # (a larger share with the exchangers over-heats it by the second day, a smaller one freezes ledge) [A]
    heat_feedforward: Annotated[float, Field(ge=0, le=1)] = 0.62
    noise_threshold_mV: Annotated[float, Field(ge=0, le=500)] = 20.0
    noise_gain_uohm_per_mV: Annotated[float, Field(ge=0, le=0.1)] = 0.01
    acd_min_cm: Annotated[float, Field(ge=2.0, le=8.0)] = 3.0
    acd_max_cm: Annotated[float, Field(ge=2.0, le=10.0)] = 8.0
    # shell heat exchangers (adjustable side heat loss, TRIMET/EnPot, park notes sec. 1.4): their setting
    # (a factor on the shell-to-air transfer) follows the line current, 1 + gain (I/I_design - 1), within
    # min..max, with the dampers' time constant; gain 0: no exchangers
    shell_cooling_gain: Annotated[float, Field(ge=0, le=10)] = 4.0
    shell_cooling_min: Annotated[float, Field(gt=0, le=1)] = 0.25
    shell_cooling_max: Annotated[float, Field(ge=1, le=3)] = 1.5
    shell_cooling_time_min: Annotated[float, Field(gt=0, le=600)] = 30.0
    ae_detect_V: Annotated[float, Field(gt=4.5, le=50)] = 8.0
    quench_delay_s: Annotated[float, Field(ge=0, le=3600)] = 30.0
    quench_alumina_kg: Annotated[float, Field(ge=0, le=500)] = 30.0
    # an automatic quench does not always kill the AE: each attempt succeeds with quench_success, a failed one
    # is retried after quench_retry_s, up to quench_attempts, then the crew (ae_duration_s). 0.85 and 60 s give a
    # mean AE of ~40 s with ~15 % past a minute and ~0.3 % running to the crew: the <30-60 s means and long
    # tail of modern point-fed lines (IAI anode effect surveys, smelter notes table 3.1) [A]
    quench_success: Annotated[float, Field(ge=0, le=1)] = 0.85
    quench_retry_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    quench_attempts: Annotated[int, Field(ge=0, le=20)] = 3
    # individual anode current monitoring (Dion et al. 2018): the system then sees low-voltage AEs, which
    # the cell voltage does not show
    lvae_detection: bool = False

    @model_validator(mode="after")
    def _acd_window(self) -> ControlConfig:
        if self.acd_min_cm >= self.acd_max_cm:
            raise ValueError(f"acd_min_cm = {self.acd_min_cm:g} must be below acd_max_cm = {self.acd_max_cm:g}")
        return self


class OperationsConfig(Section):
    """The crew's routine at each cell's tap: measurements, bath samples, tapping, AlF3 additions."""

    temperature_sd_K: Annotated[float, Field(ge=0, le=20)] = 2.0
    metal_dip_sd_cm: Annotated[float, Field(ge=0, le=5)] = 0.5
    bath_sample_every_taps: Annotated[int, Field(ge=1, le=30)] = 2
    lab_delay_h: Annotated[float, Field(ge=0, le=96)] = 8.0
    alf3_sample_sd_wt: Annotated[float, Field(ge=0, le=3)] = 0.3
    alf3_rule: bool = True
    alf3_target_wt: Annotated[float, Field(ge=0, le=20)] | None = None
    temperature_target_C: Annotated[float, Field(ge=900, le=1000)] | None = None
    alf3_gain_kg_per_day_per_wt: Annotated[float, Field(ge=0, le=500)] = 40.0
    temperature_gain_kg_per_day_per_K: Annotated[float, Field(ge=0, le=100)] = 3.0
    metal_gain: Annotated[float, Field(ge=0, le=1)] = 0.5
    tap_error_sd: Annotated[float, Field(ge=0, le=0.2)] = 0.01
    tap_scale_sd_kg: Annotated[float, Field(ge=0, le=500)] = 20.0
    # resistance-target additive from the measured temperature (notes sec. 5.1, 5.4): + per K below target
    temperature_additive_uohm_per_K: Annotated[float, Field(ge=0, le=0.1)] = 0.01
    temperature_additive_max_uohm: Annotated[float, Field(ge=0, le=2)] = 0.3
    # while a power program or the supply holds the line this far off its schedule (a curtailment, modulation),
    # the crew holds the temperature additive and leaves the temperature out of the AlF3 rule: the dip then
    # measures the modulation, which the controller's heat feed-forward answers, not the cell (issue 23: a dip in
    # a curtailment raised the target for the day after the power came back); a schedule's own change (a new
    # line current) is not a modulation [A]
    temperature_hold_current_fraction: Annotated[float, Field(ge=0, le=1)] = 0.05
    # bath height management at the tap (notes sec. 5.6): bath the crew measures (noise bath_dip_sd_pct)
    # above the design mass by more than the band is tapped toward it (at most bath_tap_max_kg a visit);
    # below the band, crushed bath of the design composition is added (at most bath_addition_max_kg a
    # visit), which the cell melts
    bath_tap_band_pct: Annotated[float, Field(ge=0, le=30)] = 3.0
    bath_dip_sd_pct: Annotated[float, Field(ge=0, le=10)] = 1.0
    bath_tap_max_kg: Annotated[float, Field(ge=0, le=5000)] = 500.0
    bath_addition_max_kg: Annotated[float, Field(ge=0, le=3000)] = 300.0
    # the crew's answer to a line run below low_power_fraction of its design current (a curtailment): extra
    # cover on the anodes; to a power outage (notes sec. 1.3): also the exhaust draft to minimum. Factors
    # on the top's heat loss to the air [A]
    low_power_fraction: Annotated[float, Field(ge=0, le=1)] = 0.9
    low_power_top_factor: Annotated[float, Field(gt=0, le=1)] = 0.9
    outage_top_factor: Annotated[float, Field(gt=0, le=1)] = 0.6
    # feeder faults (a crust breaker or dump valve that chokes or blocks), per feeder: random onsets at
    # feeder_fault_rate_per_day (seeded), a share of them blocking (nothing delivered), the rest choking
    # (feeder_choked_delivery of the dose delivered); the crew clears a fault when an anode effect brings
    # them to the cell, or after a time exponential with mean feeder_repair_h [A: plant fault logs]
    feeder_fault_rate_per_day: Annotated[float, Field(ge=0, le=1)] = 0.0
    feeder_blocked_share: Annotated[float, Field(ge=0, le=1)] = 0.5
    feeder_choked_delivery: Annotated[float, Field(ge=0, lt=1)] = 0.5
    feeder_repair_h: Annotated[float, Field(gt=0, le=240)] = 8.0


class VariationConfig(Section):
    """Cell-to-cell variation: each cell's parameters drawn once per run (seeded by ``run.seed``), normal
    with these relative or absolute standard deviations, clipped at 3 sd. 0 everywhere: identical cells.
    Cells with a calibrated design of their own (``cell_overrides``) keep it as it is."""

    r_anode_sd_pct: Annotated[float, Field(ge=0, le=30)] = 0.0
    ua_top_sd_pct: Annotated[float, Field(ge=0, le=30)] = 0.0
    acd_sd_mm: Annotated[float, Field(ge=0, le=5)] = 0.0
    feeder_dose_sd_pct: Annotated[float, Field(ge=0, le=20)] = 0.0
    nominal_time_sd_pct: Annotated[float, Field(ge=0, le=30)] = 0.0


class SchedulePoint(Section):
    """Line-current set-point at an hour of the run; set-points are linear in between."""

    hour: NonNegative
    current_kA: Annotated[float, Field(ge=0, le=1000)]


class PotlineConfig(Section):
    """One series circuit of cells on one rectifier."""

    name: Name
    cells: Annotated[int, Field(ge=1, le=1000)]
    current_kA: Annotated[float, Field(gt=0, le=1000)] = 500.0
    voltage_ceiling_V: Positive = 1700.0
    busbar_resistance_uohm: NonNegative = 10.0
    regulator_time_constant_s: NonNegative = 10.0
    schedule: list[SchedulePoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _schedule_sorted(self) -> PotlineConfig:
        hours = [p.hour for p in self.schedule]
        if any(b < a for a, b in itertools.pairwise(hours)):
            raise ValueError(f"schedule hours must not decrease, got {hours}")
        return self

    def setpoint_A(self, hour: float) -> float:
        """Line-current set-point (A) at a run hour: the schedule, or current_kA without one."""
        if not self.schedule:
            return self.current_kA * 1e3
        # linear between points, constant outside; two points at one hour make a step
        hours = [p.hour for p in self.schedule]
        amps = [p.current_kA * 1e3 for p in self.schedule]
        return float(np.interp(hour, hours, amps))


# Cell parameters that may differ from cell to cell (what calibration fits); the others shape the
# line's routine (taps, anode cycle, initial bath) and stay common to every cell.
PER_CELL_KEYS = (
    "ua_top_W_per_K", "ua_bottom_W_per_K", "side_area_m2", "h_bath_ledge_W_per_m2K", "k_ledge_W_per_mK",
    "h_shell_W_per_m2K", "r_lining_m2K_per_W", "r_anode_uohm", "r_cathode_uohm", "r_external_uohm",
    "fanning_factor", "ce_ref", "dissolution_rate_per_s", "undissolved_fraction", "na2o_wt", "fines_wt",
    "excess_carbon_kg_per_m2_day", "ae_alumina_wt", "cao_wt",
)


def cell_key_allows(name: str, low: float, high: float) -> str:
    """"" if ``CellConfig`` allows every value of [low, high] for the key, else the range it allows (text)."""
    ok, allowed = True, []
    for rule in CellConfig.model_fields[name].metadata:       # pydantic's annotated-types bounds
        for attr, sign, inside in (("ge", ">=", low >= getattr(rule, "ge", -math.inf)),
                                   ("gt", ">", low > getattr(rule, "gt", -math.inf)),
                                   ("le", "<=", high <= getattr(rule, "le", math.inf)),
                                   ("lt", "<", high < getattr(rule, "lt", math.inf))):
            if hasattr(rule, attr):
                ok &= inside
                allowed.append(f"{sign} {getattr(rule, attr):g}")
    return "" if ok else " and ".join(allowed)


class CellOverride(Section):
    """Values of ``PER_CELL_KEYS`` for some cells (indices over all potlines), e.g. from calibration."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)
    cells: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _known_keys(self) -> CellOverride:
        values = self.values()
        bad = sorted(set(values) - set(PER_CELL_KEYS))
        if bad:
            close = difflib.get_close_matches(bad[0], PER_CELL_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(PER_CELL_KEYS)}"
            raise ValueError(f"{bad} cannot differ by cell; {hint}")
        try:
            CellConfig.model_validate(values)    # the same ranges as the shared design
        except ValidationError as err:
            e = err.errors()[0]
            raise ValueError(f"{'.'.join(map(str, e['loc']))} = {e.get('input')!r}: {e['msg']}") from None
        return self

    def values(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class SmelterConfig(Section):
    cell: CellConfig = Field(default_factory=CellConfig)
    control: ControlConfig = Field(default_factory=ControlConfig)
    operations: OperationsConfig = Field(default_factory=OperationsConfig)
    variation: VariationConfig = Field(default_factory=VariationConfig)
    potlines: Annotated[list[PotlineConfig], Field(min_length=1)]
    cell_overrides: list[CellOverride] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> SmelterConfig:
        names = [p.name for p in self.potlines]
        if len(set(names)) != len(names):
            raise ValueError(f"potline names must be unique, got {names}")
        n = sum(p.cells for p in self.potlines)
        for i, o in enumerate(self.cell_overrides):
            outside = [c for c in o.cells if c >= n]
            if outside:
                raise ValueError(f"cell_overrides[{i}].cells {outside} outside 0..{n - 1}")
        return self

    def cell_design(self, k: int) -> CellConfig:
        """The design of cell k: the shared one with its overrides (later tables win)."""
        values = {}
        for o in self.cell_overrides:
            if k in o.cells:
                values.update(o.values())
        return self.cell.model_copy(update=values) if values else self.cell



class LiningConfig(Section):
    """Cathode linings: a cell reaching the end of its life is cut out of the line (the line current bypasses
    it), relined and restarted ``reline_days`` later, giving spent pot lining (notes sec. 5; table 3.1: cell
    life 2000-3000 days). Ages at the start: ``"spread"`` evenly over a life across the cells (a line that has
    run for years), or ``"design"``: every cell at ``smelter.cell.cathode_age_days``. A restarted cell starts
    on a basic start-up bath (``startup_alf3_wt``) ``startup_superheat_K`` above its liquidus, with no ledge
    and a new cathode that takes up sodium. The crew runs it as plants do: hot, ``startup_extra_V`` above the
    line's voltage target at the cut-in, lowered day by day to nothing over ``startup_voltage_days`` (the
    temperature terms of its routine held meanwhile), so the ledge grows over days instead of freezing the
    bath in hours; its AlF3 target raised from the start-up bath's to the line's over ``startup_alf3_days``
    [A: start-up practice varies by plant; a high-voltage phase of days and a bath brought to its ratio over
    weeks are the common pattern, the figures here are assumptions to set from a plant's start-up
    procedure]."""

    pot_life_days: Annotated[float, Field(gt=100, le=5000)] = 2200.0
    spl_t_per_reline: Annotated[float, Field(ge=0, le=500)] = 180.0   # ~22 kg SPL/t Al at this life [D]
    start_ages: Literal["spread", "design"] = "design"
    reline_days: Annotated[float, Field(gt=0, le=365)] = 21.0
    startup_alf3_wt: Annotated[float, Field(ge=4, le=16)] = 6.0
    startup_superheat_K: Annotated[float, Field(ge=3, le=30)] = 15.0
    startup_extra_V: Annotated[float, Field(ge=0, le=3)] = 0.5
    startup_voltage_days: Annotated[float, Field(gt=0, le=60)] = 7.0
    startup_alf3_days: Annotated[float, Field(gt=0, le=120)] = 30.0


