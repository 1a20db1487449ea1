# cython: language_level=3
"""Bath and cell-voltage correlations: the one copy used by the kernels and by ``twin.smelter.bath``.

Every function is ``cdef inline ... noexcept nogil`` so kernels call it without Python overhead.
Compositions are wt %, temperatures as stated per function (degC or K), current densities A/cm2.
Sources and validity ranges are documented on the Python face (``twin/_core/props.pyx``) and in
``twin/smelter/bath.py``; the equations are restated here in our own notation.
"""
from libc.math cimport exp, log, sqrt


cdef inline double fmax(double a, double b) noexcept nogil:
    """max for finite numbers, inlined (libm's fmax is a library call without -ffast-math)."""
    return a if a > b else b


cdef inline double fmin(double a, double b) noexcept nogil:
    return a if a < b else b

# Physical constants (CODATA 2018, IUPAC atomic weights) in SI units, and the Na2O neutralisation
# 3 Na2O + 4 AlF3 -> 2 Na3AlF6 + Al2O3 in kg per kg Na2O. C macros, so no module owns them.
cdef extern from *:
    """
    #define TWIN_FARADAY 96485.33212
    #define TWIN_R_GAS 8.314462618
    #define TWIN_M_AL 26.9815385e-3
    #define TWIN_M_AL2O3 101.9613e-3
    #define TWIN_M_C 12.011e-3
    #define TWIN_KELVIN 273.15
    #define TWIN_AL_PER_COULOMB (TWIN_M_AL / (3.0 * TWIN_FARADAY))
    #define TWIN_AL2O3_PER_COULOMB (TWIN_M_AL2O3 / (6.0 * TWIN_FARADAY))
    #define TWIN_CARBON_PER_COULOMB (TWIN_M_C / (4.0 * TWIN_FARADAY))
    #define TWIN_R_OVER_6F (TWIN_R_GAS / (6.0 * TWIN_FARADAY))
    #define TWIN_R_OVER_2F (TWIN_R_GAS / (2.0 * TWIN_FARADAY))
    #define TWIN_ALF3_PER_NA2O (4.0 * 83.9767 / (3.0 * 61.9789))
    #define TWIN_CRYOLITE_PER_NA2O (2.0 * 209.9413 / (3.0 * 61.9789))
    #define TWIN_ALUMINA_PER_NA2O (101.9613 / (3.0 * 61.9789))
    #define TWIN_ALF3_PER_CAO (2.0 * 83.9767 / (3.0 * 56.0774))
    #define TWIN_CAF2_PER_CAO (78.0748 / 56.0774)
    #define TWIN_ALUMINA_PER_CAO (101.9613 / (3.0 * 56.0774))
    """
    const double FARADAY "TWIN_FARADAY"                  # C/mol
    const double R_GAS "TWIN_R_GAS"                      # J/(mol K)
    const double M_AL "TWIN_M_AL"                        # kg/mol
    const double M_AL2O3 "TWIN_M_AL2O3"                  # kg/mol
    const double M_C "TWIN_M_C"                          # kg/mol
    const double KELVIN "TWIN_KELVIN"                    # K at 0 degC
    # Faraday's law as multipliers (compile-time constants, so kernels multiply, not divide)
    const double AL_PER_COULOMB "TWIN_AL_PER_COULOMB"          # kg Al per C at CE 1 (z = 3)
    const double AL2O3_PER_COULOMB "TWIN_AL2O3_PER_COULOMB"    # kg Al2O3 per C at CE 1 (z = 6)
    const double CARBON_PER_COULOMB "TWIN_CARBON_PER_COULOMB"  # kg C per C as CO2 (z = 4)
    const double R_OVER_6F "TWIN_R_OVER_6F"                    # V/K
    const double R_OVER_2F "TWIN_R_OVER_2F"                    # V/K
    const double ALF3_PER_NA2O "TWIN_ALF3_PER_NA2O"
    const double CRYOLITE_PER_NA2O "TWIN_CRYOLITE_PER_NA2O"
    const double ALUMINA_PER_NA2O "TWIN_ALUMINA_PER_NA2O"
    # CaO of fed alumina: 3 CaO + 2 AlF3 -> 3 CaF2 + Al2O3 (the bath's CaF2 source, notes sec. 2.15)
    const double ALF3_PER_CAO "TWIN_ALF3_PER_CAO"
    const double CAF2_PER_CAO "TWIN_CAF2_PER_CAO"
    const double ALUMINA_PER_CAO "TWIN_ALUMINA_PER_CAO"


