// Contention for a benchmark (`--busy N`): N threads that spin from construction to destruction,
// standing in for another process that holds a core (a server's request threads, a second job).
#pragma once

#include <atomic>
#include <thread>
#include <vector>

namespace seqrec::bench {

class BusyThreads {
public:
    explicit BusyThreads(long n) {
        for (long i = 0; i < n; ++i)
            threads_.emplace_back([this] {
                volatile unsigned long spins = 0;  // real work the compiler cannot drop
                while (!stop_.load(std::memory_order_relaxed)) spins = spins + 1;
            });
    }
    ~BusyThreads() {
        stop_.store(true);
        for (auto& t : threads_) t.join();
    }
    BusyThreads(const BusyThreads&) = delete;
    BusyThreads& operator=(const BusyThreads&) = delete;

private:
    std::atomic<bool> stop_{false};
    std::vector<std::thread> threads_;
};

}  // namespace seqrec::bench
