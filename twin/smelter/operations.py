"""The cell room's daily routine: measurements, lab samples, AlF3 additions and metal tapping.

Per cell, at its place in the tap cycle (staggered along the line), the crew
1. measures the bath temperature (thermocouple, noise ``temperature_sd_K``) and dips the metal
   pad (noise ``metal_dip_sd_cm``);
2. every ``bath_sample_days`` takes a bath sample; the lab result (excess AlF3, noise
   ``alf3_sample_sd_wt``) is known ``lab_delay_h`` later;
3. taps the metal: the order is the production estimated from the line current since the last
   tap, corrected by a share of the difference between the dipped pad and its target; the crucible
   takes the order give or take ``tap_error_sd`` and its scale reads the weight (``tap_scale_sd_kg``);
4. adds AlF3 by the rule smelters run (Salt 1990; Kolås & Støre 2009; notes sec. 2.15):
   base + K_x (target AlF3 - last lab AlF3) + K_T (measured T - target T), not below zero;
5. sets the resistance-target temperature additive: + per K the measured temperature is below
   its target (notes sec. 5.1), within +- a limit;
6. manages the bath height (notes sec. 5.6): bath measured above the design mass by more than a
   band is tapped toward the design mass (it leaves with the bath's composition); below the band,
   crushed bath is added and melted by the cell; each at most a crucible's worth a visit, so a ledge
   that melts and regrows (a power return) is not chased.

Noise comes from one seeded generator per cell, so a cell's draws do not depend on the others.
Every action is an event (time, cell, kind, value) for the results file.
"""
from __future__ import annotations

import numpy as np

from twin._core.pot import AL_KG_PER_COULOMB
from twin.smelter.cell import COUNTER, PARAM, STATE, bath_weight_fractions
from twin.smelter.config import CellConfig, OperationsConfig

EVENT_KINDS = {"tap_weight": 1, "temperature": 2, "bath_sample_alf3": 3, "alf3_addition": 4, "metal_dip": 5,
               "anode_setting": 6, "bath_tap": 7, "bath_addition": 8, "feeder_blocked": 9, "feeder_choked": 10,
               "feeder_cleared": 11, "cut_out": 12, "cut_in": 13,
               # a person's actions in a training session (twin.drivers.training), replayed from these events
               "trainee_quench": 14, "trainee_beam": 15, "trainee_feed_stop": 16, "trainee_overfeed": 17,
               "trainee_feed_auto": 18, "trainee_alf3": 19, "trainee_tap": 20, "trainee_line_current": 21,
               "trainee_accept_program": 22, "trainee_clear_feeder": 23,
               "instructor_feeder_block": 24, "instructor_power_cut": 25, "instructor_curtailment": 26,
               "instructor_hot_cell": 27}
# what an event's value is, by kind: the results variable that holds it (one unit each, CF) and its unit
EVENT_VALUES = {"event_mass": ("kg", "mass tapped, added, dipped or (anode setting) of butts taken out",
                               ("tap_weight", "alf3_addition", "metal_dip", "anode_setting", "bath_tap",
                                "bath_addition", "trainee_alf3", "trainee_tap")),
                "event_temperature": ("degC", "dipped bath temperature", ("temperature",)),
                "event_alf3": ("%", "excess AlF3 of the bath sample, wt %", ("bath_sample_alf3",)),
                "event_feeder": ("1", "feeder (0 = the first of the cell)", ("feeder_blocked", "feeder_choked",
                                                                           "feeder_cleared", "trainee_clear_feeder",
                                                                           "instructor_feeder_block")),
                "event_days": ("d", "lining age at a cut-out; days out of the line at a cut-in", ("cut_out", "cut_in"))}
# the values only a training session's events carry: its files alone have these variables (a run's would hold
# them empty, and every flush would write them)
TRAINING_EVENT_VALUES = {
    "event_acd": ("cm", "beam moved by hand (+ up), or a resistance target raised by this much ACD",
                  ("trainee_beam", "instructor_hot_cell")),
    "event_minutes": ("min", "length of a feed override by hand", ("trainee_feed_stop", "trainee_overfeed")),
    "event_current": ("kA", "line-current set-point given by hand", ("trainee_line_current",)),
    "event_fraction": ("1", "power fraction of a curtailment order", ("trainee_accept_program",
                                                                      "instructor_curtailment")),
    "event_hours": ("h", "length of a power cut", ("instructor_power_cut",)),
}
EVENT_VALUE_OF = {kind: name for name, (_, _, kinds) in {**EVENT_VALUES, **TRAINING_EVENT_VALUES}.items()
                  for kind in kinds}

# rows of the operations block (one column per cell)
OPS = {name: i for i, name in enumerate(("lab_alf3", "pending_alf3", "pending_ready_s", "taps", "last_tap_s"))}


