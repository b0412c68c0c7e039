/// \file support/contention_ceiling.hpp
/// What a second thread can give on this machine in this run, with nothing of seqrec's own
/// structure in the way: independent GEMMs of the training's shape (window x dim times
/// dim x window), handed to whichever thread is free. Timed at the current thread count and at 1,
/// alternating, as a speed-up of medians; `steps` > 1 cuts the same work into that many parallel
/// regions of `pieces` pieces each (an epoch's structure: one region per batch of 8 chunks), so
/// the cost of the step structure itself shows beside the free-flowing ceiling.
#pragma once

#include <seqrec/seqrec.hpp>
#include <vector>

#include "support/timer.hpp"

namespace seqrec::bench {

inline double contention_ceiling(int repeats, Index window, Index dim, long products, long steps,
                                 long pieces) {
    const int threads = max_threads();
    std::vector<Matrix<float>> a(std::size_t(threads), Matrix<float>::Random(window, dim)),
        b(std::size_t(threads), Matrix<float>::Random(dim, window)),
        c(std::size_t(threads), Matrix<float>::Zero(window, window));
    const long per_piece = std::max(1L, products / (steps * pieces));
    auto work = [&] {
        for (long s = 0; s < steps; ++s)
            parallel_for(std::ptrdiff_t(pieces), 1, [&](std::ptrdiff_t) {
                const auto t = std::size_t(thread_index());
                for (long k = 0; k < per_piece; ++k) gemm_assign(c[t], a[t], b[t]);
            });
    };
    const auto [many, one] = time_alternating(1, repeats, work, [&] {
        set_threads(1);
        work();
        set_threads(threads);
    });
    return median(one.seconds) / median(many.seconds);
}

}  // namespace seqrec::bench
