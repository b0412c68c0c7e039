/// \file support/useful_flops.hpp
/// The FLOPs the benchmarks count as useful work: real rows only, the causal half of attention.
#pragma once

namespace seqrec::bench {

/// Forward FLOPs of one compact window of L items through `blocks` SASRec blocks (multiply-add
/// = 2); backward is counted as twice this.
inline double forward_flops(double L, double d, double blocks) {
    const double linear = 5 * 2 * L * d * d;               // Q, K, V, W1, W2
    const double attention = 2 * 2 * L * (L + 1) / 2 * d;  // QK^T and AV, lower triangle
    return blocks * (linear + attention);
}

}  // namespace seqrec::bench
