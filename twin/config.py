"""Plant configuration: TOML -> validated, typed objects (pydantic v2, unknown keys are errors).

Units live in the key names (``current_kA``, ``acd_cm``); values are converted to SI once, when
the kernel's parameter arrays are built (``twin.smelter.cell``), never in the kernel.
"""
from __future__ import annotations

import datetime as dt
import difflib
import itertools
import math
import tomllib
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from twin.refinery.design import Bauxite, DesignBasis

__all__ = ["ConfigError", "ParkConfig", "default_config_path", "load_config"]

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]


def _printable(name: str) -> str:
    """A name that labels cells and lines in results, reports and logs: no line breaks or control characters."""
    if not name.isprintable():
        raise ValueError("a name is printable text on one line (no line breaks, tabs or control characters)")
    return name


# a potline's or a product's name
Name = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_printable)]


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file, the key and the value."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """A number is a number: ``true`` is not 1 kA or 1 cell, and a count (an integer key) takes no decimal
        point (``seed = 1.0``), where pydantic's lax mode would take both."""
        assert info.field_name is not None
        kinds = _number_kinds(cls.model_fields[info.field_name].annotation)
        if kinds and isinstance(value, bool):
            raise ValueError(f"a number is needed here, not {str(value).lower()}")
        if kinds == {int} and isinstance(value, float):
            raise ValueError("a whole number is needed here, written without a decimal point")
        return value


def _number_kinds(annotation: Any) -> set[type]:
    """The number types (int, float) a field's type admits; empty for other fields."""
    union = isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union
    return {a for a in (typing.get_args(annotation) if union else (annotation,)) if a in (int, float)}


class RunConfig(_Section):
    """Clock and output of a run."""

    start: dt.datetime = Field(default=dt.datetime(2027, 1, 1, tzinfo=dt.UTC), description="UTC start time")
    days: Positive = 1.0
    fast_step_s: Annotated[float, Field(gt=0, le=30)] = 10.0
    slow_step_s: Annotated[float, Field(gt=0, le=600)] = 60.0
    output_interval_s: Annotated[float, Field(gt=0, le=86400)] = 600.0
    seed: Annotated[int, Field(ge=0)] = 0
    buffer_records: Annotated[int, Field(ge=1, le=100000)] = 144   # output records held between writes
    checkpoint_interval_h: Annotated[float, Field(ge=0, le=8760)] = 24.0   # plant hours; 0: no checkpoints

    @model_validator(mode="after")
    def _steps_nest(self) -> RunConfig:
        for name, big, small in (("slow_step_s", self.slow_step_s, self.fast_step_s),
                                 ("output_interval_s", self.output_interval_s, self.slow_step_s)):
            ratio = big / small
            if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
                raise ValueError(f"{name} = {big} must be a whole multiple of the step below it ({small})")
        ckpt = self.checkpoint_interval_h * 3600.0 / self.output_interval_s
        if self.checkpoint_interval_h > 0 and (abs(ckpt - round(ckpt)) > 1e-9 or round(ckpt) < 1):
            raise ValueError(f"checkpoint_interval_h = {self.checkpoint_interval_h} must be a whole multiple of "
                             f"output_interval_s ({self.output_interval_s} s)")
        if self.start.tzinfo is None:
            raise ValueError(f"start = {self.start.isoformat()} needs a time zone (e.g. 'Z' for UTC)")
        return self


class CellConfig(_Section):
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


class ControlConfig(_Section):
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


class OperationsConfig(_Section):
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


class VariationConfig(_Section):
    """Cell-to-cell variation: each cell's parameters drawn once per run (seeded by ``run.seed``), normal
    with these relative or absolute standard deviations, clipped at 3 sd. 0 everywhere: identical cells.
    Cells with a calibrated design of their own (``cell_overrides``) keep it as it is."""

    r_anode_sd_pct: Annotated[float, Field(ge=0, le=30)] = 0.0
    ua_top_sd_pct: Annotated[float, Field(ge=0, le=30)] = 0.0
    acd_sd_mm: Annotated[float, Field(ge=0, le=5)] = 0.0
    feeder_dose_sd_pct: Annotated[float, Field(ge=0, le=20)] = 0.0
    nominal_time_sd_pct: Annotated[float, Field(ge=0, le=30)] = 0.0