cdef inline double liquidus_c(double alf3, double caf2, double al2o3, double lif,
                              double mgf2, double kf) noexcept nogil:
    """Primary cryolite liquidus, degC (Solheim et al. 1996, as printed in the abstract)."""
    cdef double x = caf2 * alf3
    cdef double alf3_22 = exp(2.2 * log(alf3)) if alf3 > 0.0 else 0.0
    return (1011.0 + 0.50 * alf3 - 0.13 * alf3_22
            - 3.45 * caf2 / (1.0 + 0.0173 * caf2)
            + 0.124 * x - 0.00542 * x * sqrt(x)
            - 7.93 * al2o3 / (1.0 + 0.0936 * al2o3 - 0.0017 * al2o3 * al2o3 - 0.0023 * alf3 * al2o3)
            - 8.90 * lif / (1.0 + 0.0047 * lif + 0.0010 * alf3 * alf3)
            - 3.95 * mgf2 - 3.95 * kf)


cdef inline double alumina_saturation_c(double t_c, double alf3, double caf2, double lif,
                                        double mgf2) noexcept nogil:
    """Alumina solubility, wt % (Skybakmoen, Solheim & Sterten 1997): A (t/1000)^B."""
    cdef double a = (11.9 - 0.062 * alf3 - 0.0031 * alf3 * alf3 - 0.50 * lif - 0.20 * caf2
                     - 0.30 * mgf2 + 42.0 * lif * alf3 / (2000.0 + lif * alf3))
    cdef double b = 4.8 - 0.048 * alf3 + 2.2 * lif * sqrt(lif) / (10.0 + lif + 0.001 * alf3 * alf3 * alf3)
    return a * exp(b * log(t_c / 1000.0))


cdef inline double log_conductivity_c(double t_k, double al2o3, double alf3, double caf2,
                                      double mgf2, double kf, double lif) noexcept nogil:
    """ln of bath conductivity in S/cm (Hives-type exponential form, Hives et al. 1996)."""
    return (1.977 - 0.0200 * al2o3 - 0.0131 * alf3 - 0.0060 * caf2 - 0.0106 * mgf2
            - 0.0019 * kf + 0.0121 * lif - 1204.3 / t_k)


cdef inline double conductivity_hives1993_c(double t_k, double x_al2o3, double x_caf2,
                                            double x_mgf2) noexcept nogil:
    """Conductivity of cryolite-based melts at CR 3, S/cm, mole fractions (Hives et al. 1993)."""
    return (7.22 * exp(-1204.3 / t_k) - 2.53 * x_al2o3 - 0.76 * x_caf2 - 1.07 * x_mgf2
            - 1.80 * x_al2o3 * x_caf2 - 2.59 * x_al2o3 * x_mgf2)


cdef inline double standard_potential_c(double t_k) noexcept nogil:
    """E0 of 2 Al2O3 + 3 C = 4 Al + 3 CO2 at unit activities, V (Haupin 1998)."""
    return 1.896 - 0.000572 * t_k


cdef inline double alumina_activity_c(double ros) noexcept nogil:
    """Al2O3 activity from ROS = %Al2O3 / %Al2O3,sat (Haupin 1998 eq.10); ROS clamped to [0.05, 1]."""
    cdef double r = fmin(fmax(ros, 0.05), 1.0)
    return r * (-0.03791 + r * (2.364 + r * (-2.194 + r * 0.8686)))


