/// \file kernels/relative_position.hpp
/// Gather / scatter between an (L x L) causal matrix and per-offset columns (L x (k_max + 1)),
/// with offset delta_tj = min(t - j, k_max) (MODELS.md 7.1, B.16-B.17).
#pragma once

#include <algorithm>

#include "seqrec/core/buffer.hpp"

namespace seqrec {

/// S(t, j) += scale * G(t, delta_tj) on the lower triangle.
template <typename SMat, typename GMat>
void add_relative_columns(SMat& S, const GMat& G, Index k_max, typename SMat::Scalar scale) {
    for (Index t = 0; t < S.rows(); ++t)
        for (Index j = 0; j <= t; ++j) S(t, j) += scale * G(t, std::min(t - j, k_max));
}

/// Omega(t, delta) = sum over j <= t with delta_tj = delta of A(t, j)  (offset-binned row sums).
template <typename AMat, typename T>
void bin_by_offset(const AMat& A, Index k_max, Buffer<T>& Omega) {
    const Index L = A.rows();
    Omega.setZero(L, k_max + 1);
    for (Index t = 0; t < L; ++t)
        for (Index j = 0; j <= t; ++j) Omega(t, std::min(t - j, k_max)) += A(t, j);
}

}  // namespace seqrec
