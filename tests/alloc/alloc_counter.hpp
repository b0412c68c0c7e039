// Counts heap allocations by interposing glibc's malloc family in this test binary only (the
// library never does this). Eigen allocates through std::malloc and libstdc++'s operator new
// calls malloc, so every heap allocation passes here. Not built with sanitizers (they interpose
// malloc themselves). SEQREC_ALLOC_TRACE=1 prints a backtrace for each counted allocation.
#pragma once

#include <atomic>

namespace seqrec::test {

/// Allocations counted since the last `start_counting()`, while counting is on.
struct AllocCounter {
    static std::atomic<bool>& on() {
        static std::atomic<bool> flag{false};
        return flag;
    }
    static std::atomic<long>& count() {
        static std::atomic<long> n{0};
        return n;
    }
};

/// Counts the heap allocations made while `f` runs (on any thread).
template <typename F>
long count_allocations(F&& f) {
    AllocCounter::count() = 0;
    AllocCounter::on() = true;
    f();
    AllocCounter::on() = false;
    return AllocCounter::count().load();
}

}  // namespace seqrec::test
