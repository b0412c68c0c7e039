/// \file support/timer.hpp
/// Wall-clock timing and peak memory for the benchmark programs (no dependency beyond libc).
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace seqrec::bench {

inline double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Runs f() `repeats` times after `warmup` runs; returns the sorted durations (seconds).
template <typename F>
std::vector<double> time_runs(int warmup, int repeats, F&& f) {
    for (int i = 0; i < warmup; ++i) f();
    std::vector<double> out;
    for (int i = 0; i < repeats; ++i) {
        const double t0 = now_seconds();
        f();
        out.push_back(now_seconds() - t0);
    }
    std::sort(out.begin(), out.end());
    return out;
}

inline double median(const std::vector<double>& sorted) { return sorted[sorted.size() / 2]; }

/// Peak resident set size of this process so far, in MiB.
inline double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;
}

}  // namespace seqrec::bench
