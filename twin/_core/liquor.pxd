# cython: language_level=3
"""Bayer liquor correlations: the one copy used by refinery kernels and by ``twin.refinery.liquor``.

Concentrations in g/L of liquor measured at 25 degC: A as Al2O3, C (caustic) and S (total soda) as
Na2CO3 equivalent, salts as g/L of the salt, TOC as g/L C. Temperatures as named. Sources and
validity ranges are documented on the Python face (``twin/refinery/liquor.py``).
"""
from libc.math cimport exp, log, sqrt, pow

# g/L Na2CO3 -> mol/L Na (2 / 105.99), and Al2O3 per Na2CO3 (101.96 / 105.99)
cdef extern from *:
    """
    #define TWIN_NA_PER_SODA (2.0 / 105.99)
    #define TWIN_ALUMINA_PER_SODA 0.96197
    #define TWIN_NA2O_PER_SODA 0.58477
    #define TWIN_NA2O_PER_NA2CO3 (61.97853856 / 105.98753856)
    """
    const double NA_PER_SODA "TWIN_NA_PER_SODA"
    const double ALUMINA_PER_SODA "TWIN_ALUMINA_PER_SODA"
    const double NA2O_PER_SODA "TWIN_NA2O_PER_SODA"
    # the exact molar-mass ratio (IUPAC masses, as twin.refinery.stoichiometry): soda moved between the liquor
    # and the solids is converted with it, so the balances close (the rounded convention above is the
    # correlations' own)
    const double NA2O_PER_NA2CO3 "TWIN_NA2O_PER_NA2CO3"


cdef struct RHParams:
    # Rosenberg & Healy (1996) form: ionic-strength weights and activity-ratio fit
    double k_nacl
    double k_na2co3
    double k_na2so4
    double k_toc
    double a0
    double a3
    double a4
    double dg          # J/mol, K = exp(dg / (R T)) exactly as the published model is coded


cdef inline double rh_ionic_strength(const RHParams* q, double caustic, double nacl, double na2co3,
                                     double na2so4, double toc) noexcept nogil:
    return (NA_PER_SODA * caustic + q.k_nacl * nacl / 58.44 + q.k_na2co3 * na2co3 / 105.99
            + q.k_na2so4 * na2so4 / 142.04 + q.k_toc * NA_PER_SODA * toc)


cdef inline double rh_solubility(const RHParams* q, double t_k, double caustic, double nacl, double na2co3,
                                 double na2so4, double toc, double sign) noexcept nogil:
    """A* = 0.96197 C / (1 + 10^X / K); X = a0 sqrt(I)/(1 + sqrt(I)) - sign (a3 I + a4 I^1.5).

    ``sign`` is +1 for the gibbsite form and -1 for Audet's boehmite form (which adds a3, a4).
    """
    cdef double i = rh_ionic_strength(q, caustic, nacl, na2co3, na2so4, toc)
    cdef double r = sqrt(i)
    cdef double x = q.a0 * r / (1.0 + r) - sign * (q.a3 * i + q.a4 * i * r)
    cdef double k = exp(q.dg / (8.3145 * t_k))
    return ALUMINA_PER_SODA * caustic / (1.0 + exp(2.302585092994046 * x) / k)


cdef inline double misra_solubility(double t_k, double caustic) noexcept nogil:
    """Misra (1970): A* = C_N exp(6.2106 - 2486.7/T + 1.08753 C_N/T), C_N caustic as g/L Na2O."""
    cdef double cn = NA2O_PER_SODA * caustic
    return cn * exp(6.2106 - 2486.7 / t_k + 1.08753 * cn / t_k)


cdef inline double brahma_water(double t_c) noexcept nogil:
    """The solute-free term of BRAHMA, kg/m3: the density a liquor would have without solutes."""
    cdef double dt = t_c - 25.0
    return 1000.0 * (1.0149 - 3.0501e-4 * dt - 2.877e-6 * dt * dt)


cdef inline double brahma_solutes(double alumina, double caustic, double soda, double so4, double cl,
                                  double toc) noexcept nogil:
    """The solutes' term of BRAHMA, kg/m3 per the given g/L (linear: also kg for kg of solutes per m3)."""
    return 1000.0 * (7.0127e-4 * caustic + 4.4411e-4 * alumina + 7.4899e-4 * (soda - caustic)
                     + 7.8e-4 * so4 * 142.0 / 96.0 + 9.576e-4 * cl * 58.0 / 35.5 + 1.6847e-3 * toc)


cdef inline double brahma_density(double t_c, double alumina, double caustic, double soda, double so4,
                                  double cl, double toc) noexcept nogil:
    """Worsley 'BRAHMA new' liquor density, kg/m3 (explicit in g/L; SO4, Cl as g/L of the ions)."""
    return brahma_water(t_c) + brahma_solutes(alumina, caustic, soda, so4, cl, toc)


