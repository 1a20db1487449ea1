# cython: language_level=3
"""Row indices of the structure-of-arrays blocks shared by the potline kernel and its Python face.

Each block is a C-contiguous ``double[rows, cells]`` array; one row per variable, one column per
cell. The names exposed to Python (``twin._core.pot.STATE_NAMES`` ...) are generated from these
enums in ``pot.pyx``, so the layout is written once.
"""

# Per-cell state (conserved quantities and slow states), SI units unless stated.
cdef enum:
    X_CRYOLITE = 0       # kg Na3AlF6 in the liquid bath
    X_ALF3               # kg excess AlF3
    X_CAF2               # kg CaF2
    X_ALUMINA            # kg dissolved Al2O3
    X_UNDISSOLVED        # kg undissolved Al2O3 (first-order dissolving pool)
    X_METAL              # kg liquid aluminium pad
    X_LEDGE              # m side-ledge thickness
    X_T_BATH             # degC bath/metal temperature (one node)
    X_T_SHELL            # degC sidewall lining/shell node
    X_ACD                # m anode-cathode distance
    X_ANODE_HEIGHT       # m mean anode carbon height (burn-off; anode setting is another issue)
    X_AE_ON              # 1 while an anode effect is on, else 0
    X_AE_TIME            # s since onset of the current anode effect
    X_FEED_DEMAND        # kg alumina owed by the feeder (a shot fires when it reaches a shot mass)
    X_RP_FILTERED        # ohm filtered pseudo-resistance (U - back EMF) / I, as the pot controller sees it
    X_RP_PREVIOUS        # ohm filtered pseudo-resistance at the previous feed-control sample
    X_RP_SLOPE           # ohm/s its slope over the last feed-control period
    X_FEED_MODE          # feed-control mode: 0 nominal, 1 underfeed (track), 2 overfeed
    X_MODE_TIME          # s in the present feed-control mode
    X_CONTROL_TIMER      # s to the next feed-control sample
    X_BEAM_TIMER         # s to the next resistance-control sample
    X_INHIBIT            # s left during which resistance control may not move the beam
    X_BEAM_MOVES_TODAY   # beam moves since the last daily reset
    X_SETTING_TIME       # s since the last anode pair was set
    X_NOISE_COUNTER      # voltage samples drawn so far (the counter of the cell's noise stream)
    X_T_CATHODE          # degC cathode blocks and bottom lining node (between metal pad and the air)
    X_T_TOP              # degC anodes, crust and cover node (between bath and the air)
    X_RP_NOISE           # ohm2 controller's running variance of raw pseudo-resistance samples (noise)
    X_SHELL_COOLING      # shell heat exchangers' setting: factor on the shell-to-air transfer (1: design)
    X_RP_RAW             # ohm the controller's last raw pseudo-resistance sample
    X_CRUSHED            # kg crushed bath added by the crew, not yet melted into the bath
    X_LVAE_HOLD          # s a running LVAE lasts with no zone below the LVAE alumina (0: no LVAE)
    X_AE_SEEN            # 1 once the pot control system has seen the present anode effect, else 0
    # alumina zones (one per feeder group, up to MAX_ZONES, the first P_ZONES used): each zone's dissolved and
    # undissolved alumina as its deviation (kg) from an equal share of the cell's pools, so the cell totals
    # above stay the conserved quantities and every zone deviation sums to zero over the zones
    X_ZONE_DISSOLVED     # kg, zone 0 (zones 1.. follow in the next rows)
    X_ZONE_DISSOLVED_1
    X_ZONE_DISSOLVED_2
    X_ZONE_DISSOLVED_3
    X_ZONE_UNDISSOLVED   # kg, zone 0 (zones 1.. follow)
    X_ZONE_UNDISSOLVED_1
    X_ZONE_UNDISSOLVED_2
    X_ZONE_UNDISSOLVED_3
    X_FEEDER             # share of its dose feeder 0 delivers (1 sound, 0 blocked, between: choked); 1.. follow
    X_FEEDER_1
    X_FEEDER_2
    X_FEEDER_3
    X_AE_EMF             # V back voltage of the present anode effect (drawn at its onset; 0: none drawn)
    X_AE_ATTEMPTS        # quench attempts on the present anode effect that failed
    X_CATCH_UP           # 1 from a large resistance error until it is back inside the band, else 0
    N_STATE

