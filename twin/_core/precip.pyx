# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Gibbsite precipitation train: N stirred tanks in series, a sectional population balance in each.

Per tank: liquor alumina A and caustic C (g/L = kg/m3, C as Na2CO3), temperature T (degC), the
species that ride along with the liquor (total soda S as Na2CO3, silica, water, kg/m3) and the
number of particles per m3 in each size class. Concentrations and numbers are per m3 of the liquor
the tank holds (``volume`` is the liquor volume of a tank; the flow is the liquor flow). Classes are
geometric with volume ratio 2 (size ratio 2^(1/3)), Hounslow, Ryall & Marshall, AIChE J. 34 (1988) 1821. Mechanisms:
- growth, size-independent linear rate G: White & Bateman (Light Metals 1988) on the Rosenberg-Healy
  A* of the tank's liquor (its carbonate and organics included), poisoned by organics (the CAR/QAL
  law's exp(-k_TOC TOOC)); Veesler & Boistelle (1994, pure liquor) as the alternative law. A
  conservative upwind flux between classes (number conserved exactly; the top class keeps its
  particles);
- secondary nucleation into the smallest class, B = k_n ((A - A*)/C_N)^2 S (Misra 1970 form, S the
  seed surface per m3);
- agglomeration with the Hounslow-Ryall-Marshall scheme (volume conserved exactly for ratio-2
  classes), kernel beta0 exp(-(Li^2 + Lj^2)/1600 um^2), beta0 = k_a ((A - A*)/C_N)^4 (Ilievski 1991),
  times the square of the organics' poisoning of growth (cementation by growth: Worsley's G^2).
Alumina leaves the liquor exactly as the solids' gibbsite volume grows (rho 2420 kg/m3, 65.357 %
Al2O3), and the water of the hydrate Al2O3.3H2O leaves with it, so the aluminium and water balances
close to round-off; silica is only carried by the flow. The growing hydrate takes Na2O out of the
caustic (bound soda, QAL 1999 law), held in the solids as a row of its own and carried with them.
Energy: a stirred tank warmed by the heat of precipitation, fed through its interstage cooler (below).
Explicit steps, cut into sub-steps wherever a class or the liquor would lose more than 20 % in one
(agglomeration of fines can be fast).

