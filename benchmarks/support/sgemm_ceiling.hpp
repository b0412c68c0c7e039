/// \file support/sgemm_ceiling.hpp
/// The machine's fp32 GEMM ceiling as the library can use it, measured in the same run: every
/// thread multiplies its own 2048 x 2048 matrices with a single-threaded Eigen GEMM (how seqrec
/// threads its products; design/PERF-NOTES.md §1, §4), best of `repeats`.
#pragma once

#include <seqrec/seqrec.hpp>
#include <vector>

#include "support/timer.hpp"

namespace seqrec::bench {

inline double sgemm_ceiling_gflops(int repeats = 3, Index n = 2048) {
    const int threads = max_threads();
    std::vector<Matrix<float>> a(std::size_t(threads), Matrix<float>::Random(n, n)),
        b(std::size_t(threads), Matrix<float>::Random(n, n)),
        c(std::size_t(threads), Matrix<float>::Zero(n, n));
    double best = 0.0;
    for (int r = 0; r < repeats; ++r) {
        const double t0 = now_seconds();
        parallel_for(std::ptrdiff_t(threads), 1, [&](std::ptrdiff_t t) {
            gemm_assign(c[std::size_t(t)], a[std::size_t(t)], b[std::size_t(t)]);
        });
        const double s = now_seconds() - t0;
        best = std::max(best, double(threads) * 2.0 * double(n) * double(n) * double(n) / s / 1e9);
    }
    return best;
}

}  // namespace seqrec::bench