# the most alumina zones (feeder groups) a cell can have
cdef enum:
    MAX_ZONES = 4

# Per-cell parameters (constant during a kernel call).
cdef enum:
    P_ANODE_AREA = 0     # cm2 effective anode area (geometric x fanning)
    P_ONE_ANODE_AREA     # cm2 geometric area of one anode (critical current density)
    P_CATHODE_AREA       # cm2 cathode (metal pad) area
    P_R_ANODE            # ohm anode assembly + carbon at the reference mean carbon height
    P_R_CATHODE          # ohm cathode block + collector bars at the reference lining age
    P_R_EXTERNAL         # ohm cell's share of the busbar (heats the potroom, not the cell)
    P_AE_ALUMINA         # wt % dissolved alumina at which an anode effect starts
    P_AE_VOLTAGE         # V back voltage of a cell on anode effect
    P_AE_DURATION        # s an anode effect lasts unless the controller quenches it (the crew kills it by hand)
    P_SEF_CF4            # (kg CF4/t Al)/(AE-min/cell-day) slope factor
    P_C2F6_RATIO         # kg C2F6 per kg CF4
    P_UNDISSOLVED_FRACTION   # fraction of a shot entering the undissolved pool
    P_K_DISSOLVE         # 1/s first-order dissolution rate of the undissolved pool at the reference superheat
    P_DISSOLUTION_SUPERHEAT  # K superheat at which the dissolution's heat factor is half its saturation
    P_SHOT_MASS          # kg alumina per shot (cell-wide)
    P_NA2O               # mass fraction Na2O in the fed alumina
    P_CAO                # mass fraction CaO in the fed alumina
    P_FEED_GAIN          # 1/wt % proportional correction of the nominal feeder
    P_ALUMINA_TARGET     # wt % alumina the nominal feeder aims at
    P_FEED_ENABLED       # 1 feeder on, 0 off
    P_C_BATH             # J/(kg K) bath heat capacity
    P_C_METAL            # J/(kg K) liquid aluminium heat capacity
    P_UA_TOP             # W/K top heat-loss conductance (anodes, crust, duct gas)
    P_UA_BOTTOM          # W/K bottom heat-loss conductance
    P_T_AMBIENT          # degC potroom air
    P_SIDE_AREA          # m2 sidewall area in contact with bath/metal
    P_H_BATH_LEDGE       # W/(m2 K) bath-to-ledge heat transfer coefficient
    P_K_LEDGE            # W/(m K) ledge conductivity
    P_RHO_LEDGE          # kg/m3 ledge density
    P_LATENT             # J/kg latent heat of fusion of the ledge (cryolite)
    P_R_LINING           # m2 K/W sidewall lining resistance, ledge face to shell node
    P_H_SHELL            # W/(m2 K) shell to air (convection + radiation)
    P_C_SHELL            # J/K heat capacity of the sidewall lining/shell node
    P_LEDGE_MIN          # m thinnest ledge kept (bath then touches the lining)
    P_CE_REF             # current efficiency (fraction) the crew and the feeder assume (the reference cell's)
    P_SUPERHEAT_REF      # K reference superheat of the back-reaction loss law
    P_ALF3_REF           # wt % reference excess AlF3 of the back-reaction loss law
    P_RHO_ANODE          # kg/m3 baked anode density
    P_ANODE_GEO_AREA     # m2 geometric anode area (burn-off rate)
    P_EXCESS_CARBON      # kg/s carbon burnt beyond Faraday's CO2 (air burn, carboxy reaction, dusting)
    P_ANODE_RESISTIVITY  # ohm m baked anode carbon's electrical resistivity at its working temperature
    P_ANODE_HEIGHT_REF   # m mean anode carbon height at which P_R_ANODE holds (the staggered cell's)
    P_R_CATHODE_AGE      # ohm cathode resistance the lining's age adds to P_R_CATHODE (set by Python)
    P_RHO_METAL          # kg/m3 liquid aluminium density
    P_TRACKING           # 1: feed control by tracking the pseudo-resistance; 0: nominal placeholder feeder
    P_BACK_EMF           # V back EMF the controller subtracts (about 1.65 V)
    P_FILTER_TIME        # s time constant of the pseudo-resistance filter
    P_CONTROL_PERIOD     # s feed-control sample period
    P_NOMINAL_TIME       # s of nominal feeding between tracks
    P_UNDERFEED_FACTOR   # underfeed rate / nominal rate
    P_OVERFEED_FACTOR    # overfeed rate / nominal rate
    P_SLOPE_THRESHOLD    # ohm/s pseudo-resistance slope that ends an underfeed (on a quiet cell)
    P_SLOPE_SIGMAS       # standard deviations of the slope's noise the slope must also clear
    P_UNDERFEED_TIMEOUT  # s longest underfeed
    P_OVERFEED_TIME      # s of overfeed after a track
    P_RESISTANCE_CONTROL # 1: resistance (ACD) control on
    P_BEAM_PERIOD        # s resistance-control sample period
    P_R_TARGET           # ohm target pseudo-resistance
    P_R_BAND             # ohm half-width of the dead band around the target
    P_LARGE_ERROR        # ohm error corrected past the daily move limit
    P_ACD_SENSITIVITY    # ohm/m controller's estimate of dR/dACD
    P_BEAM_MAX_MOVE      # m largest single beam move
    P_BEAM_MAX_MOVES     # beam moves allowed per day
    P_AE_DETECT_VOLTAGE  # V cell voltage above which the controller declares an anode effect
    P_QUENCH_DELAY       # s from AE onset to the quench (overfeed + beam pumping)
    P_QUENCH_MASS        # kg alumina dumped by the quench
    P_QUENCH_SUCCESS     # probability that one quench attempt kills the anode effect
    P_QUENCH_RETRY       # s between a failed quench attempt and the next
    P_QUENCH_ATTEMPTS    # attempts the controller makes before it leaves the AE to the crew (P_AE_DURATION)
    P_AE_VOLTAGE_SD      # V sd of the back voltage of anode effects about P_AE_VOLTAGE (one draw per AE)
    P_SETTING_HEAT       # J the cold anodes of one setting take from the bath
    P_SETTING_HEAT_TIME  # s time constant of that heat sink
    P_PICKUP_TIME        # s time constant of the new anodes' current pick-up
    P_SETTING_FRACTION   # share of the anode area set at once (2 / anodes)
    P_OVC                # (kg CF4/t Al)/mV overvoltage-method coefficient
    P_OVC_C2F6_RATIO     # kg C2F6 per kg CF4 in the overvoltage method
    P_NOISE_SD           # V standard deviation of the controller's raw voltage samples (0: none)
    P_NOISE_SEED         # seed of the cell's measurement-noise stream (an integer held exactly)
    P_FEED_OVERRIDE      # kg/s feed rate imposed from outside (replay of a historian); < 0: none
    P_C_CATHODE          # J/K heat capacity of the cathode/bottom-lining node
    P_BOTTOM_SPLIT       # share of the bath-to-air temperature drop of the bottom path below the cathode node
    P_C_TOP              # J/K heat capacity of the anode/crust/cover node
    P_TOP_SPLIT          # share of the bath-to-air temperature drop of the top path above the top node
    P_TOP_FACTOR         # factor on the top node's loss to air (cover and draft; 1: routine)
    P_NOMINAL_CURRENT    # A the line's design current (feed-forward of the heat-balance controllers)
    P_HX_GAIN            # shell heat exchangers: change of their setting per relative change of current
    P_HX_MIN             # lowest setting (dampers closed)
    P_HX_MAX             # highest setting (full air flow)
    P_HX_TIME            # s time constant of the exchangers' dampers
    P_HEAT_FEEDFORWARD   # share of a current change's heat deficit the resistance target makes up (0..1)
    P_ENTHALPY_VOLTAGE   # V production enthalpy per coulomb at the design CE (H_rxn CE M_Al / 3F)
    P_R_ADDITIVE         # ohm resistance-target additive set by the crew's routine (temperature)
    P_NOISE_GAIN         # ohm/V resistance-target additive per volt of voltage noise above the threshold
    P_NOISE_THRESHOLD    # V voltage-noise sd above which the noise additive acts
    P_ACD_MIN            # m ACD floor of resistance control
    P_ACD_MAX            # m ACD ceiling of resistance control
    P_PAD_ACD            # m ACD at which the metal-pad instability index is 1
    P_PAD_LENGTH         # m decay length of the instability index with ACD
    P_CE_PAD_LOSS        # CE loss (fraction) at instability index 1
    P_LOSS_DENSITY       # A/cm2 back-reaction loss per cathode (metal-bath interface) area at the reference bath
    P_PAD_NOISE          # V sd of the metal-pad voltage noise at instability index 1
    P_CRUSHED_ALF3       # mass fraction excess AlF3 of crushed bath (the rest cryolite, CaF2, alumina)
    P_CRUSHED_CAF2       # mass fraction CaF2 of crushed bath
    P_CRUSHED_ALUMINA    # mass fraction Al2O3 of crushed bath
    P_CRUSHED_CP         # J/(kg K) mean heat capacity of solid crushed bath
    P_CRUSHED_TIME       # s time constant of its melting into the bath
    P_ZONES              # alumina zones (feeder groups), 1..MAX_ZONES
    P_ZONE_MIXING_TIME   # s exchange time of dissolved alumina between two neighbouring zones
    P_LVAE_ALUMINA       # wt % zone alumina below which its anodes make PFC without a high-voltage AE
    P_LVAE_CF4_RATIO     # LVAE CF4 rate of a zone at the AE alumina / the HVAE rate of the same anode area
    P_LVAE_DETECTION     # 1: the pot control system sees LVAE (individual anode currents); 0: it does not
    P_FEEDER_DOSE        # dose of feeder 0 / its design dose (feeder-to-feeder variation); 1.. follow
    P_FEEDER_DOSE_1
    P_FEEDER_DOSE_2
    P_FEEDER_DOSE_3
    P_IN_SERVICE         # 1 in the line, 0 cut out (relining): the kernel skips the cell, the line bypasses it
    N_PARAM

