/// \file kernels/causal_softmax.hpp
/// Row softmax restricted to the causal set (keys j <= t) of a compact window, and its backward
/// (MODELS.md 2.4, B.2). Windows are compact: every row is a real item (padding is never computed),
/// so the allowed set of row t is exactly {0..t}; the strict upper triangle is exactly 0.
#pragma once

#include <algorithm>
#include <cmath>

#include "seqrec/core/types.hpp"
#include "seqrec/kernels/lane_sum.hpp"

namespace seqrec {

/// In place: on entry the lower triangle of S holds scores; on exit S holds probabilities, with
/// zeros above the diagonal. S is (L x L).
///
/// The exponentials run on an aligned stack copy of the row, rounded up to whole SIMD packets:
/// a row of S starts anywhere, and Eigen would peel the unaligned head and the tail with scalar
/// expf calls (about a quarter of the softmax time at n 200). Rows longer than the copy are
/// done in pieces.
template <typename SMat>
void causal_softmax(SMat& S) {
    using T = typename SMat::Scalar;
    static_assert(bool(SMat::IsRowMajor), "rows must be contiguous");
    using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
    constexpr Index kPiece = 256;  // a multiple of every packet size
    constexpr Index kPacket = 64 / Index(sizeof(T));
    alignas(64) T piece[kPiece];
    const Index L = S.rows();
    for (Index t = 0; t < L; ++t) {
        T* row = S.row(t).data();
        const Index n = t + 1;
        const T max = Eigen::Map<const Array>(row, n).maxCoeff();
        T sum = 0;
        for (Index lo = 0; lo < n; lo += kPiece) {
            const Index len = std::min(kPiece, n - lo);
            const Index whole = std::min(kPiece, (len + kPacket - 1) / kPacket * kPacket);
            std::copy(row + lo, row + lo + len, piece);
            std::fill(piece + len, piece + whole, max);  // exp(0) = 1: finite, never read
            Eigen::Map<Array, Eigen::Aligned64> p(piece, whole);
            p = (p - max).exp();  // vectorised exp (Eigen's pexp), whole packets only
            sum += Eigen::Map<const Array, Eigen::Aligned64>(piece, len).sum();
            std::copy(piece, piece + len, row + lo);
        }
        Eigen::Map<Array>(row, n) /= sum;
        std::fill(row + n, row + L, T(0));
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
        const T dot = lane_sum<T>(t + 1, [&](Index j) { return p[j] * g[j]; });
        for (Index j = 0; j <= t; ++j) g[j] = p[j] * (g[j] - dot);
        for (Index j = t + 1; j < L; ++j) g[j] = T(0);
    }
}

}  // namespace seqrec