cdef inline double brahma_volume(double t_c, double alumina_kg, double caustic_kg, double soda_kg,
                                 double total_kg) noexcept nogil:
    """m3 of a liquor of ``total_kg`` holding the given kg of solutes (as Al2O3 and Na2CO3) at t_c.

    BRAHMA is linear in the concentrations, so V rho(m/V) = M solves in closed form:
    V = (M - solutes term of the masses) / solute-free term."""
    return (total_kg - brahma_solutes(alumina_kg, caustic_kg, soda_kg, 0.0, 0.0, 0.0)) / brahma_water(t_c)


cdef inline double langa_heat_capacity(double t_c, double alumina, double soda) noexcept nogil:
    """Langa (1985) liquor heat capacity, kJ/(kg K); soda = all sodium salts as g/L Na2CO3."""
    return 4.186 * (0.99639 - 3.90998e-4 * soda - 5.3832e-4 * alumina + 2.46493e-7 * soda * soda
                    + 5.7186e-7 * soda * alumina - 1.86581e-7 * alumina * t_c - 1.07766e-7 * soda * t_c
                    - 1.51278e-4 * t_c + 2.1464e-6 * t_c * t_c)


cdef inline double dewey_bpr(double molality, double t_k) noexcept nogil:
    """Dewey (1981) boiling point rise, K; molality of all solutes, T the water boiling point (K)."""
    cdef double m = molality
    cdef double tt = t_k / 1000.0
    return (0.00182 + 0.55379 * pow(m / 10.0, 7.0) + 0.0040625 * m * t_k
            + (-286.66 * m + 29.919 * m * m + 0.6228 * m * m * m) / t_k
            - 0.032647 * m * (m * tt) * (m * tt)
            + tt * tt * tt * tt * tt * (5.9705 * m - 0.57532 * m * m + 0.10417 * m * m * m))


cdef inline double worsley_bpr(double molality, double t_c) noexcept nogil:
    """Worsley 'Basis of Process Design' boiling point rise, K (t_c the water boiling point, degC)."""
    return (8.356e-4 + 7.1949e-3 * pow(molality, 0.66)) * t_c + 0.2649 * pow(molality, 1.6) - 0.1159


cdef inline double veesler_boistelle_growth(double t_k, double beta, double beta_c) noexcept nogil:
    """Veesler & Boistelle (1994): G = 1.92e19 (beta - beta_c)^2 exp(-120.7 kJ/mol / RT), um/h."""
    cdef double d = beta - beta_c
    if d <= 0.0:
        return 0.0
    return 1.92e19 * d * d * exp(-120.7e3 / (8.314 * t_k))


cdef inline double white_growth(double t_k, double supersat_na2o, double k, double e_over_r,
                                double caustic_na2o_root) noexcept nogil:
    """White-type laws: G = k exp(-E/RT) (dA/C_N)^2 / root, um/h (root = 1, sqrt(C_N) or sqrt(C_N/100))."""
    if supersat_na2o <= 0.0:
        return 0.0
    return k * exp(-e_over_r / t_k) * supersat_na2o * supersat_na2o / caustic_na2o_root


cdef inline double white_bateman_growth(double t_k, double supersat_na2o, double caustic_na2o) noexcept nogil:
    """White & Bateman (Light Metals 1988): G = 7.4e12 exp(-8500/T) (dA/C_N)^2 / sqrt(C_N), um/h."""
    return white_growth(t_k, supersat_na2o, 7.4e12, 8500.0, sqrt(caustic_na2o))


cdef inline double organics_growth_factor(double toc) noexcept nogil:
    """Growth poisoned by organics, exp(-k_TOC TOOC), k_TOC = 0.0023 L/g, TOOC = TOC 105.99/12.011 g/L as Na2CO3
    (the CAR/QAL precipitation law's organics term); toc as g/L C."""
    return exp(-0.0023 * toc * 105.99 / 12.011)


cdef inline double bound_soda(double k1, double caustic, double soda, double t_c, double toc,
                              double ac_supersaturation) noexcept nogil:
    """kg Na2O per kg Al(OH)3 precipitated: K1 (0.000598 C - 0.00036 T + 0.019568 TOOC/C) (1 - 0.758 C/S)
    (A/C - A*/C)^2 (QAL 1999 bound-soda law; C, S g/L Na2CO3, T degC, TOOC = TOC 105.99/12.011)."""
    cdef double x
    if ac_supersaturation <= 0.0 or caustic <= 0.0 or soda <= 0.0:
        return 0.0
    x = (k1 * (0.000598 * caustic - 0.00036 * t_c + 0.019568 * toc * 105.99 / 12.011 / caustic)
         * (1.0 - 0.758 * caustic / soda))
    return x * ac_supersaturation * ac_supersaturation if x > 0.0 else 0.0


cdef inline double oxalate_solubility(double t_c, double caustic, double na2co3) noexcept nogil:
    """Sodium oxalate a Bayer liquor holds at equilibrium, g/L Na2C2O4: 7.62 exp(0.012 T - 0.5848 (0.016 C
    + 0.011 Na2CO3)) (British Aluminium, Burntisland; SysCAD's Kenwalt Bayer model, refinery notes 3.6);
    C, Na2CO3 g/L as Na2CO3 @25, T degC. Falls with caustic and carbonate, rises with temperature."""
    return 7.62 * exp(0.012 * t_c - 0.5848 * (0.016 * caustic + 0.011 * na2co3))