class SchedulePoint(_Section):
    """Line-current set-point at an hour of the run; set-points are linear in between."""

    hour: NonNegative
    current_kA: Annotated[float, Field(ge=0, le=1000)]


class PotlineConfig(_Section):
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


class CellOverride(_Section):
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


class SmelterConfig(_Section):
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


class PrecipitationConfig(_Section):
    """The precipitation circuit: identical parallel trains of stirred tanks, classification, seed."""

    trains: Annotated[int, Field(ge=1, le=8)] = 2
    tanks: Annotated[int, Field(ge=1, le=40)] = 14
    tank_liquor_volume_m3: Annotated[float, Field(gt=10, le=20000)] = 3600.0   # liquor a tank holds
    classes: Annotated[int, Field(ge=10, le=60)] = 30
    smallest_um: Annotated[float, Field(gt=0.1, le=10)] = 1.0
    fill_t_c: Annotated[float, Field(ge=40, le=100)] = 78.0           # pregnant liquor after heat interchange
    # interstage coolers on the streams into the growth tanks, set from fill_t_c down to last_tank_t_c
    # (notes 4.5: fill 75-80 degC falling to 55-65 degC); the first agglomeration_tanks run uncooled
    last_tank_t_c: Annotated[float, Field(ge=40, le=100)] = 60.0
    agglomeration_tanks: Annotated[int, Field(ge=0, le=39)] = 3
    growth_law: Literal["white_bateman", "veesler_boistelle"] = "white_bateman"
    bound_soda_k1: Annotated[float, Field(ge=0, le=10)] = 2.35        # QAL 1999 bound-soda law's K1
    seed_charge_kg_per_m3: Annotated[float, Field(ge=0, le=1200)] = 450.0  # hydrate seed per m3 of feed liquor
    seed_size_um: Annotated[float, Field(gt=1, le=300)] = 60.0        # mass-median seed size at start-up
    seed_store_h: Annotated[float, Field(gt=0, le=500)] = 24.0        # seed inventory aimed at, hours of charge
    classifier_cut_um: Annotated[float, Field(gt=5, le=300)] = 90.0   # product cyclones' d50c
    classifier_sharpness: Annotated[float, Field(ge=1, le=10)] = 3.0
    nucleation_k: NonNegative = 5e8                   # #/(m2 h), Misra form
    agglomeration_k: NonNegative = 5e-10              # m3/(# h), Ilievski 1991
    solubility: Literal["rosenberg_healy", "rosenberg_healy_qal99", "rosenberg_healy_qal05",
                        "rosenberg_healy_alpart"] = "rosenberg_healy"
    dt_s: Annotated[float, Field(gt=0, le=3600)] = 600.0          # kernel step (sub-stepped where needed)

    @model_validator(mode="before")
    @classmethod
    def _replaced_keys(cls, data):
        if isinstance(data, dict) and "interstage_cooling_MW" in data:
            raise ValueError(f"interstage_cooling_MW = {data['interstage_cooling_MW']!r} is no longer a key: the "
                             "interstage coolers take the growth tanks down to last_tank_t_c (degC, 40-100; "
                             "plants 55-65) from fill_t_c")
        return data

    @model_validator(mode="after")
    def _cooled_tanks(self) -> PrecipitationConfig:
        if self.agglomeration_tanks >= self.tanks:
            raise ValueError(f"agglomeration_tanks = {self.agglomeration_tanks} must be fewer than tanks = "
                             f"{self.tanks} (the rest are the cooled growth tanks)")
        if self.last_tank_t_c > self.fill_t_c:
            raise ValueError(f"last_tank_t_c = {self.last_tank_t_c:g} above fill_t_c = {self.fill_t_c:g}: the "
                             "coolers only cool")
        return self


