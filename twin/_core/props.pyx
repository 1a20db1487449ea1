# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Python-callable, numpy-vectorised faces of the correlations in ``bath.pxd`` (no second copy).

Each function broadcasts its arguments, loops in C and returns a float array (or a float for
scalar input). Documentation with sources and validity ranges lives in ``twin.smelter.bath``.
"""
import numpy as np

from twin._core.bath cimport (
    liquidus_c, alumina_saturation_c, log_conductivity_c, conductivity_hives1993_c, standard_potential_c,
    alumina_activity_c, reversible_potential_c, critical_current_density_c, anode_surface_overvoltage_c,
    anode_concentration_overvoltage_c, bath_ratio_c, cathode_overvoltage_c, bubble_thickness_c,
    bubble_coverage_c, current_efficiency_c, reaction_enthalpy_c,
)
from libc.math cimport exp, log


cdef object _columns(tuple args):
    """Broadcast the arguments to one shape; return (shape, contiguous float64 columns)."""
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype=np.float64) for v in args])
    shape = arrays[0].shape
    return shape, [np.ascontiguousarray(v).reshape(-1) for v in arrays]


cdef object _result(double[::1] out, shape):
    res = np.asarray(out).reshape(shape)
    return float(res) if res.ndim == 0 else res


def liquidus(alf3, caf2, al2o3, lif=0.0, mgf2=0.0, kf=0.0):
    shape, (a, b, c, d, e, f) = _columns((alf3, caf2, al2o3, lif, mgf2, kf))
    cdef double[::1] A = a, B = b, C = c, D = d, E = e, F = f
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = liquidus_c(A[i], B[i], C[i], D[i], E[i], F[i])
    return _result(out, shape)


def alumina_saturation(t_c, alf3, caf2=0.0, lif=0.0, mgf2=0.0):
    shape, (a, b, c, d, e) = _columns((t_c, alf3, caf2, lif, mgf2))
    cdef double[::1] A = a, B = b, C = c, D = d, E = e
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = alumina_saturation_c(A[i], B[i], C[i], D[i], E[i])
    return _result(out, shape)


def conductivity(t_k, al2o3, alf3, caf2=0.0, mgf2=0.0, kf=0.0, lif=0.0):
    shape, (a, b, c, d, e, f, g) = _columns((t_k, al2o3, alf3, caf2, mgf2, kf, lif))
    cdef double[::1] A = a, B = b, C = c, D = d, E = e, F = f, G = g
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = exp(log_conductivity_c(A[i], B[i], C[i], D[i], E[i], F[i], G[i]))
    return _result(out, shape)


def conductivity_hives1993(t_k, x_al2o3=0.0, x_caf2=0.0, x_mgf2=0.0):
    shape, (a, b, c, d) = _columns((t_k, x_al2o3, x_caf2, x_mgf2))
    cdef double[::1] A = a, B = b, C = c, D = d
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = conductivity_hives1993_c(A[i], B[i], C[i], D[i])
    return _result(out, shape)


def standard_potential(t_k):
    shape, (a,) = _columns((t_k,))
    cdef double[::1] A = a
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = standard_potential_c(A[i])
    return _result(out, shape)


def alumina_activity(ros):
    shape, (a,) = _columns((ros,))
    cdef double[::1] A = a
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = alumina_activity_c(A[i])
    return _result(out, shape)


def reversible_potential(t_k, al2o3, alumina_sat):
    shape, (a, b, c) = _columns((t_k, al2o3, alumina_sat))
    cdef double[::1] A = a, B = b, C = c
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = reversible_potential_c(A[i], B[i], C[i])
    return _result(out, shape)


def critical_current_density(t_k, al2o3, anode_area_cm2):
    shape, (a, b, c) = _columns((t_k, al2o3, anode_area_cm2))
    cdef double[::1] A = a, B = b, C = c
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = critical_current_density_c(A[i], B[i], C[i])
    return _result(out, shape)


def anode_surface_overvoltage(t_k, current_density, al2o3):
    shape, (a, b, c) = _columns((t_k, current_density, al2o3))
    cdef double[::1] A = a, B = b, C = c
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = anode_surface_overvoltage_c(A[i], log(B[i]), log(C[i]))
    return _result(out, shape)


def anode_concentration_overvoltage(t_k, current_density, critical_density):
    shape, (a, b, c) = _columns((t_k, current_density, critical_density))
    cdef double[::1] A = a, B = b, C = c
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = anode_concentration_overvoltage_c(A[i], B[i], C[i])
    return _result(out, shape)


def bath_ratio(alf3, al2o3=0.0, caf2=0.0, lif=0.0, mgf2=0.0):
    shape, (a, b, c, d, e) = _columns((alf3, al2o3, caf2, lif, mgf2))
    cdef double[::1] A = a, B = b, C = c, D = d, E = e
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = bath_ratio_c(A[i], B[i], C[i], D[i], E[i])
    return _result(out, shape)


def cathode_overvoltage(t_k, bath_ratio, cathode_current_density):
    shape, (a, b, c) = _columns((t_k, bath_ratio, cathode_current_density))
    cdef double[::1] A = a, B = b, C = c
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = cathode_overvoltage_c(A[i], B[i], log(C[i]))
    return _result(out, shape)


def bubble_thickness(current_density):
    shape, (a,) = _columns((current_density,))
    cdef double[::1] A = a
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = bubble_thickness_c(A[i])
    return _result(out, shape)


def bubble_coverage(current_density, bath_ratio, al2o3, ae_al2o3):
    shape, (a, b, c, d) = _columns((current_density, bath_ratio, al2o3, ae_al2o3))
    cdef double[::1] A = a, B = b, C = c, D = d
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = bubble_coverage_c(A[i], B[i], C[i], D[i])
    return _result(out, shape)


def current_efficiency(superheat, alf3, lif=0.0, ce_ref=0.95, superheat_ref=8.0, alf3_ref=11.5):
    shape, (a, b, c, d, e, f) = _columns((superheat, alf3, lif, ce_ref, superheat_ref, alf3_ref))
    cdef double[::1] A = a, B = b, C = c, D = d, E = e, F = f
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = current_efficiency_c(A[i], B[i], C[i], D[i], E[i], F[i])
    return _result(out, shape)


def reaction_enthalpy(t_k, current_efficiency):
    shape, (a, b) = _columns((t_k, current_efficiency))
    cdef double[::1] A = a, B = b
    cdef double[::1] out = np.empty(A.shape[0])
    cdef Py_ssize_t i
    for i in range(A.shape[0]):
        out[i] = reaction_enthalpy_c(A[i], B[i])
    return _result(out, shape)