class Operations:
    """Routine operations of every cell; ``block`` and ``rng`` states are checkpointed."""

    def __init__(self, cell: CellConfig, ops: OperationsConfig, n_cells: int, seed: int):
        self.cell = cell
        self.cfg = ops
        self.block = np.zeros((len(OPS), n_cells))
        self.block[OPS["lab_alf3"]] = cell.alf3_wt            # the last analysis before the run
        self.block[OPS["pending_ready_s"]] = np.inf
        self.rng = [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(n_cells)]
        self.events: list[tuple[float, int, int, float]] = []
        self.alf3_target = ops.alf3_target_wt if ops.alf3_target_wt is not None else cell.alf3_wt
        self.t_target = np.full(n_cells, np.nan)               # set from the steady state at start
        # lines a power program or the supply holds off their schedule (set by the run loop each interval): there
        # the crew holds its temperature terms (operations.temperature_hold_current_fraction)
        self.modulated_lines = np.zeros(0, bool)

    # ------------------------------------------------------------------ checkpoint support
    def rng_states(self) -> list[dict]:
        return [dict(g.bit_generator.state) for g in self.rng]

    # ------------------------------------------------------------------ the routine
    def perform(self, potlines, cells: np.ndarray, time_s: float) -> None:
        """Do the routine for ``cells`` (indices) at run time ``time_s`` (s)."""
        cfg, b, x = self.cfg, self.block, potlines.state
        area = potlines.params_of("cathode_area")[cells] * 1e-4
        rho = potlines.params_of("rho_metal")[cells]
        current = potlines.line_current()[cells]
        modulated = self.modulated_lines[potlines.cell_line[cells]]
        target_pad = self.cell.metal_mass_t * 1e3
        for i, k in enumerate(cells):
            g = self.rng[k]
            # lab results that came back since the last visit
            if b[OPS["pending_ready_s"], k] <= time_s:
                b[OPS["lab_alf3"], k] = b[OPS["pending_alf3"], k]
                b[OPS["pending_ready_s"], k] = np.inf
            temperature = x[STATE["t_bath"], k] + g.normal(0.0, cfg.temperature_sd_K)
            dip = x[STATE["metal"], k] + g.normal(0.0, cfg.metal_dip_sd_cm) * 1e-2 * rho[i] * area[i]
            self.event(time_s, k, "temperature", temperature)
            self.event(time_s, k, "metal_dip", dip)
            if b[OPS["taps"], k] % cfg.bath_sample_every_taps == 0:
                true_alf3 = bath_weight_fractions(x[:, k:k + 1])["alf3"][0]
                sample = true_alf3 + g.normal(0.0, cfg.alf3_sample_sd_wt)
                b[OPS["pending_alf3"], k] = sample
                b[OPS["pending_ready_s"], k] = time_s + cfg.lab_delay_h * 3600.0
                self.event(time_s, k, "bath_sample_alf3", sample)
            # tap: estimated production since the last tap plus a share of the pad error
            since = min(time_s - b[OPS["last_tap_s"], k], 2.0 * potlines.tap_interval_s) \
                if b[OPS["taps"], k] > 0 else potlines.tap_interval_s
            production = potlines.params_of("ce_ref")[k] * current[i] * since * AL_KG_PER_COULOMB
            order = production + cfg.metal_gain * (dip - production - target_pad)
            taken = float(np.clip(order * (1.0 + g.normal(0.0, cfg.tap_error_sd)), 0.0,
                                  x[STATE["metal"], k] - 0.5 * target_pad))
            potlines.remove_metal(k, taken)
            self.event(time_s, k, "tap_weight", taken + g.normal(0.0, cfg.tap_scale_sd_kg))
            # AlF3: the rule on the measurements available now
            base = self.cell.alf3_addition_kg_per_day * self.cell.tap_interval_h / 24.0
            # a restarted cell runs hot on purpose: its temperature terms wait for the end of its high voltage
            starting = potlines.linings.starting(k, time_s)
            if cfg.alf3_rule:
                days = self.cell.tap_interval_h / 24.0
                hot = 0.0 if modulated[i] or starting else temperature - self.t_target[k]
                target = potlines.linings.alf3_target(k, time_s, self.alf3_target)
                add = base + days * (cfg.alf3_gain_kg_per_day_per_wt * (target - b[OPS["lab_alf3"], k])
                                     + cfg.temperature_gain_kg_per_day_per_K * hot)
                add = float(np.clip(add, 0.0, 4.0 * base))
            else:
                add = base
            x[STATE["alf3"], k] += add
            potlines.counters[COUNTER["alf3_added"], k] += add
            self.event(time_s, k, "alf3_addition", add)
            if starting:                          # the start-up's voltage, lowered day by day
                potlines.params[PARAM["r_additive"], k] = potlines.linings.startup_additive(potlines, k, time_s)
            elif not modulated[i]:                # held while the line is modulated off its schedule
                potlines.params[PARAM["r_additive"], k] = float(np.clip(
                    cfg.temperature_additive_uohm_per_K * (self.t_target[k] - temperature),
                    -cfg.temperature_additive_max_uohm, cfg.temperature_additive_max_uohm)) * 1e-6
            self.manage_bath(potlines, k, time_s)
            b[OPS["taps"], k] += 1
            b[OPS["last_tap_s"], k] = time_s

    def manage_bath(self, potlines, k: int, time_s: float) -> None:
        """Bring the bath the crew measures back toward the design mass when it is outside the band: tap the
        excess (at most ``bath_tap_max_kg`` a visit), or add crushed bath (at most ``bath_addition_max_kg``)."""
        cfg, g = self.cfg, self.rng[k]
        design = self.cell.bath_mass_t * 1e3
        measured = float(bath_weight_fractions(potlines.state[:, k:k + 1])["bath_mass"][0]) \
            * (1.0 + 0.01 * cfg.bath_dip_sd_pct * g.normal())
        band = 0.01 * cfg.bath_tap_band_pct * design
        if measured > design + band:
            tapped = potlines.remove_bath(k, min(measured - design, cfg.bath_tap_max_kg))
            self.event(time_s, k, "bath_tap", tapped)
        elif measured < design - band and cfg.bath_addition_max_kg > 0:
            added = min(design - measured, cfg.bath_addition_max_kg)
            potlines.add_bath(k, added)
            self.event(time_s, k, "bath_addition", added)

    def event(self, time_s: float, cell: int, kind: str, value: float) -> None:
        self.events.append((time_s, int(cell), EVENT_KINDS[kind], float(value)))

    def take_events(self) -> list[tuple[float, int, int, float]]:
        events, self.events = self.events, []
        return events