class ImpuritiesConfig(_Section):
    """Organics, oxalate, sulphate and chloride in the liquor (``twin.refinery.impurities``): how digestion
    splits the organics, and the side streams of spent liquor that take impurities out (0 m3/h: none; the
    mud's liquor and the spills always do)."""

    oxalate_share: Annotated[float, Field(ge=0, le=1)] = 0.15          # of the organic carbon: to oxalate
    oxalate_removal_m3_per_h: Annotated[float, Field(ge=0, le=5000)] = 100.0   # through the crystalliser
    oxalate_removal_t_c: Annotated[float, Field(ge=20, le=100)] = 45.0  # crystallised to its solubility here
    organics_removal_m3_per_h: Annotated[float, Field(ge=0, le=5000)] = 0.0    # to wet oxidation
    organics_removal_efficiency: Annotated[float, Field(ge=0, le=1)] = 0.8     # share of its organics destroyed
    salting_out_m3_per_h: Annotated[float, Field(ge=0, le=5000)] = 0.0  # evaporated to salt out sulphate
    salting_out_efficiency: Annotated[float, Field(ge=0, le=1)] = 0.5   # share of its sulphate salted out


class RefineryControlConfig(_Section):
    """Closure controllers of the liquor loop (PI, acting once per refinery step)."""

    bauxite_gain_per_ac: Annotated[float, Field(ge=0, le=100)] = 3.0     # relative bauxite per unit A/C error
    bauxite_reset_h: Annotated[float, Field(gt=0)] = 12.0
    evaporation_gain: Annotated[float, Field(ge=0, le=100)] = 2.0       # relative evaporation per relative level
    evaporation_reset_h: Annotated[float, Field(gt=0)] = 24.0
    caustic_gain: Annotated[float, Field(ge=0, le=500)] = 20.0          # relative make-up per relative C error
    caustic_reset_h: Annotated[float, Field(gt=0)] = 24.0
    seed_gain: Annotated[float, Field(ge=0, le=10)] = 0.5               # log cut size per relative seed shortfall
    seed_reset_h: Annotated[float, Field(gt=0)] = 24.0


class Disturbance(_Section):
    """A step change of a refinery input at a run hour (what-if and disturbance studies)."""

    hour: NonNegative
    key: Literal["gibbsite", "kaolinite", "digestion_t_c", "fill_t_c", "seed_charge_kg_per_m3",
                 "spent_flow_factor", "last_tank_t_c", "organic_carbon", "sulphur", "chlorine"]
    value: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _in_range(self) -> Disturbance:
        low, high = DISTURBANCE_RANGES[self.key]
        if not low <= self.value <= high:
            raise ValueError(f"{self.key} = {self.value:g} at hour {self.hour:g} outside {low:g}..{high:g}")
        return self


# what a disturbance may set (the ranges of the correlations and of a running plant)
DISTURBANCE_RANGES = {"gibbsite": (0.2, 0.9), "kaolinite": (0.0, 0.2), "digestion_t_c": (100.0, 160.0),
                      "fill_t_c": (40.0, 100.0), "seed_charge_kg_per_m3": (0.0, 1200.0),
                      "spent_flow_factor": (0.1, 1.5), "last_tank_t_c": (40.0, 100.0),
                      "organic_carbon": (0.0, 0.01), "sulphur": (0.0, 0.02), "chlorine": (0.0, 0.005)}


class RefineryConfig(_Section):
    """A Bayer refinery: design basis (steady liquor loop), holdups, precipitation and control."""

    step_s: Annotated[float, Field(gt=0, le=86400)] = 3600.0     # refinery coordination step
    spent_tank_m3: Annotated[float, Field(gt=0)] = 20000.0       # spent liquor inventory at the level aimed at
    settler_washer_liquor_m3: Annotated[float, Field(gt=0)] = 30000.0   # liquor held in settlers and washers
    spin_up_days: Annotated[float, Field(ge=0, le=60)] = 6.0     # precipitation circuit brought to steady state
    bauxite: Bauxite = Field(default_factory=Bauxite)
    design: DesignBasis = Field(default_factory=DesignBasis)
    precipitation: PrecipitationConfig = Field(default_factory=PrecipitationConfig)
    impurities: ImpuritiesConfig = Field(default_factory=ImpuritiesConfig)
    control: RefineryControlConfig = Field(default_factory=RefineryControlConfig)
    disturbances: list[Disturbance] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks(self) -> RefineryConfig:
        p = self.precipitation
        steps = self.step_s / p.dt_s
        if abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
            raise ValueError(f"step_s = {self.step_s} must be a whole multiple of precipitation.dt_s = {p.dt_s}")
        if self.design.pregnant_ac <= self.design.spent_ac:
            raise ValueError(f"design.pregnant_ac = {self.design.pregnant_ac} must exceed design.spent_ac = "
                             f"{self.design.spent_ac}")
        hours = [d.hour for d in self.disturbances]
        if any(b < a for a, b in itertools.pairwise(hours)):
            raise ValueError(f"disturbance hours must not decrease, got {hours}")
        return self