# Per-cell algebraic quantities kept between steps.
cdef enum:
    A_LIQUIDUS = 0       # degC
    A_INV_SATURATION     # 1 / (wt % alumina solubility)
    A_BATH_RATIO         # NaF/AlF3 weight ratio
    A_CE                 # current efficiency (fraction) at the line current of the last slow step
    A_LOGK_BASE          # ln(kappa) without the alumina term
    A_H_REACTION         # J/kg Al production enthalpy
    A_ALUMINA_WT         # wt % dissolved alumina
    A_BACK_EMF           # V back EMF (E_rev + overvoltages) at the current state
    A_RESISTANCE         # ohm ohmic resistance (bath, bubbles, anode, cathode, external)
    A_R_SERIES           # ohm anode (at its carbon height), cathode (at its age) and external resistances
    A_Q_ELECTRIC         # J electric heat into the cell since the last slow step
    A_Q_REACTION         # J production enthalpy since the last slow step
    A_LOG_ANODE_AREA     # ln(P_ANODE_AREA)
    A_LOG_CATHODE_AREA   # ln(P_CATHODE_AREA)
    A_AREA_FACTOR        # P_ONE_ANODE_AREA ** -0.1
    A_INV_ANODE_AREA     # 1 / P_ANODE_AREA
    A_FILTER_GAIN        # 1 - exp(-dt / P_FILTER_TIME): pseudo-resistance filter gain per fast step
    A_ACTIVE             # share of the anode area carrying current (new anodes pick up slowly)
    A_LOG_ACTIVE         # ln(A_ACTIVE)
    A_ALUMINA_CAP        # kg dissolved alumina at saturation (the bath cannot hold more)
    A_NOISE_SD           # V sd of the voltage the controller samples: measurement plus metal-pad noise
    A_PAD_LOSS           # CE loss of the metal-pad instability at the present ACD
    A_HX_RELAX           # 1 - exp(-slow step / P_HX_TIME): the exchangers' dampers' move per slow step
    A_ALUMINA_MIN        # wt % dissolved alumina of the leanest zone
    A_ZONE_OFFSET        # wt % the leanest zone's alumina below the cell's (<= 0), slow step
    A_DELIVERED          # share of a dose the cell's feeders deliver (set per kernel call)
    A_ZONE_DECAY         # product of the undissolved pool's decays over the fast steps of this slow step
    A_ZONE_CARRY         # kg dosed this slow step whose undissolved part is still undissolved (decayed to now)
    A_ZONE_DOSED         # kg dosed cell-wide this slow step
    A_LOSS_CURRENT       # A back-reaction loss current of the cell's metal-bath interface (slow step)
    A_SLOPE_NOISE        # 1/s2 variance of the controller's slope per unit variance of raw samples
    A_DISSOLUTION_HEAT   # superheat's factor on the dissolution rate over the coming slow step
    A_ZONE_MEAN          # wt % the cell's dissolved alumina when the zones' offsets were last refreshed
    # the zones' exchange over a sub-step of the slow step, in its modes (set per kernel call, zones.pxd)
    A_ZONE_KEEP          # share of exchange mode 0 left after a sub-step (1: the mean); modes 1.. follow
    A_ZONE_KEEP_1
    A_ZONE_KEEP_2
    A_ZONE_KEEP_3
    A_ZONE_GAIN          # s: a constant rate's gain into mode 0 over a sub-step, per kg/s; modes 1.. follow
    A_ZONE_GAIN_1
    A_ZONE_GAIN_2
    A_ZONE_GAIN_3
    A_ZONE_COS           # cos(pi (z + 1/2) / zones) of zone 0, the modes' phase; zones 1.. follow
    A_ZONE_COS_1
    A_ZONE_COS_2
    A_ZONE_COS_3
    N_AUX

