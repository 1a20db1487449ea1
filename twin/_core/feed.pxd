# cython: language_level=3
"""Alumina entering a cell: the shot split and the Na2O chemistry, shared by feeder, quench and manual feeds."""
from twin._core.bath cimport ALF3_PER_NA2O, CRYOLITE_PER_NA2O, ALUMINA_PER_NA2O
from twin._core.layout cimport *


cdef inline void book_feed(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] ctr, Py_ssize_t k,
                           double fed) noexcept nogil:
    """Na2O of fed alumina neutralises AlF3 (3 Na2O + 4 AlF3 -> 2 Na3AlF6 + Al2O3); count the feed."""
    x[X_ALF3, k] -= ALF3_PER_NA2O * p[P_NA2O, k] * fed
    x[X_CRYOLITE, k] += CRYOLITE_PER_NA2O * p[P_NA2O, k] * fed
    ctr[C_ALUMINA_FED, k] += fed


cdef inline void add_alumina_now(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] ctr, Py_ssize_t k,
                                 double mass) noexcept nogil:
    """``mass`` kg of alumina (as fed) into cell k at once: a fraction dissolves, the rest joins the
    undissolved pool; its Na2O neutralises AlF3 and forms alumina."""
    cdef double w = p[P_NA2O, k]
    cdef double r = p[P_UNDISSOLVED_FRACTION, k]
    x[X_UNDISSOLVED, k] += r * (1.0 - w) * mass
    x[X_ALUMINA, k] += (1.0 - r) * (1.0 - w) * mass + ALUMINA_PER_NA2O * w * mass
    book_feed(x, p, ctr, k, mass)
