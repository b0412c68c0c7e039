/// \file core/parallel.hpp
/// OpenMP helpers that also compile without OpenMP. One level of parallelism: over sequences.
#pragma once

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

/// Sets the thread count for seqrec's regions (n <= 0 keeps the OpenMP default).
inline void set_threads(int n) {
#ifdef _OPENMP
    if (n > 0) omp_set_num_threads(n);
#else
    (void)n;
#endif
}

}  // namespace seqrec
