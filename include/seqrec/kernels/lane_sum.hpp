/// \file kernels/lane_sum.hpp
/// The sum of a short row (d 50-64 in LayerNorm, up to n in the softmax backward) in fixed lanes.
#pragma once

#include "seqrec/core/types.hpp"

namespace seqrec {

/// sum of f(0) .. f(n-1): 16 lanes over whole groups of 16, added pairwise, then the rest in
/// order. The compiler keeps the lanes in SIMD registers (a plain loop would be one dependent
/// chain of adds), and the order, so the bits, does not depend on where the row starts in
/// memory: Eigen's reductions peel to an aligned address with scalar adds, which on rows this
/// short was a large share of LayerNorm's time.
template <typename T, typename F>
T lane_sum(Index n, F&& f) {
    constexpr Index kLanes = 16;  // the fold below is written out for 16
    T lane[kLanes] = {};
    Index j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (Index k = 0; k < kLanes; ++k) lane[k] += f(j + k);
    static_assert(kLanes == 16, "the fold names 8 half-lanes");
    T half[kLanes / 2];  // fixed indices from here on, so the lanes stay in registers
    for (Index k = 0; k < kLanes / 2; ++k) half[k] = lane[k] + lane[k + kLanes / 2];
    const T sum =
        ((half[0] + half[4]) + (half[2] + half[6])) + ((half[1] + half[5]) + (half[3] + half[7]));
    T rest = 0;
    for (; j < n; ++j) rest += f(j);
    return sum + rest;
}

}  // namespace seqrec