class SiloConfig(_Section):
    """Alumina storage between refinery and potlines (refinery product + smelter bulk silos, pot bunkers).

    Park notes sec. 3: no public silo sizes; a few days of refinery product storage and 1-3 weeks of
    smelter bulk storage are assumed [A] (5,270 t/day for 1 Mt Al/yr)."""

    capacity_t: Positive = 60000.0
    initial_t: NonNegative = 30000.0
    handling_loss: Annotated[float, Field(ge=0, le=0.05)] = 0.003   # dust and spills between silo and pots
    reserve_h: Annotated[float, Field(gt=0, le=72)] = 1.0           # feeding stops below this much demand
    throttle_start: Annotated[float, Field(gt=0, lt=1)] = 0.9       # silo fill above which the refinery slows
    throttle_min: Annotated[float, Field(ge=0, le=1)] = 0.5         # lowest refinery throughput factor

    @model_validator(mode="after")
    def _fits(self) -> SiloConfig:
        if self.initial_t > self.capacity_t:
            raise ValueError(f"initial_t = {self.initial_t:g} exceeds capacity_t = {self.capacity_t:g}")
        return self


class FumeConfig(_Section):
    """Dry scrubbing of pot gas with the cells' alumina (gas treatment centre), park notes sec. 2.5."""

    fluoride_evolved_kg_per_t: Annotated[float, Field(ge=0, le=60)] = 20.0   # F in the pot gas per t Al [E]
    capture_efficiency: Fraction = 0.995            # >99 % F recovered (Rio Tinto Iceland)
    secondary_alumina_hold_h: Annotated[float, Field(gt=0, le=240)] = 24.0   # scrubbers -> pots


class ProgramPoint(_Section):
    """Potline power as a fraction of its schedule's power from an hour on (linear in between)."""

    hour: NonNegative
    power_fraction: Annotated[float, Field(ge=0, le=1.3)]


class PowerConfig(_Section):
    """Electricity supply and demand of the park (park notes sec. 1.4, 3, 4.2)."""

    rectifier_efficiency: Annotated[float, Field(gt=0.8, le=1)] = 0.97      # AC -> DC
    auxiliaries_fraction: Annotated[float, Field(ge=0, le=0.2)] = 0.03      # potline auxiliaries, GTC, per DC
    refinery_kWh_per_t: Annotated[float, Field(ge=0, le=1000)] = 250.0      # 0.2-0.3 MWh/t alumina [A]
    carbon_plant_kWh_per_t: Annotated[float, Field(ge=0, le=1000)] = 150.0  # per t anode (paste, rodding) [E]
    grid_limit_MW: NonNegative = 5000.0
    grid_ef_t_per_MWh: Annotated[float, Field(ge=0, le=1.5)] = 0.75         # Kazakhstan grid, 0.6-0.9
    wind_capacity_MW: NonNegative = 3000.0
    # hourly capacity factors of the wind farm, repeated over the run (a typical day here); or a file
    wind_profile: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=1)] = Field(
        default_factory=lambda: [0.4])
    wind_profile_file: str | None = None
    captive_MW: NonNegative = 0.0
    captive_min_MW: NonNegative = 0.0
    captive_ef_t_per_MWh: Annotated[float, Field(ge=0, le=1.5)] = 0.37      # gas CCGT [E]
    program: list[ProgramPoint] = Field(default_factory=list)   # modulation / curtailment of the potlines
    follow_supply: bool = False             # curtail the potlines to wind + captive + grid limit
    min_current_fraction: Annotated[float, Field(ge=0, le=1)] = 0.75   # +-25 % window (TRIMET, notes 1.4)
    max_current_fraction: Annotated[float, Field(ge=1, le=1.3)] = 1.1
    boiler_efficiency: Annotated[float, Field(gt=0.3, le=1)] = 0.85      # refinery steam from fuel
    refinery_fuel: Literal["natural_gas", "coking_coal", "anthracite", "lignite"] = "natural_gas"

    @model_validator(mode="after")
    def _program_sorted(self) -> PowerConfig:
        hours = [p.hour for p in self.program]
        if any(b < a for a, b in itertools.pairwise(hours)):
            raise ValueError(f"program hours must not decrease, got {hours}")
        if self.captive_min_MW > self.captive_MW:
            raise ValueError(f"captive_min_MW = {self.captive_min_MW:g} exceeds captive_MW = {self.captive_MW:g}")
        return self