cdef inline double reversible_potential_c(double t_k, double al2o3, double sat) noexcept nogil:
    """E_rev = E0 + (RT/12F) ln(1/a^2), V (Haupin 1998)."""
    return standard_potential_c(t_k) - R_OVER_6F * t_k * log(alumina_activity_c(al2o3 / sat))


cdef inline double critical_current_density_f(double t_k, double al2o3, double area_factor) noexcept nogil:
    """Critical anode current density, A/cm2, with area_factor = (one anode's area in cm2) ** -0.1."""
    return (5.5 + 0.018 * (t_k - 1323.0)) * area_factor * (sqrt(fmax(al2o3, 0.0)) - 0.4)


cdef inline double critical_current_density_c(double t_k, double al2o3, double anode_area_cm2) noexcept nogil:
    """Critical anode current density for anode effect, A/cm2 (Grjotheim & Welch 1988 ch.5 eq.13)."""
    return critical_current_density_f(t_k, al2o3, exp(-0.1 * log(anode_area_cm2)))


cdef inline double anode_surface_overvoltage_c(double t_k, double log_i, double log_al2o3) noexcept nogil:
    """Tafel anode overvoltage T ln(i/i_r)/12533 with i_r = 0.0029 (%Al2O3)^0.56, V (Haupin 1998 via CellModel).

    Takes ln(i) and ln(%Al2O3) so that kernels evaluate each logarithm once per cell-step.
    """
    return t_k * (log_i - (-5.843044541 + 0.56 * log_al2o3)) / 12533.0   # ln(0.0029) = -5.843044541


cdef inline double anode_concentration_overvoltage_c(double t_k, double i, double i_crit) noexcept nogil:
    """(RT/2F) ln(i_c / (i_c - i)), V (Haupin 1998); i/i_c clamped to 0.99 (the AE state takes over above)."""
    cdef double ratio = fmin(fmax(i / fmax(i_crit, 1e-9), 0.0), 0.99)
    return -R_OVER_2F * t_k * log(1.0 - ratio)


cdef inline double bath_ratio_c(double alf3, double al2o3, double caf2, double lif, double mgf2) noexcept nogil:
    """Weight ratio NaF/AlF3 of the bath from excess AlF3 and additives, wt %."""
    cdef double r = alf3 / (100.0 - (al2o3 + caf2 + lif + mgf2))
    return (1.0 - r) / (2.0 / 3.0 + r)


cdef inline double cathode_overvoltage_c(double t_k, double bath_ratio, double log_i_cath) noexcept nogil:
    """Cathode concentration overvoltage 5.744815e-5 T (1.375 - 0.25 BR) ln(3.891 i_c), V (Haupin 1998 eq.28)."""
    return 5.744815e-5 * t_k * (1.375 - 0.25 * bath_ratio) * (1.358765 + log_i_cath)   # ln(3.891)


cdef inline double bubble_thickness_c(double i) noexcept nogil:
    """Gas bubble layer thickness, cm (Haupin 1998 eq.30)."""
    return (0.5517 + i) / (1.0 + 2.167 * i)


cdef inline double bubble_coverage_c(double i, double bath_ratio, double al2o3, double ae_al2o3) noexcept nogil:
    """Fractional anode bubble coverage (Haupin 1998 eq.31), with delta >= 0.01 wt % and phi <= 0.9."""
    cdef double d = fmax(al2o3 - ae_al2o3, 0.01)
    cdef double phi = (0.509 + i * (0.1823 + i * (-0.1723 + i * 0.05504))
                       + (0.4322 - 0.3781 * bath_ratio) / (1.0 + 1.637 * bath_ratio)
                       + (0.431 - 0.1437 * d) / (1.0 + 7.353 * d))
    return fmin(fmax(phi, 0.0), 0.9)


