/// \file core/parallel.hpp
/// OpenMP helpers that also compile without OpenMP. One level of parallelism: over sequences.
#pragma once

#include <cstddef>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace seqrec {

/// Number of threads a parallel region will use.
inline int max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/// Index of the calling thread in the current parallel region (0 outside one).
inline int thread_index() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/// Runs body(i) for i in 0..n-1, handing out blocks of `grain` indices to the threads as they
/// become free. With one thread (or n <= grain) it is a plain loop and never enters a parallel
/// region: libgomp allocates a fresh team for every region that runs on one thread, which would
/// put a heap allocation into every call on a steady-state path.
template <typename F>
void parallel_for(std::ptrdiff_t n, std::ptrdiff_t grain, F&& body) {
#ifdef _OPENMP
    if (max_threads() > 1 && n > grain) {
#pragma omp parallel for schedule(dynamic, grain)
        for (std::ptrdiff_t i = 0; i < n; ++i) body(i);
        return;
    }
#endif
    for (std::ptrdiff_t i = 0; i < n; ++i) body(i);
}

/// Element-wise loop over a large array, handed out in blocks of `min_parallel / 4` elements to
/// whichever thread is free: a thread that shares its core with another process takes fewer
/// blocks instead of holding up the rest (each element's result never depends on who ran it).
/// Small arrays (below `min_parallel`) run serially (see parallel_for).
template <typename F>
void parallel_elementwise(std::ptrdiff_t n, std::ptrdiff_t min_parallel, F&& body) {
#ifdef _OPENMP
    if (max_threads() > 1 && n >= min_parallel) {
        const std::ptrdiff_t block = min_parallel / 4 > 0 ? min_parallel / 4 : 1;
#pragma omp parallel for schedule(dynamic, block)
        for (std::ptrdiff_t i = 0; i < n; ++i) body(i);
        return;
    }
#endif
    for (std::ptrdiff_t i = 0; i < n; ++i) body(i);
}

/// Calls f(t) once on each thread t of a parallel region (f(0) alone with one thread). Used to
/// size per-thread memory on the thread that will use it: a thread keeps its OpenMP index from
/// one region to the next while the thread count stays the same.
template <typename F>
void on_each_thread(F&& f) {
#ifdef _OPENMP
    if (max_threads() > 1) {
#pragma omp parallel
        f(thread_index());
        return;
    }
#endif
    f(0);
}

/// Sets the thread count for seqrec's regions (n <= 0 keeps the OpenMP default).
inline void set_threads(int n) {
#ifdef _OPENMP
    if (n > 0) omp_set_num_threads(n);
#else
    (void)n;
#endif
}

}  // namespace seqrec
