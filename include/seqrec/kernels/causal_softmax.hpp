/// \file kernels/causal_softmax.hpp
/// Row softmax restricted to the causal set (keys j <= t) of a compact window, and its backward
/// (MODELS.md 2.4, B.2). Windows are compact: every row is a real item (padding is never computed),
/// so the allowed set of row t is exactly {0..t}; the strict upper triangle is exactly 0.
#pragma once

#include <algorithm>
#include <cmath>

#include "seqrec/core/types.hpp"

namespace seqrec {

/// In place: on entry the lower triangle of S holds scores; on exit S holds probabilities, with
/// zeros above the diagonal. S is (L x L).
template <typename SMat>
void causal_softmax(SMat& S) {
    const Index L = S.rows();
    for (Index t = 0; t < L; ++t) {
        auto allowed = S.row(t).head(t + 1).array();  // vectorised exp (Eigen's pexp)
        allowed = (allowed - allowed.maxCoeff()).exp();
        allowed /= allowed.sum();
        S.row(t).tail(L - t - 1).setZero();
    }
}

/// In place: on entry dP holds dL/dP (lower triangle read), on exit dL/dS (B.2); upper set to 0.
template <typename PMat, typename GMat>
void causal_softmax_backward(const PMat& P, GMat& dP) {
    using T = typename GMat::Scalar;
    const Index L = P.rows();
    for (Index t = 0; t < L; ++t) {
        const T* p = P.row(t).data();
        T* g = dP.row(t).data();
        T dot = 0;
        for (Index j = 0; j <= t; ++j) dot += p[j] * g[j];
        for (Index j = 0; j <= t; ++j) g[j] = p[j] * (g[j] - dot);
        for (Index j = t + 1; j < L; ++j) g[j] = T(0);
    }
}

}  // namespace seqrec
