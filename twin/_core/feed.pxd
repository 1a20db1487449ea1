# cython: language_level=3
"""Alumina entering a cell: the shot split and the chemistry of its impurities (Na2O, CaO), shared by feeder,
quench and manual feeds."""
from twin._core.bath cimport (ALF3_PER_NA2O, CRYOLITE_PER_NA2O, ALUMINA_PER_NA2O, ALF3_PER_CAO, CAF2_PER_CAO,
                              ALUMINA_PER_CAO)
from twin._core.layout cimport *


cdef inline double impurities(const double[:, ::1] p, Py_ssize_t k) noexcept nogil:
    """kg of oxides other than Al2O3 (Na2O, CaO) per kg of alumina as fed: the share that is not a shot's
    own Al2O3."""
    return p[P_NA2O, k] + p[P_CAO, k]


cdef inline double alumina_formed(const double[:, ::1] p, Py_ssize_t k) noexcept nogil:
    """kg Al2O3 the neutralisation of those oxides forms in the bath per kg of alumina as fed."""
    return ALUMINA_PER_NA2O * p[P_NA2O, k] + ALUMINA_PER_CAO * p[P_CAO, k]


cdef inline void book_feed(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] ctr, Py_ssize_t k,
                           double fed) noexcept nogil:
    """The impurities of fed alumina neutralise AlF3: 3 Na2O + 4 AlF3 -> 2 Na3AlF6 + Al2O3 and
    3 CaO + 2 AlF3 -> 3 CaF2 + Al2O3 (the Al2O3 they form is booked with the shot); count the feed."""
    x[X_ALF3, k] -= (ALF3_PER_NA2O * p[P_NA2O, k] + ALF3_PER_CAO * p[P_CAO, k]) * fed
    x[X_CRYOLITE, k] += CRYOLITE_PER_NA2O * p[P_NA2O, k] * fed
    x[X_CAF2, k] += CAF2_PER_CAO * p[P_CAO, k] * fed
    ctr[C_ALUMINA_FED, k] += fed


cdef inline void add_alumina_now(double[:, ::1] x, const double[:, ::1] p, double[:, ::1] ctr, Py_ssize_t k,
                                 double mass) noexcept nogil:
    """``mass`` kg of alumina (as fed) into cell k at once: a fraction dissolves, the rest joins the
    undissolved pool; its impurities neutralise AlF3 and form alumina."""
    cdef double w = impurities(p, k)
    cdef double r = p[P_UNDISSOLVED_FRACTION, k]
    x[X_UNDISSOLVED, k] += r * (1.0 - w) * mass
    x[X_ALUMINA, k] += (1.0 - r) * (1.0 - w) * mass + alumina_formed(p, k) * mass
    book_feed(x, p, ctr, k, mass)
