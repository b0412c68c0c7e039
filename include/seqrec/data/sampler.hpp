/// \file data/sampler.hpp
/// Training samples (MODELS.md 1.3): inputs = last n of T[:-1], targets = last n of T[1:], one
/// negative per target drawn uniformly from {1..N} minus the user's training items.
#pragma once

#include <algorithm>
#include <vector>

#include "seqrec/core/rng.hpp"
#include "seqrec/core/types.hpp"

namespace seqrec {

/// One training window (compact: no padding; every row has a target).
struct TrainSample {
    std::vector<ItemId> input, target, negative;
};

/// Fills input/target from a training sequence T (|T| >= 2).
inline void make_train_sample(const std::vector<ItemId>& T, Index maxlen, TrainSample& s) {
    const std::size_t m = T.size();
    const std::size_t L = std::min<std::size_t>(m - 1, std::size_t(maxlen));
    s.input.assign(T.end() - std::ptrdiff_t(L) - 1, T.end() - 1);
    s.target.assign(T.end() - std::ptrdiff_t(L), T.end());
}

/// Sorted unique items of `v` into `out`, for O(log) membership tests (reuses out's capacity).
inline void sorted_unique(const std::vector<ItemId>& v, std::vector<ItemId>& out) {
    out.assign(v.begin(), v.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
}
inline std::vector<ItemId> sorted_unique(const std::vector<ItemId>& v) {
    std::vector<ItemId> out;
    sorted_unique(v, out);
    return out;
}

/// The last `maxlen` items of a history (a model's inference window) into `out`, reusing its
/// capacity.
inline void clip_window(const std::vector<ItemId>& history, Index maxlen,
                        std::vector<ItemId>& out) {
    const std::size_t n = std::min(history.size(), std::size_t(maxlen));
    out.assign(history.end() - std::ptrdiff_t(n), history.end());
}

/// One negative per target from {1..N} \ exclude (sorted). If the user has seen (nearly) every
/// item, gives up after 256 rejections per draw and keeps the last draw.
inline void sample_negatives(const std::vector<ItemId>& exclude_sorted, Index num_items,
                             std::size_t count, std::vector<ItemId>& out, Rng& rng) {
    out.resize(count);
    for (auto& neg : out) {
        ItemId c = 0;
        for (int tries = 0; tries < 256; ++tries) {
            c = ItemId(1 + rng.below(std::uint64_t(num_items)));
            if (!std::binary_search(exclude_sorted.begin(), exclude_sorted.end(), c)) break;
        }
        neg = c;
    }
}

}  // namespace seqrec