Seed may enter any tank (fine seed to the agglomeration tanks, coarse seed to the growth tanks), and
the stream into each tank may pass an interstage cooler that takes it down to a set temperature (a
cooler never heats); the heat the coolers take out is summed for the refinery's heat balance.
"""

from twin._core.liquor cimport (
    NA2O_PER_NA2CO3, NA2O_PER_SODA, RHParams, bound_soda, organics_growth_factor, rh_solubility, veesler_boistelle_growth, white_bateman_growth,
)

cdef double RHO_GIBBSITE = 2420.0          # kg/m3
cdef double AL2O3_IN_GIBBSITE = 0.653569   # kg Al2O3 per kg Al(OH)3
cdef double PI_6 = 0.5235987755982988
cdef double WATER_PER_AL2O3 = 3 * 18.015 / 101.960   # kg H2O leaving with each kg Al2O3 as Al(OH)3

# tank state rows (tanks are columns): liquor and temperature, then classes
cdef enum:
    T_ALUMINA = 0          # g/L Al2O3
    T_CAUSTIC              # g/L as Na2CO3
    T_TEMPERATURE          # degC
    T_SODA                 # g/L total soda as Na2CO3 (caustic + carbonate), carried by the flow
    T_SILICA               # g/L SiO2, carried by the flow
    T_WATER                # kg/m3 water, carried by the flow, less the hydrate's water
    T_BOUND_SODA           # kg/m3 Na2O held in the solids (bound soda), carried with them
    N_TANK_ROWS

# train parameters
cdef enum:
    K_FLOW = 0             # m3/s slurry through the train
    K_VOLUME               # m3 per tank
    K_GROWTH_ON            # 1 / 0 switches (for tests of each mechanism)
    K_GROWTH_LAW           # GROWTH_WHITE_BATEMAN or GROWTH_VEESLER_BOISTELLE
    K_TOC                  # g/L C, organics in the liquor (poison growth, raise A*)
    K_NACL                 # g/L NaCl in the liquor (raises A*)
    K_NA2SO4               # g/L Na2SO4 in the liquor (raises A*)
    K_NUCLEATION_K         # #/(m2 h) at unit squared supersaturation
    K_AGGLOMERATION_K      # m3/(# h) at unit fourth-power supersaturation
    K_HEAT_CAPACITY        # J/(kg K) slurry
    K_DENSITY              # kg/m3 slurry
    K_HEAT_OF_PRECIPITATION  # J per kg Al2O3 precipitated (released, > 0)
    K_BOUND_SODA_K         # K1 of the QAL bound-soda law (0: no soda taken up)
    K_SEED_SODA            # kg Na2O per kg hydrate of the seed
    N_TRAIN_PARAMS

cdef enum:
    GROWTH_WHITE_BATEMAN = 0
    GROWTH_VEESLER_BOISTELLE = 1

GROWTH_LAWS = ("white_bateman", "veesler_boistelle")     # K_GROWTH_LAW's codes, in order

# the same constants for the Python side
GIBBSITE_DENSITY = RHO_GIBBSITE
GIBBSITE_AL2O3_FRACTION = AL2O3_IN_GIBBSITE
HYDRATE_WATER_PER_AL2O3 = WATER_PER_AL2O3

TANK_ROWS = ("alumina", "caustic", "temperature", "soda", "silica", "water", "bound_soda")
TRAIN_PARAMS = ("flow", "volume", "growth_on", "growth_law", "toc", "nacl", "na2so4", "nucleation_k", "agglomeration_k", "heat_capacity",
                "density", "heat_of_precipitation", "bound_soda_k", "seed_soda")


def class_sizes(Py_ssize_t n_classes, double smallest_um=1.0):
    """Characteristic sizes (um) of volume-ratio-2 classes: L_i = L_0 2^(i/3)."""
    import numpy as np
    return smallest_um * 2.0 ** (np.arange(n_classes) / 3.0)


cdef void rates(double[:, ::1] tank, double[:, ::1] num, const double[::1] sizes, const double[::1] vols,
                const double[:, ::1] size_kernel, const double[:, ::1] share, const double[::1] k,
                const double[::1] cooled_to, const RHParams* rh, const double[::1] feed, const double[:, ::1] seed,
                Py_ssize_t j, double[::1] dn, double[::1] out) noexcept nogil:
    """d(number)/dt per class (into dn), d(row)/dt per tank row and the precipitation rate (into out) for tank j."""
    cdef Py_ssize_t i, m, r, n = sizes.shape[0]
    cdef double q_v = k[K_FLOW] / k[K_VOLUME]
    cdef double a = tank[T_ALUMINA, j], c = tank[T_CAUSTIC, j], t = tank[T_TEMPERATURE, j]
    cdef double a_eq, cn, ss, g, area, b, beta0, flux, bij, vol_rate, frac, precipitated
    cdef double t_in, seed_volume = 0.0, bound, soda_rate
    # A* of this liquor: its carbonate (total soda less caustic, both as Na2CO3), salts and organics count
    a_eq = rh_solubility(rh, t + 273.15, c, k[K_NACL], tank[T_SODA, j] - c, k[K_NA2SO4], k[K_TOC], 1.0)
    cn = NA2O_PER_SODA * c
    ss = (a - a_eq) / cn if a > a_eq else 0.0
    poison = 1.0
    if k[K_GROWTH_LAW] == GROWTH_VEESLER_BOISTELLE:
        g = veesler_boistelle_growth(t + 273.15, a / a_eq, 1.0)
    else:
        poison = organics_growth_factor(k[K_TOC])
        g = white_bateman_growth(t + 273.15, ss, cn) * poison
    g = k[K_GROWTH_ON] * g / 3600.0 * 1e-6   # um/h -> m/s
    # transport: the stream from upstream (the feed into tank 0) and the seed this tank is given
    for i in range(n):
        seed_volume += vols[i] * seed[i, j]
        if j == 0:
            dn[i] = q_v * (seed[i, j] - num[i, j])
        else:
            dn[i] = q_v * (num[i, j - 1] + seed[i, j] - num[i, j])
    # growth: upwind flux across the upper edge of each class (the top class keeps its particles)
    area = 0.0
    for i in range(n):
        area += 3.141592653589793 * (sizes[i] * 1e-6) ** 2 * num[i, j]
    if g > 0.0:
        for i in range(n - 1):
            flux = g * num[i, j] / ((sizes[i + 1] - sizes[i]) * 1e-6)
            dn[i] -= flux
            dn[i + 1] += flux
    # nucleation into the smallest class
    b = k[K_NUCLEATION_K] * ss * ss * area / 3600.0
    dn[0] += b
    # agglomeration (Hounslow, Ryall & Marshall 1988, volume-ratio-2 classes)
    # agglomerates are cemented by growth (rate ~ G^2, the Worsley form, notes 3.3): what poisons growth
    # poisons agglomeration squared
    beta0 = k[K_AGGLOMERATION_K] * ss * ss * ss * ss * poison * poison / 3600.0
    if beta0 > 0.0:
        for i in range(n):
            for m in range(i + 1):
                bij = beta0 * size_kernel[i, m] * num[i, j] * num[m, j]
                if m < i:
                    # a class-m particle joins a class-i one: a 2^(m-i) share of the pair moves i -> i+1
                    frac = share[i, m]
                    dn[i] -= frac * bij
                    dn[m] -= bij
                    if i + 1 < n:
                        dn[i + 1] += frac * bij
                else:
                    dn[i] -= bij
                    if i + 1 < n:
                        dn[i + 1] += 0.5 * bij
    # alumina that left the liquor: the gibbsite volume made by growth and nucleation (agglomeration
    # moves volume between classes only)
    vol_rate = 0.0
    for i in range(n):
        vol_rate += vols[i] * dn[i]
    # subtract transport's share: that volume came with the flow, not from the liquor
    for i in range(n):
        if j == 0:
            vol_rate -= vols[i] * q_v * (seed[i, j] - num[i, j])
        else:
            vol_rate -= vols[i] * q_v * (num[i, j - 1] + seed[i, j] - num[i, j])
    precipitated = RHO_GIBBSITE * AL2O3_IN_GIBBSITE * vol_rate        # kg Al2O3 per m3 per s
    # every liquor row is carried by the flow; the upstream tank (or the feed) sends what it holds
    for r in range(N_TANK_ROWS):
        out[r] = q_v * ((feed[r] if j == 0 else tank[r, j - 1]) - tank[r, j])
    # the interstage cooler on the stream into this tank takes it down to its set temperature
    t_in = feed[T_TEMPERATURE] if j == 0 else tank[T_TEMPERATURE, j - 1]
    out[N_TANK_ROWS + 1] = 0.0
    if t_in > cooled_to[j]:
        out[T_TEMPERATURE] -= q_v * (t_in - cooled_to[j])
        out[N_TANK_ROWS + 1] = q_v * k[K_DENSITY] * k[K_HEAT_CAPACITY] * (t_in - cooled_to[j])   # W per m3
    out[T_ALUMINA] -= precipitated
    out[T_WATER] -= WATER_PER_AL2O3 * precipitated
    # bound soda: the hydrate takes Na2O out of the liquor's caustic as it grows (QAL 1999 law, the Python face
    # twin.refinery.liquor.bound_soda); the seed brings its own
    bound = bound_soda(k[K_BOUND_SODA_K], c, tank[T_SODA, j], t, k[K_TOC], a / c - a_eq / c)
    soda_rate = bound * precipitated / AL2O3_IN_GIBBSITE if precipitated > 0.0 else 0.0
    out[T_CAUSTIC] -= soda_rate / NA2O_PER_NA2CO3
    out[T_SODA] -= soda_rate / NA2O_PER_NA2CO3
    out[T_BOUND_SODA] += soda_rate + q_v * k[K_SEED_SODA] * RHO_GIBBSITE * seed_volume
    out[N_TANK_ROWS + 2] = soda_rate
    out[T_TEMPERATURE] += precipitated * k[K_HEAT_OF_PRECIPITATION] / (k[K_DENSITY] * k[K_HEAT_CAPACITY])
    out[N_TANK_ROWS] = precipitated


# layout of the ``totals`` accumulator: precipitated, then per tank row what came in and went out
cdef enum:
    TOTAL_PRECIPITATED = 0                       # kg Al2O3 out of the liquor into the solids
    TOTAL_IN = 1                                 # + row: integral of flow x feed row (kg for mass rows)
    TOTAL_OUT = 1 + N_TANK_ROWS                  # + row: integral of flow x the last tank's row
    TOTAL_SEED_AL2O3 = 1 + 2 * N_TANK_ROWS       # kg Al2O3 in with the seed solids
    TOTAL_PRODUCT_AL2O3 = 2 + 2 * N_TANK_ROWS    # kg Al2O3 out with the solids
    TOTAL_COOLING = 3 + 2 * N_TANK_ROWS          # J the interstage coolers took out
    TOTAL_BOUND_SODA = 4 + 2 * N_TANK_ROWS       # kg Na2O the growing hydrate took out of the liquor
    TOTAL_SEED_SODA = 5 + 2 * N_TANK_ROWS        # kg Na2O in with the seed
    N_TOTALS = 6 + 2 * N_TANK_ROWS

TOTALS = {"precipitated": TOTAL_PRECIPITATED, "in": TOTAL_IN, "out": TOTAL_OUT, "seed_al2o3": TOTAL_SEED_AL2O3,
          "product_al2o3": TOTAL_PRODUCT_AL2O3, "cooling": TOTAL_COOLING,
          "bound_soda": TOTAL_BOUND_SODA, "seed_soda": TOTAL_SEED_SODA, "size": N_TOTALS}


def advance(double[:, ::1] tank, double[:, ::1] num, const double[::1] sizes, const double[::1] k,
            const double[::1] cooled_to, const double[::1] feed, const double[:, ::1] seed, const double[::1] rh_params,
            Py_ssize_t n_steps, double dt, double[::1] totals, double[::1] passed):
    """Advance the train ``n_steps`` steps of ``dt`` s (each cut into shorter explicit sub-steps if needed).

    tank: (TANK_ROWS, tanks): alumina g/L, caustic g/L Na2CO3, temperature degC, soda g/L Na2CO3,
    silica g/L, water kg/m3; num: (classes, tanks) #/m3; sizes: class sizes (um); k: train
    parameters (TRAIN_PARAMS); cooled_to: degC the stream into each tank is cooled to (an interstage
    cooler; above the stream's temperature: none); feed: the TANK_ROWS values of the liquor entering
    tank 0; seed: (classes, tanks) #/m3 of the train's flow given to each tank; rh_params: the 8
    Rosenberg-Healy constants; totals: accumulates the N_TOTALS flows of the train (layout
    above, kg and kg Al2O3); passed: accumulates the particles (#) per class that left the last tank.
    """
    import numpy as np
    cdef Py_ssize_t n = sizes.shape[0], n_tanks = tank.shape[1], step, i, j, m, r, last = n_tanks - 1
    cdef RHParams rh
    cdef double q = k[K_FLOW], v = k[K_VOLUME], solid_in, solid_out, left, h, fastest
    if (num.shape[0] != n or num.shape[1] != n_tanks or tank.shape[0] != N_TANK_ROWS or feed.shape[0] != N_TANK_ROWS
            or seed.shape[0] != n or seed.shape[1] != n_tanks or cooled_to.shape[0] != n_tanks
            or passed.shape[0] != n or totals.shape[0] != N_TOTALS or k.shape[0] != N_TRAIN_PARAMS):
        raise ValueError(f"blocks must agree: tank ({N_TANK_ROWS}, tanks), num and seed (classes, tanks), feed "
                         f"({N_TANK_ROWS},), cooled_to (tanks,), passed (classes,), totals ({N_TOTALS},), "
                         f"k ({N_TRAIN_PARAMS},)")
    if not dt > 0.0 or dt * q / v > 0.2:
        raise ValueError(f"dt = {dt} s must be positive and below 0.2 of a tank's residence time")
    rh.k_nacl, rh.k_na2co3, rh.k_na2so4, rh.k_toc = rh_params[0], rh_params[1], rh_params[2], rh_params[3]
    rh.a0, rh.a3, rh.a4, rh.dg = rh_params[4], rh_params[5], rh_params[6], rh_params[7]
    vols_np = PI_6 * (np.asarray(sizes) * 1e-6) ** 3
    cdef double[::1] vols = vols_np
    # Ilievski's size dependence exp(-(Li^2 + Lj^2)/1600 um^2): large particles do not agglomerate
    kernel_np = np.exp(-(np.asarray(sizes)[:, None] ** 2 + np.asarray(sizes)[None, :] ** 2) / 1600.0)
    cdef double[:, ::1] size_kernel = kernel_np
    # HRM: when a class-m particle joins a class-i one (m < i), a 2^(m-i) share of the pair moves up
    share_np = 2.0 ** np.minimum(np.arange(n)[None, :] - np.arange(n)[:, None], 0)
    cdef double[:, ::1] share = share_np
    dn_np = np.zeros((n_tanks, n))
    cdef double[:, ::1] dn = dn_np
    out_np = np.zeros((n_tanks, N_TANK_ROWS + 3))     # rows' rates, precipitation, cooling, bound soda (per m3)
    cdef double[:, ::1] out = out_np
    with nogil:
        for step in range(n_steps):
            left = dt
            while left > 0.0:
                # explicit sub-steps short enough that no class or liquor loses over 20 % in one of them
                fastest = 0.0
                for j in range(n_tanks):
                    rates(tank, num, sizes, vols, size_kernel, share, k, cooled_to, &rh, feed, seed, j, dn[j], out[j])
                    for i in range(n):
                        if dn[j, i] < 0.0 and num[i, j] > 0.0 and -dn[j, i] / num[i, j] > fastest:
                            fastest = -dn[j, i] / num[i, j]
                    if out[j, 0] < 0.0 and tank[T_ALUMINA, j] > 0.0 and -out[j, 0] / tank[T_ALUMINA, j] > fastest:
                        fastest = -out[j, 0] / tank[T_ALUMINA, j]
                h = left if fastest * left <= 0.2 else 0.2 / fastest
                left -= h
                solid_in = 0.0
                solid_out = 0.0
                for i in range(n):
                    for j in range(n_tanks):
                        solid_in += vols[i] * seed[i, j]
                    solid_out += vols[i] * num[i, last]
                    passed[i] += q * num[i, last] * h
                for r in range(N_TANK_ROWS):
                    totals[TOTAL_IN + r] += q * feed[r] * h
                    totals[TOTAL_OUT + r] += q * tank[r, last] * h
                totals[TOTAL_SEED_AL2O3] += q * RHO_GIBBSITE * AL2O3_IN_GIBBSITE * solid_in * h
                totals[TOTAL_PRODUCT_AL2O3] += q * RHO_GIBBSITE * AL2O3_IN_GIBBSITE * solid_out * h
                totals[TOTAL_SEED_SODA] += q * k[K_SEED_SODA] * RHO_GIBBSITE * solid_in * h
                for j in range(n_tanks):
                    totals[TOTAL_PRECIPITATED] += out[j, N_TANK_ROWS] * v * h
                    totals[TOTAL_COOLING] += out[j, N_TANK_ROWS + 1] * v * h
                    totals[TOTAL_BOUND_SODA] += out[j, N_TANK_ROWS + 2] * v * h
                    for r in range(N_TANK_ROWS):
                        tank[r, j] += out[j, r] * h
                    for i in range(n):
                        num[i, j] += dn[j, i] * h
