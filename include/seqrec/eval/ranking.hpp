/// \file eval/ranking.hpp
/// Rank of the target among candidates with ties counted against it (MODELS.md 9.1, I15).
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "seqrec/core/types.hpp"
#include "seqrec/eval/metrics.hpp"

namespace seqrec {

/// Full ranking over items 1..N of `scores` (N+1, entry 0 ignored) minus `excluded` (the user's
/// history). Returns #{i != y : score_i >= score_y} or kMissRank when y is excluded (faithful to
/// the reference codes, MODELS.md I16) or its score is NaN. Modifies `scores` (excluded -> -inf).
template <typename Scores>
long full_rank(Scores&& scores, ItemId target, const std::vector<ItemId>& excluded) {
    using T = typename std::decay_t<Scores>::Scalar;
    for (ItemId i : excluded)
        if (i == target) return kMissRank;
    const T st = scores(target);
    if (std::isnan(st)) return kMissRank;
    for (ItemId i : excluded) scores(i) = -std::numeric_limits<T>::infinity();
    long rank = 0;
    const T* s = scores.data();  // contiguous: a vector, or a row of a row-major block
    for (Index i = 1; i < scores.size(); ++i) rank += s[i] >= st ? 1 : 0;
    return rank - 1;  // the target itself was counted
}

/// Rank among `candidates` (the target not included in the list).
template <typename Scores>
long sampled_rank(const Scores& scores, ItemId target, const std::vector<ItemId>& candidates) {
    const auto st = scores(target);
    if (std::isnan(st)) return kMissRank;
    long rank = 0;
    for (ItemId i : candidates) rank += scores(i) >= st ? 1 : 0;
    return rank;
}

}  // namespace seqrec