class CarbonPlantConfig(_Section):
    """Anodes made for what the cells consume; butts back to the paste plant (park notes sec. 2.4, 4.2)."""

    baking_GJ_per_t: Annotated[float, Field(ge=0, le=20)] = 5.0        # 4.8-5.2 GJ/t anode (Hydro)
    bake_fuel_share: Fraction = 0.45                  # the rest: pitch volatiles and packing coke burnt
    bake_fuel: Literal["natural_gas", "coking_coal", "anthracite", "lignite"] = "natural_gas"
    green_to_baked: Annotated[float, Field(ge=1, le=1.2)] = 1.05      # green anode mass per t baked [E]
    packing_coke_t_per_t: Annotated[float, Field(ge=0, le=0.1)] = 0.015   # 40 CFR 98 default
    packing_coke_sulphur_pct: Annotated[float, Field(ge=0, le=10)] = 2.0
    packing_coke_ash_pct: Annotated[float, Field(ge=0, le=10)] = 2.5


class ProductConfig(_Section):
    """A downstream product line fed with cast metal (stage 3 deep processing)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)
    name: Name
    share: Fraction                       # of the cast metal
    yield_: Annotated[float, Field(gt=0, le=1, alias="yield")]   # product per metal in; the rest is process scrap


class CasthouseConfig(_Section):
    """Metal from the pots to cast products; dross and its metal (park notes sec. 2.6)."""

    dross_fraction: Annotated[float, Field(ge=0, le=0.1)] = 0.01    # dross per metal tapped [E]
    dross_metal_recovery: Fraction = 0.55                          # toll processing recovers 50-60 %
    fuel_GJ_per_t: Annotated[float, Field(ge=0, le=10)] = 1.0      # holding furnaces [E]
    products: list[ProductConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shares(self) -> CasthouseConfig:
        total = sum(p.share for p in self.products)
        if total > 1.0 + 1e-9:
            raise ValueError(f"product shares sum to {total:g}, more than the metal cast")
        return self


class LiningConfig(_Section):
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


class HeatConfig(_Section):
    """Waste heat: about half of the smelter's energy leaves the cells as low-grade heat (park notes sec. 3)."""

    recoverable_fraction: Fraction = 0.3     # share a shell/exhaust heat recovery can take [A]


class CarbonAccountingConfig(_Section):
    """How the footprint is counted (park notes sec. 4.3)."""

    cell_type: Literal["PFPB-L", "PFPB-M", "CWPB", "SWPB", "VSS", "HSS"] = "PFPB-M"
    gwp: Literal["SAR", "AR4", "AR5", "AR6"] = "AR5"
    anode_sulphur_pct: Annotated[float, Field(ge=0, le=10)] = 2.0
    anode_ash_pct: Annotated[float, Field(ge=0, le=10)] = 0.4
    purchased_alumina_t_co2_per_t: Annotated[float, Field(ge=0, le=5)] = 1.5   # without a refinery (notes 2.7)


