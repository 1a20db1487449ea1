# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Python-callable, numpy-vectorised faces of the correlations in ``bath.pxd`` and ``liquor.pxd``.

Each function broadcasts its arguments, loops in C and returns a float array (or a float for
scalar input). No second copy of any equation: documentation with sources and validity ranges
lives in ``twin.smelter.bath`` and ``twin.refinery.liquor``, which choose models and call these.
"""
import numpy as np

from twin._core.bath cimport (
    liquidus_c, alumina_saturation_c, log_conductivity_c, conductivity_hives1993_c, standard_potential_c,
    alumina_activity_c, reversible_potential_c, critical_current_density_c, anode_surface_overvoltage_c,
    anode_concentration_overvoltage_c, bath_ratio_c, cathode_overvoltage_c, bubble_thickness_c,
    bubble_coverage_c, back_reaction_density_c, productive_current_c, reaction_enthalpy_c, pad_instability_c,
)
from twin._core.liquor cimport (
    NA2O_PER_NA2CO3, NA2O_PER_SODA, RHParams, rh_solubility, misra_solubility, brahma_density, brahma_volume, langa_heat_capacity, dewey_bpr, worsley_bpr,
    veesler_boistelle_growth, white_growth, white_bateman_growth, organics_growth_factor, bound_soda,
    oxalate_solubility,
)
from libc.math cimport exp, log

# A correlation seen through one signature: it reads its arguments from v[0], v[1], ...
ctypedef double (*Correlation)(const double* v) noexcept nogil


cdef object vectorise(Correlation f, tuple args):
    """Broadcast ``args`` to one shape and evaluate ``f`` element by element in C."""
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype=np.float64) for v in args])
    shape = arrays[0].shape
    cdef double[:, ::1] cols = np.ascontiguousarray(np.stack([a.reshape(-1) for a in arrays], axis=1))
    cdef Py_ssize_t i, n = cols.shape[0]
    cdef double[::1] out = np.empty(n)
    with nogil:
        for i in range(n):
            out[i] = f(&cols[i, 0])
    result = np.asarray(out).reshape(shape)
    return float(result) if result.ndim == 0 else result


cdef double _liquidus(const double* v) noexcept nogil:
    return liquidus_c(v[0], v[1], v[2], v[3], v[4], v[5])

cdef double _alumina_saturation(const double* v) noexcept nogil:
    return alumina_saturation_c(v[0], v[1], v[2], v[3], v[4])

cdef double _conductivity(const double* v) noexcept nogil:
    return exp(log_conductivity_c(v[0], v[1], v[2], v[3], v[4], v[5], v[6]))

cdef double _conductivity_hives1993(const double* v) noexcept nogil:
    return conductivity_hives1993_c(v[0], v[1], v[2], v[3])

cdef double _standard_potential(const double* v) noexcept nogil:
    return standard_potential_c(v[0])

cdef double _alumina_activity(const double* v) noexcept nogil:
    return alumina_activity_c(v[0])

cdef double _reversible_potential(const double* v) noexcept nogil:
    return reversible_potential_c(v[0], v[1], v[2])

cdef double _critical_current_density(const double* v) noexcept nogil:
    return critical_current_density_c(v[0], v[1], v[2])

cdef double _anode_surface_overvoltage(const double* v) noexcept nogil:
    return anode_surface_overvoltage_c(v[0], log(v[1]), log(v[2]))

cdef double _anode_concentration_overvoltage(const double* v) noexcept nogil:
    return anode_concentration_overvoltage_c(v[0], v[1], v[2])

cdef double _bath_ratio(const double* v) noexcept nogil:
    return bath_ratio_c(v[0], v[1], v[2], v[3], v[4])

cdef double _cathode_overvoltage(const double* v) noexcept nogil:
    return cathode_overvoltage_c(v[0], v[1], log(v[2]))

cdef double _bubble_thickness(const double* v) noexcept nogil:
    return bubble_thickness_c(v[0])

cdef double _bubble_coverage(const double* v) noexcept nogil:
    return bubble_coverage_c(v[0], v[1], v[2], v[3])

cdef double _back_reaction_density(const double* v) noexcept nogil:
    return back_reaction_density_c(v[0], v[1], v[2], v[3], v[4], v[5])

cdef double _current_efficiency(const double* v) noexcept nogil:
    return productive_current_c(v[0], v[1], v[2]) / v[0] if v[0] > 0.0 else 0.5


cdef double _pad_instability(const double* v) noexcept nogil:
    return pad_instability_c(v[0], v[1], v[2])

cdef double _reaction_enthalpy(const double* v) noexcept nogil:
    return reaction_enthalpy_c(v[0], v[1])


def liquidus(alf3, caf2, al2o3, lif=0.0, mgf2=0.0, kf=0.0):
    return vectorise(_liquidus, (alf3, caf2, al2o3, lif, mgf2, kf))


def alumina_saturation(t_c, alf3, caf2=0.0, lif=0.0, mgf2=0.0):
    return vectorise(_alumina_saturation, (t_c, alf3, caf2, lif, mgf2))


def conductivity(t_k, al2o3, alf3, caf2=0.0, mgf2=0.0, kf=0.0, lif=0.0):
    return vectorise(_conductivity, (t_k, al2o3, alf3, caf2, mgf2, kf, lif))


def conductivity_hives1993(t_k, x_al2o3=0.0, x_caf2=0.0, x_mgf2=0.0):
    return vectorise(_conductivity_hives1993, (t_k, x_al2o3, x_caf2, x_mgf2))


def standard_potential(t_k):
    return vectorise(_standard_potential, (t_k,))


def alumina_activity(ros):
    return vectorise(_alumina_activity, (ros,))


def reversible_potential(t_k, al2o3, alumina_sat):
    return vectorise(_reversible_potential, (t_k, al2o3, alumina_sat))


def critical_current_density(t_k, al2o3, anode_area_cm2):
    return vectorise(_critical_current_density, (t_k, al2o3, anode_area_cm2))


def anode_surface_overvoltage(t_k, current_density, al2o3):
    return vectorise(_anode_surface_overvoltage, (t_k, current_density, al2o3))


def anode_concentration_overvoltage(t_k, current_density, critical_density):
    return vectorise(_anode_concentration_overvoltage, (t_k, current_density, critical_density))


def bath_ratio(alf3, al2o3=0.0, caf2=0.0, lif=0.0, mgf2=0.0):
    return vectorise(_bath_ratio, (alf3, al2o3, caf2, lif, mgf2))


def cathode_overvoltage(t_k, bath_ratio, cathode_current_density):
    return vectorise(_cathode_overvoltage, (t_k, bath_ratio, cathode_current_density))


def bubble_thickness(current_density):
    return vectorise(_bubble_thickness, (current_density,))


def bubble_coverage(current_density, bath_ratio, al2o3, ae_al2o3):
    return vectorise(_bubble_coverage, (current_density, bath_ratio, al2o3, ae_al2o3))


def back_reaction_density(superheat, alf3, lif, density_ref, superheat_ref, alf3_ref):
    return vectorise(_back_reaction_density, (superheat, alf3, lif, density_ref, superheat_ref, alf3_ref))


def current_efficiency(cathode_current_density, loss_density, pad_loss=0.0):
    return vectorise(_current_efficiency, (cathode_current_density, loss_density, pad_loss))


def pad_instability(acd_m, pad_acd_m=0.04, length_m=0.005):
    return vectorise(_pad_instability, (acd_m, pad_acd_m, length_m))


def reaction_enthalpy(t_k, current_efficiency):
    return vectorise(_reaction_enthalpy, (t_k, current_efficiency))


# ---------------------------------------------------------------------------------------------- Bayer liquor
NA2O_PER_SODA_CONVENTION = NA2O_PER_SODA     # g Na2O per g Na2CO3 eq, the kernels' value for Python
NA2O_PER_NA2CO3_EXACT = NA2O_PER_NA2CO3         # the exact molar-mass ratio the kernels move soda with


cdef double _rh_solubility(const double* v) noexcept nogil:
    # v: t_c, caustic, nacl, na2co3, na2so4, toc, k_nacl, k_na2co3, k_na2so4, k_toc, a0, a3, a4, dg, sign
    cdef RHParams q
    q.k_nacl, q.k_na2co3, q.k_na2so4, q.k_toc = v[6], v[7], v[8], v[9]
    q.a0, q.a3, q.a4, q.dg = v[10], v[11], v[12], v[13]
    return rh_solubility(&q, v[0] + 273.15, v[1], v[2], v[3], v[4], v[5], v[14])

cdef double _misra_solubility(const double* v) noexcept nogil:
    return misra_solubility(v[0] + 273.15, v[1])

cdef double _brahma_density(const double* v) noexcept nogil:
    return brahma_density(v[0], v[1], v[2], v[3], v[4], v[5], v[6])

cdef double _langa_heat_capacity(const double* v) noexcept nogil:
    return langa_heat_capacity(v[0], v[1], v[2])

cdef double _dewey_bpr(const double* v) noexcept nogil:
    return dewey_bpr(v[0], v[1] + 273.15)

cdef double _worsley_bpr(const double* v) noexcept nogil:
    return worsley_bpr(v[0], v[1])

cdef double _veesler_boistelle_growth(const double* v) noexcept nogil:
    return veesler_boistelle_growth(v[0] + 273.15, v[1], v[2])

cdef double _white_growth(const double* v) noexcept nogil:
    return white_growth(v[0] + 273.15, v[1], v[2], v[3], v[4])

cdef double _white_bateman_growth(const double* v) noexcept nogil:
    return white_bateman_growth(v[0] + 273.15, v[1], v[2])

cdef double _organics_growth_factor(const double* v) noexcept nogil:
    return organics_growth_factor(v[0])

cdef double _bound_soda(const double* v) noexcept nogil:
    return bound_soda(v[0], v[1], v[2], v[3], v[4], v[5])

cdef double _oxalate_solubility(const double* v) noexcept nogil:
    return oxalate_solubility(v[0], v[1], v[2])


def rh_solubility_(t_c, caustic, nacl, na2co3, na2so4, toc, k_nacl, k_na2co3, k_na2so4, k_toc, a0, a3, a4, dg,
                   sign):
    return vectorise(_rh_solubility, (t_c, caustic, nacl, na2co3, na2so4, toc, k_nacl, k_na2co3, k_na2so4,
                                      k_toc, a0, a3, a4, dg, sign))


def misra_solubility_(t_c, caustic):
    return vectorise(_misra_solubility, (t_c, caustic))


def brahma_density_(t_c, alumina, caustic, soda, so4, cl, toc):
    return vectorise(_brahma_density, (t_c, alumina, caustic, soda, so4, cl, toc))


def brahma_volume_(double t_c, double alumina_kg, double caustic_kg, double soda_kg, double total_kg):
    """Scalar: m3 of a liquor of total_kg with the given kg of Al2O3, caustic and total soda (as Na2CO3)."""
    return brahma_volume(t_c, alumina_kg, caustic_kg, soda_kg, total_kg)


def langa_heat_capacity_(t_c, alumina, soda):
    return vectorise(_langa_heat_capacity, (t_c, alumina, soda))


def dewey_bpr_(molality, t_c):
    return vectorise(_dewey_bpr, (molality, t_c))


def worsley_bpr_(molality, t_c):
    return vectorise(_worsley_bpr, (molality, t_c))


def veesler_boistelle_growth_(t_c, beta, beta_c):
    return vectorise(_veesler_boistelle_growth, (t_c, beta, beta_c))


def white_growth_(t_c, supersat_na2o, k, e_over_r, root):
    return vectorise(_white_growth, (t_c, supersat_na2o, k, e_over_r, root))


def white_bateman_growth_(t_c, supersat_na2o, caustic_na2o):
    return vectorise(_white_bateman_growth, (t_c, supersat_na2o, caustic_na2o))


def organics_growth_factor_(toc):
    return vectorise(_organics_growth_factor, (toc,))


def bound_soda_(k1, caustic, soda, t_c, toc, ac_supersaturation):
    return vectorise(_bound_soda, (k1, caustic, soda, t_c, toc, ac_supersaturation))


def oxalate_solubility_(t_c, caustic, na2co3):
    return vectorise(_oxalate_solubility, (t_c, caustic, na2co3))