# Per-cell sums over fast steps for the output means (reset by Python at each output).
cdef enum:
    S_VOLTAGE = 0        # V
    S_CURRENT_CE         # A current that made metal (current x current efficiency)
    S_T_BATH             # degC
    S_LIQUIDUS           # degC
    S_ALUMINA            # wt %
    S_ALF3               # wt %
    S_BATH_MASS          # kg
    S_METAL_MASS         # kg
    S_LEDGE              # m
    S_ACD                # m
    S_T_SHELL            # degC
    S_Q_LOSS             # W heat loss (top + bottom + shell to air)
    S_SHELL_COOLING      # shell heat exchangers' setting
    S_BEAM_POSITION      # running totals of the beam's net travel and of the alumina fed (m, kg): their
    S_ALUMINA_FED        # means against the totals' ends tell when in the interval the beam moved, the feed came
    N_SUM

# Per-cell cumulative counters (never reset during a run).
cdef enum:
    C_METAL_PRODUCED = 0 # kg
    C_METAL_TAPPED       # kg
    C_ALUMINA_FED        # kg (as fed, incl. Na2O)
    C_ALUMINA_CONSUMED   # kg Al2O3 electrolysed
    C_ALF3_ADDED         # kg
    C_CARBON_CONSUMED    # kg net carbon
    C_ENERGY_DC          # kWh U*I
    C_AE_MINUTES         # min
    C_AE_COUNT           # anode effects started
    C_CF4                # kg
    C_C2F6               # kg
    C_SHOTS              # feeder shots
    C_E_ELECTRIC         # J electric heat into the cell, I*(U - I*R_ext)
    C_E_REACTION         # J production enthalpy
    C_E_TOP              # J lost through the top
    C_E_BOTTOM           # J lost through the bottom
    C_E_SIDE             # J lost from the shell to air
    C_E_BATH             # J stored as sensible heat of bath and metal
    C_E_SHELL            # J stored in the shell node
    C_E_LATENT           # J stored as latent heat (negative when ledge freezes)
    C_TRACKS             # underfeed periods started
    C_BEAM_MOVES         # resistance-control beam moves
    C_BEAM_TRAVEL        # m of beam travel by resistance control (absolute)
    C_QUENCHES           # anode effects quenched by the controller
    C_AE_OVERVOLTAGE     # V s above the target voltage while on anode effect
    C_E_ANODE            # J taken by newly set anodes from the bath
    C_ANODES_SET         # anodes set (by Python's operations)
    C_BUTTS              # kg anode butts taken out
    C_CF4_OVERVOLTAGE    # kg CF4 by the overvoltage method
    C_C2F6_OVERVOLTAGE   # kg C2F6 by the overvoltage method
    C_BEAM_POSITION      # m net beam travel by resistance control (signed: + raises the anodes)
    C_E_CATHODE          # J stored in the cathode/bottom-lining node
    C_E_TOP_NODE         # J stored in the anode/crust/cover node
    C_OUT_OF_RANGE       # s with a correlation used outside its validity range (see pot.pyx T_VALID_MIN ...)
    C_BATH_TAPPED        # kg bath tapped by the crew (by Python's operations)
    C_BATH_TAPPED_ALUMINA  # kg dissolved Al2O3 in that bath
    C_BATH_TAPPED_FLUORINE # kg fluorine in that bath
    C_SODIUM_UPTAKE      # kg NaF taken up by the cathode (by Python's operations)
    C_BATH_ADDED         # kg crushed bath added by the crew (by Python's operations)
    C_E_ADDITIONS        # J taken from the bath to heat and melt crushed-bath additions
    C_AE_DETECTED        # anode effects the pot control system saw (cell voltage above its detection level)
    C_LVAE_MINUTES       # min with a zone on low-voltage anode effect
    C_LVAE_COUNT         # low-voltage anode effects started
    C_LVAE_DETECTED      # of them, seen by the pot control system
    C_CF4_LVAE           # kg CF4 made by low-voltage anode effects
    C_FEEDER_FAULTS      # feeder faults (choked or blocked; by Python's operations)
    C_RELINES            # cut-outs for relining (by Python's operations)
    C_RELINE_METAL_IN    # kg metal put into relined cells at their restart
    C_RELINE_BATH_IN     # kg bath put into relined cells at their restart
    C_RELINE_ALUMINA_IN  # kg dissolved Al2O3 in that bath
    C_RELINE_FLUORINE_IN # kg fluorine in that bath
    C_QUENCH_FAILURES    # quench attempts that left the anode effect on
    N_COUNTER

# Per-line state and parameters.
cdef enum:
    L_SOURCE_VOLTAGE = 0 # V rectifier output
    L_CURRENT            # A line current
    L_SUM_EMF            # V sum of cell back EMFs
    L_SUM_RESISTANCE     # ohm sum of cell resistances
    L_SUM_CURRENT        # A s sum over fast steps for the output mean
    L_SUM_VOLTAGE        # V s sum of the rectifier voltage over fast steps for the output mean
    N_LINE

cdef enum:
    LP_R_BUS = 0         # ohm busbar resistance outside the cells' shares
    LP_V_MAX             # V rectifier voltage ceiling
    LP_TAU               # s regulator time constant (0: ideal)
    LP_I_SET_START       # A set-point at the start of the call
    LP_I_SET_END         # A set-point at the end of the call (linear in between)
    N_LINE_PARAM
