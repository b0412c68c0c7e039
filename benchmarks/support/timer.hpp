/// \file support/timer.hpp
/// Wall-clock timing and peak memory for the benchmark programs (no dependency beyond libc).
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>
#include <vector>

namespace seqrec::bench {

inline double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Minor page faults of this process so far (every thread): memory the kernel had to hand
/// (back) to the process. A steady state that reuses its memory adds almost none.
inline long minor_faults() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return long(u.ru_minflt);
}

/// Sorted durations (seconds) of the timed runs, and minor page faults per timed run.
struct Runs {
    std::vector<double> seconds;
    double faults_per_run = 0.0;
};

/// Runs f() `repeats` times after `warmup` runs.
template <typename F>
Runs time_runs(int warmup, int repeats, F&& f) {
    for (int i = 0; i < warmup; ++i) f();
    Runs r;
    const long faults0 = minor_faults();
    for (int i = 0; i < repeats; ++i) {
        const double t0 = now_seconds();
        f();
        r.seconds.push_back(now_seconds() - t0);
    }
    r.faults_per_run = double(minor_faults() - faults0) / double(std::max(repeats, 1));
    std::sort(r.seconds.begin(), r.seconds.end());
    return r;
}

/// Times f() and g() alternately (f, g, f, g, ...), so that drift on a shared machine hits both
/// alike; returns their runs.
template <typename F, typename G>
std::pair<Runs, Runs> time_alternating(int warmup, int repeats, F&& f, G&& g) {
    for (int i = 0; i < warmup; ++i) {
        f();
        g();
    }
    std::pair<Runs, Runs> out;
    long faults_f = 0, faults_g = 0;
    for (int i = 0; i < repeats; ++i) {
        long f0 = minor_faults();
        double t0 = now_seconds();
        f();
        out.first.seconds.push_back(now_seconds() - t0);
        faults_f += minor_faults() - f0;
        f0 = minor_faults();
        t0 = now_seconds();
        g();
        out.second.seconds.push_back(now_seconds() - t0);
        faults_g += minor_faults() - f0;
    }
    const double n = double(std::max(repeats, 1));
    out.first.faults_per_run = double(faults_f) / n;
    out.second.faults_per_run = double(faults_g) / n;
    std::sort(out.first.seconds.begin(), out.first.seconds.end());
    std::sort(out.second.seconds.begin(), out.second.seconds.end());
    return out;
}

inline double median(const std::vector<double>& sorted) { return sorted[sorted.size() / 2]; }

/// Peak resident set size of this process so far, in MiB.
inline double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;
}

/// Resident memory now (Linux: VmRSS of /proc/self/status), in KiB; 0 where unknown.
inline long resident_kib() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    long kib = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    std::fclose(f);
    return kib;
}

}  // namespace seqrec::bench
