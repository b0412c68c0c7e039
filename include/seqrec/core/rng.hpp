/// \file core/rng.hpp
/// Small counter-seeded RNG. Streams are derived from (seed, epoch, sequence index), never from the
/// thread, so results do not depend on the thread count (STYLE.md, Threads).
#pragma once

#include <cstdint>
#include <initializer_list>

namespace seqrec {

/// SplitMix64 step: a good 64-bit mixer, used to derive stream seeds.
inline std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/// xoshiro256** generator. Cheap to construct, so one per sequence is fine.
class Rng {
public:
    using result_type = std::uint64_t;
    /// A stream identified by any number of keys, e.g. Rng{seed, epoch, user}.
    Rng(std::initializer_list<std::uint64_t> keys) {
        std::uint64_t h = 0x6A09E667F3BCC909ULL;
        for (std::uint64_t k : keys) {
            h ^= k + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
            splitmix64(h);
        }
        for (auto& w : s_) w = splitmix64(h);
    }
    explicit Rng(std::uint64_t seed) : Rng({seed}) {}

    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type(0); }
    result_type operator()() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return double((*this)() >> 11) * 0x1.0p-53; }
    /// Uniform integer in [0, n) for 0 < n < 2^52 (53-bit uniform scaled; bias below 2^-40).
    std::uint64_t below(std::uint64_t n) {
        const auto r = std::uint64_t(uniform() * double(n));
        return r < n ? r : n - 1;
    }
    /// Standard normal (Box-Muller; one value per call keeps streams simple).
    double normal();

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

}  // namespace seqrec

#include <cmath>

inline double seqrec::Rng::normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}