class ParkConfig(_Section):
    """A whole plant as read from one TOML file: a smelter, a refinery or both, and the site around them."""

    name: str = "alutwin park"
    run: RunConfig = Field(default_factory=RunConfig)
    smelter: SmelterConfig | None = None
    refinery: RefineryConfig | None = None
    silo: SiloConfig = Field(default_factory=SiloConfig)
    fume: FumeConfig | None = None
    power: PowerConfig = Field(default_factory=PowerConfig)
    carbon_plant: CarbonPlantConfig = Field(default_factory=CarbonPlantConfig)
    casthouse: CasthouseConfig = Field(default_factory=CasthouseConfig)
    lining: LiningConfig = Field(default_factory=LiningConfig)
    heat: HeatConfig = Field(default_factory=HeatConfig)
    carbon: CarbonAccountingConfig = Field(default_factory=CarbonAccountingConfig)
    source: str = Field(default="<memory>", exclude=True, description="file the config came from")


def default_config_path() -> Path:
    """The reference park: ``configs/park.toml``, packaged as ``twin.configs`` when installed.

    Run from a source checkout (``twin`` imported from the working tree), the same file is found
    beside the package; there is one copy of it either way.
    """
    try:
        return Path(str(resources.files("twin.configs").joinpath("park.toml")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "configs" / "park.toml"


def _section_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The config model that holds the key at ``loc`` (list indices skipped), or None."""
    model: Any = ParkConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = _fields(model).get(part)
        if field is None:
            return None
        annotation = field.annotation
        inner = getattr(annotation, "__args__", None)          # list[X] -> X, X | None -> X
        model = inner[0] if inner else annotation
        if not _fields(model):
            return None
    return model


def _fields(model: Any) -> dict[str, Any]:
    """Fields of a pydantic model or pydantic dataclass (empty for anything else)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_fields
    return getattr(model, "__pydantic_fields__", {}) if isinstance(model, type) else {}


def _format_errors(source: str, err: ValidationError) -> str:
    lines = [f"{source}: invalid configuration ({err.error_count()} problem(s))"]
    for e in err.errors():
        loc = ".".join(str(part) for part in e["loc"])
        if e["type"] == "extra_forbidden":
            section = _section_at(e["loc"])
            known = [k for k in (_fields(section) if section else {}) if k != "source"]
            close = difflib.get_close_matches(str(e["loc"][-1]), known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(known)}"
            lines.append(f"  {loc}: unknown key (value {e['input']!r}); {hint}")
        elif e["type"] == "missing":
            lines.append(f"  {loc}: required key is missing")
        else:
            value = e.get("input")
            shown = f" = {value!r}" if not isinstance(value, dict) else ""
            lines.append(f"  {loc}{shown}: {e['msg']}")
    return "\n".join(lines)


def parse_config(data: dict[str, Any], source: str = "<memory>") -> ParkConfig:
    """Validate a TOML-shaped mapping; raise ConfigError naming source, key, value and the rule."""
    try:
        cfg = ParkConfig.model_validate({**data, "source": source})
    except ValidationError as err:
        raise ConfigError(_format_errors(source, err)) from None
    if cfg.smelter is None and cfg.refinery is None:
        raise ConfigError(f"{source}: a park needs a [smelter], a [refinery] or both; found neither")
    if cfg.refinery is not None:
        step, out = cfg.refinery.step_s, cfg.run.output_interval_s
        if abs(out / step - round(out / step)) > 1e-9 or round(out / step) < 1:
            raise ConfigError(f"{source}: run.output_interval_s = {out:g} must be a whole multiple of "
                              f"refinery.step_s = {step:g} (each record covers whole refinery steps)")
    for ptl in (cfg.smelter.potlines if cfg.smelter else []):
        for key, amps in (("current_kA", ptl.current_kA * 1e3),
                          *((f"schedule hour {p.hour}", p.current_kA * 1e3) for p in ptl.schedule)):
            assert cfg.smelter is not None           # the loop runs over its potlines
            cell = cfg.smelter.cell
            if amps / (cell.anodes * cell.anode_length_m * cell.anode_width_m * 1e4) > 1.5:
                raise ConfigError(f"{source}: smelter.potlines[{ptl.name}].{key}: {amps / 1e3:g} kA on "
                                  f"smelter.cell.anodes = {cell.anodes} of anode_length_m = {cell.anode_length_m:g} x "
                                  f"anode_width_m = {cell.anode_width_m:g} gives an anode current density above "
                                  "1.5 A/cm2, outside the correlations' range")
    if not math.isfinite(cfg.run.days):
        raise ConfigError(f"{source}: run.days must be finite")
    return cfg


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                          "save the configuration as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


# ``base = "reference"`` builds on the packaged reference park wherever the file is
REFERENCE_BASE = "reference"


def config_data(path: str | Path) -> dict[str, Any]:
    """A park config file as TOML data with what it builds on merged in (``base``), not yet validated."""
    return _read_with_base(Path(path))


def _read_with_base(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file with what it builds on (see ``_base_and_own``), merged."""
    base, own = _base_and_own(path, seen)
    return own if base is None else _merge(base, own, str(path))


def _base_and_own(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """What a config file builds on and what it writes itself: ``base = "FILE"`` (relative to it; or
    ``"reference"``, the packaged reference park) is read first (with its own base), and this file's tables
    are merged into it by ``_merge``. No base: (None, the file)."""
    if path.resolve() in seen:
        raise ConfigError(f"{path}: base files include each other ({' -> '.join(map(str, seen))})")
    data = _include_refinery(read_toml(path), path)
    base = data.pop("base", None)
    if base is None:
        return None, data
    target = default_config_path() if base == REFERENCE_BASE else path.parent / str(base)
    if not isinstance(base, str) or not target.is_file():
        raise ConfigError(f"{path}: base = {base!r}: no such file beside {path.name} (or base = "
                          f"\"{REFERENCE_BASE}\" for the packaged reference park)")
    return _read_with_base(target, (*seen, path.resolve())), data


def files_read(path: str | Path) -> list[Path]:
    """Every file a config reads: itself, its bases, the refinery files it includes and its wind profile
    (what no command may write its output over)."""
    path = Path(path)
    files, seen = [], set()
    while path.resolve() not in seen:
        seen.add(path.resolve())
        files.append(path)
        data = read_toml(path)
        include = data.get("refinery", {}).get("include") if isinstance(data.get("refinery"), dict) else None
        if isinstance(include, str):
            files.append(path.parent / include)
        wind = data.get("power", {}).get("wind_profile_file") if isinstance(data.get("power"), dict) else None
        if isinstance(wind, str):
            files.append(path.parent / wind)
        base = data.get("base")
        if not isinstance(base, str):
            break
        path = default_config_path() if base == REFERENCE_BASE else path.parent / base
        if not path.is_file():
            break
    return files


def _named_tables(value: Any) -> bool:
    # an empty list is not one: ``products = []`` clears the base's list
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "name" in i for i in value)


def _merge(base: dict[str, Any], over: dict[str, Any], source: str, where: str = "") -> dict[str, Any]:
    """``over`` merged into ``base``: tables key by key; lists of named tables (``[[smelter.potlines]]``, the
    products) by name, so a what-if on PL1 leaves PL2 as it was: a table of a name in the base is merged into
    it, a new name is added, ``remove = true`` takes a name out; other lists and values replace the base's."""
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merged[key] = _merge(old, value, source, f"{where}{key}.")
        elif isinstance(old, list) and _named_tables(value) and _named_tables(old):
            merged[key] = _merge_by_name(old, value, source, f"{where}{key}")
        else:
            merged[key] = value
    return merged


def _merge_by_name(base: list[dict[str, Any]], over: list[dict[str, Any]], source: str,
                   where: str) -> list[dict[str, Any]]:
    tables = {item["name"]: item for item in base}
    for item in over:
        name, remove = item["name"], item.get("remove", False)
        if remove is not False and remove is not True:
            raise ConfigError(f"{source}: {where} {name!r}: remove = {remove!r}; remove takes true or false")
        if remove:
            if name not in tables:
                raise ConfigError(f"{source}: {where} {name!r}: remove = true, but the base has no {name!r} "
                                  f"(it has {', '.join(map(repr, tables)) or 'none'})")
            del tables[name]
        else:
            own = {k: v for k, v in item.items() if k != "remove"}
            tables[name] = _merge(tables[name], own, source, f"{where}[{name}].") if name in tables else own
    return list(tables.values())


_TABLE = object()      # _flatten's mark of a named table, so a table added or removed is one change


def _flatten(data: Any, where: str = "") -> dict[str, Any]:
    """Dotted keys of a TOML mapping, named tables by name (``smelter.potlines[PL1].current_kA``)."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{where}.{key}" if where else str(key)))
        return out
    if _named_tables(data) and data:
        out = {}
        for item in data:
            table = f"{where}[{item['name']}]"
            out[table] = _TABLE
            out.update(_flatten({k: v for k, v in item.items() if k != "name"}, table))
        return out
    return {where: data}


def changes_against_base(path: str | Path) -> list[str] | None:
    """What a config file changes against its base, one line per key (``None`` without a base): what
    ``twin check-config`` shows, so a what-if that drops a potline says so."""
    base, own = _base_and_own(Path(path))
    if base is None:
        return None
    before, after = _flatten(base), _flatten(_merge(base, own, str(path)))
    whole = [k for k in (before.keys() ^ after.keys()) if before.get(k, after.get(k)) is _TABLE]
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if any(key.startswith(f"{table}.") for table in whole):
            continue                                    # inside a table added or removed as a whole
        if key not in after:
            lines.append(f"{key}: removed" if before[key] is _TABLE else f"{key}: {before[key]!r} removed")
        elif key not in before:
            lines.append(f"{key}: added" if after[key] is _TABLE else f"{key}: added {after[key]!r}")
        elif before[key] != after[key]:
            lines.append(f"{key}: {before[key]!r} -> {after[key]!r}")
    return lines


def _include_refinery(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """``[refinery] include = "FILE"`` takes FILE's [refinery] (path relative to the including file);
    keys given beside ``include`` replace the included ones, table by table."""
    refinery = data.get("refinery")
    if not isinstance(refinery, dict) or "include" not in refinery:
        return data
    name = refinery["include"]
    target = path.parent / str(name)
    if not isinstance(name, str) or not target.is_file():
        raise ConfigError(f"{path}: refinery.include = {name!r}: no such file beside {path.name} (expected "
                          f"a TOML with a [refinery] table, e.g. 'refinery.toml')")
    included = read_toml(target).get("refinery")
    if not isinstance(included, dict):
        raise ConfigError(f"{target}: has no [refinery] table for {path}'s refinery.include")
    merged = dict(included)
    for key, value in refinery.items():
        if key == "include":
            continue
        merged[key] = {**merged[key], **value} if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return {**data, "refinery": merged}


def load_config(path: str | Path | None = None, calibration: str | Path | None = None,
                **run_overrides: Any) -> ParkConfig:
    """Read and validate a park TOML file (the packaged reference park when ``path`` is None).

    ``calibration`` is a TOML of ``[[smelter.cell_overrides]]`` (as ``twin.calibrate`` writes them)
    appended to the park's own. ``run_overrides`` replace keys of ``[run]`` (e.g. ``days=2``).
    """
    path = Path(path) if path is not None else default_config_path()
    data = _read_with_base(path)
    source = str(path)
    if calibration is not None:
        extra = read_toml(Path(calibration))
        unknown = set(extra) - {"smelter"} or set(extra.get("smelter", {})) - {"cell_overrides"}
        if unknown:
            raise ConfigError(f"{calibration}: a calibration file holds only [[smelter.cell_overrides]]; "
                              f"found {sorted(unknown)}")
        smelter = dict(data.get("smelter", {}))
        smelter["cell_overrides"] = [*smelter.get("cell_overrides", []), *extra["smelter"]["cell_overrides"]]
        data = {**data, "smelter": smelter}
        source = f"{path} + {calibration}"
    if run_overrides:
        data = {**data, "run": {**data.get("run", {}), **run_overrides}}
    return parse_config(data, source=source)
