/// \file kernels/item_scores.hpp
/// Scores of every item for a block of users: S = [0 | Q I^T] (rows x (N+1), column 0 = padding).
/// Always Eigen's GEMM kernel, also for one user, on a row count rounded up to a multiple of
/// kScoreRowAlign (the kernel's panel width; a narrower remainder panel sums in another order):
/// a user's scores are then the same bits whether computed alone (a request) or inside a block
/// (evaluation, batched serving), and a block of users reads the item table once, not per user.
#pragma once

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/error.hpp"
#include "seqrec/kernels/gemm.hpp"

namespace seqrec {

inline constexpr Index kScoreRowAlign = 4;

/// Rows of the score block for B users.
inline Index padded_score_rows(Index B) {
    return (B + kScoreRowAlign - 1) / kScoreRowAlign * kScoreRowAlign;
}

/// Q: padded_score_rows(B) x k queries (rows past B are padding the caller keeps finite, e.g. 0);
/// items (N x k) the item side of the score. S is resized to Q.rows() x (N+1).
template <typename T>
void score_items(const ConstRef<T>& Q, const ConstRef<T>& items, Buffer<T>& S) {
    SEQREC_CHECK(Q.rows() % kScoreRowAlign == 0, ShapeError,
                 "score_items: the query block must have a multiple of kScoreRowAlign rows");
    const Index N = items.rows();
    S.resize(Q.rows(), N + 1);
    S.col(0).setZero();
    auto out = S.rightCols(N);
    out.setZero();
    detail::gemm_scale_add(out, Q, items.transpose(), T(1));
}

}  // namespace seqrec
