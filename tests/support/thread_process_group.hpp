// A ProcessGroup whose "processes" are threads of this test: the data-parallel paths of the
// trainer and the evaluator run, and are checked, without MPI (and under the sanitizers).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <seqrec/core/process_group.hpp>
#include <thread>
#include <vector>

namespace seqrec::test {

class ThreadWorld {
public:
    explicit ThreadWorld(int world)
        : world_(world), bytes_(std::size_t(world)), ints_(std::size_t(world)) {}
    int world() const { return world_; }

    void barrier() {
        std::unique_lock<std::mutex> lock(m_);
        const long gen = generation_;
        if (++arrived_ == world_) {
            arrived_ = 0;
            ++generation_;
            cv_.notify_all();
        } else {
            cv_.wait(lock, [&] { return generation_ != gen; });
        }
    }
    std::vector<std::vector<char>>& bytes() { return bytes_; }
    std::vector<std::vector<std::int64_t>>& ints() { return ints_; }

    /// Runs body(group) on `world` threads, one group member each, and waits for them.
    template <typename F>
    static void run(int world, F&& body);

private:
    int world_;
    std::mutex m_;
    std::condition_variable cv_;
    int arrived_ = 0;
    long generation_ = 0;
    std::vector<std::vector<char>> bytes_;
    std::vector<std::vector<std::int64_t>> ints_;
};

class ThreadProcessGroup final : public ProcessGroup {
public:
    ThreadProcessGroup(ThreadWorld& w, int rank) : w_(w), rank_(rank) {}
    int rank() const override { return rank_; }
    int world() const override { return w_.world(); }
    void all_gather(const std::vector<char>& mine, std::vector<char>& all,
                    std::vector<std::size_t>& offsets) override {
        w_.bytes()[std::size_t(rank_)] = mine;
        w_.barrier();
        all.clear();
        offsets.assign(1, 0);
        for (const auto& b : w_.bytes()) {
            all.insert(all.end(), b.begin(), b.end());
            offsets.push_back(all.size());
        }
        w_.barrier();  // nobody writes again before everyone has read
    }
    void sum(std::int64_t* v, Index n) override {
        w_.ints()[std::size_t(rank_)].assign(v, v + n);
        w_.barrier();
        for (Index i = 0; i < n; ++i) {
            std::int64_t s = 0;
            for (const auto& x : w_.ints()) s += x[std::size_t(i)];
            v[i] = s;
        }
        w_.barrier();
    }

private:
    ThreadWorld& w_;
    int rank_;
};

template <typename F>
void ThreadWorld::run(int world, F&& body) {
    ThreadWorld w(world);
    std::vector<std::thread> threads;
    for (int r = 0; r < world; ++r)
        threads.emplace_back([&w, &body, r] {
            ThreadProcessGroup g(w, r);
            body(g);
        });
    for (auto& t : threads) t.join();
}

}  // namespace seqrec::test