cdef inline double pad_instability_c(double acd_m, double pad_acd_m, double length_m) noexcept nogil:
    """Metal-pad instability index, 1 at ``pad_acd_m``, growing e-fold per ``length_m`` of ACD lost.

    Smelter notes sec. 2.11 and 2.16 [M]: CE rises with ACD up to ~4-5 cm and then flattens; the
    voltage noise of the metal-bath interface (waves, MHD) rises as the ACD shrinks (Dyna/Marc keys its
    noise level to ACD). The exponential shape is our assumption [A]; onset and length are per design.
    """
    return exp((pad_acd_m - acd_m) / length_m)


cdef inline double back_reaction_density_c(double superheat, double alf3, double lif, double density_ref,
                                           double superheat_ref, double alf3_ref) noexcept nogil:
    """Metal lost to the back reaction as a current density on the metal-bath interface, A/cm2.

    Sterten-Solli model (Sterten & Solli, J. Appl. Electrochem. 26 (1996) 187; Solheim, Light Metals
    2014, 753-758): the loss is dissolved metal (Na, Al) carried across the cathode boundary layer and
    re-oxidised by CO2, a flux k c_metal per m2 of interface that does not depend on the current; CE
    falls linearly with the mass-transfer coefficient k (Solheim et al., Light Metals 2018). The
    dissolved metal's rise with superheat and its fall with excess AlF3 and LiF are Dewing's
    coefficients (Metall. Trans. B, doi 10.1007/BF02652482: log10 loss = 0.0095 SH - 0.019 AlF3
    - 0.060 LiF + const, plant data, superheat 0-30 K), applied to the flux. ``density_ref`` is
    the flux at (superheat_ref, alf3_ref, no LiF).
    """
    return density_ref * exp(2.302585093 * (0.0095 * (superheat - superheat_ref)
                                            - 0.019 * (alf3 - alf3_ref) - 0.060 * lif))


cdef inline double productive_current_c(double current, double loss_current, double pad_loss) noexcept nogil:
    """The part of a current that makes metal (A, or A/cm2 with densities): the current less the back
    reaction's loss current and the metal-pad instability's share of the current; the loss is taken at
    most half the current (a cell at very low current, where the flux law has no data, makes half its
    Faraday metal, and none at no current)."""
    return current - fmin(loss_current + pad_loss * current, 0.5 * current)


cdef inline double reaction_enthalpy_c(double t_k, double ce) noexcept nogil:
    """Enthalpy to make 1 kg Al at t_k from Al2O3 and C fed at 25 degC, J/kg Al.

    Per mol Al: 1/2 Al2O3 + 3/(4 CE) C -> Al(l) + 3/(4 CE) [x CO2 + (1-x) CO], x = 2 CE - 1
    (Pearson-Waddington). Standard enthalpies of formation at 298 K (NIST-JANAF): Al2O3 -1675.7,
    CO2 -393.5, CO -110.5 kJ/mol; product sensible heats H(T) - H(298) linearised around
    1200-1300 K from JANAF: Al(l) 40.1 kJ/mol at 1233 K (cp 31.75 J/mol/K), CO2 44.47 kJ/mol at
    1200 K (cp 56.2), CO 28.44 kJ/mol at 1200 K (cp 35.5). Gives 6.36 kWh/kg at CE 1, 960 degC
    (literature 6.34) and 6.43 kWh/kg at CE 0.95. Valid 1200-1300 K.
    """
    cdef double x = 2.0 * ce - 1.0
    cdef double n_gas = 0.75 / ce
    cdef double h_al = 40.1e3 + 31.75 * (t_k - 1233.15)
    cdef double h_co2 = 44.47e3 + 56.2 * (t_k - 1200.0)
    cdef double h_co = 28.44e3 + 35.5 * (t_k - 1200.0)
    cdef double dh = (0.5 * 1675.7e3 - n_gas * (x * 393.5e3 + (1.0 - x) * 110.5e3)
                      + h_al + n_gas * (x * h_co2 + (1.0 - x) * h_co))
    return dh / M_AL
