/// \file data/synthetic.hpp
/// Built-in synthetic dataset with real sequential structure: items are split into topics, each
/// topic is a sparse Markov chain (every item has a few preferred successors), and each user walks
/// one topic's chain with occasional random jumps. Order matters, so a sequential model beats
/// popularity by a wide margin; used as the default dataset of the CLI and by the tests.
#pragma once

#include <algorithm>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/rng.hpp"
#include "seqrec/data/dataset.hpp"

namespace seqrec {

struct SyntheticOptions {
    Index users = 2000;
    Index items = 400;
    Index topics = 8;      ///< Markov chains; items are split evenly among them
    Index successors = 3;  ///< preferred next items per item
    double follow = 0.85;  ///< probability of taking a preferred successor
    Index min_len = 8, max_len = 40;
    std::uint64_t seed = 1;

    void check() const {
        SEQREC_CHECK(users >= 1 && topics >= 1 && items >= 2 * topics, ConfigError,
                     "synthetic: need users >= 1, topics >= 1 and items >= 2 * topics");
        SEQREC_CHECK(min_len >= 1 && max_len >= min_len, ConfigError,
                     "synthetic: need 1 <= min_len <= max_len");
        SEQREC_CHECK(successors >= 1 && follow >= 0.0 && follow <= 1.0, ConfigError,
                     "synthetic: need successors >= 1 and follow in [0, 1]");
    }
};

/// Deterministic in `o.seed`. Items do not repeat within a user (like the Amazon sets).
inline Dataset synthetic_dataset(const SyntheticOptions& o = {}) {
    o.check();
    Rng rng({o.seed, 0x5EED});
    const Index per_topic = o.items / o.topics;
    // succ[i] = preferred successors of item i (0-based), inside i's topic.
    std::vector<std::vector<Index>> succ(std::size_t(o.items));
    for (Index i = 0; i < o.items; ++i) {
        const Index topic = std::min(i / per_topic, o.topics - 1);
        const Index lo = topic * per_topic;
        const Index hi = topic == o.topics - 1 ? o.items : lo + per_topic;
        for (Index k = 0; k < o.successors; ++k)
            succ[std::size_t(i)].push_back(lo + Index(rng.below(std::uint64_t(hi - lo))));
    }
    Dataset ds;
    ds.name = "synthetic";
    for (Index i = 1; i <= o.items; ++i) ds.items.add(i);
    ds.sequences.resize(std::size_t(o.users));
    std::vector<char> seen(std::size_t(o.items));
    for (Index u = 0; u < o.users; ++u) {
        ds.users.add(u + 1);
        const Index topic = Index(rng.below(std::uint64_t(o.topics)));
        const Index lo = topic * per_topic;
        const Index hi = topic == o.topics - 1 ? o.items : lo + per_topic;
        const Index len = std::min(
            hi - lo, o.min_len + Index(rng.below(std::uint64_t(o.max_len - o.min_len + 1))));
        auto& seq = ds.sequences[std::size_t(u)];
        Index cur = lo + Index(rng.below(std::uint64_t(hi - lo)));
        for (Index t = 0; t < len; ++t) {
            seen[std::size_t(cur)] = 1;
            seq.push_back(ItemId(cur + 1));
            Index next = -1;
            if (rng.uniform() < o.follow) {
                // Preferred successors in order of preference (geometric-like weights).
                for (Index k = 0; k < o.successors && next < 0; ++k) {
                    const Index c = succ[std::size_t(cur)][std::size_t(k)];
                    if (!seen[std::size_t(c)] && (k + 1 == o.successors || rng.uniform() < 0.6))
                        next = c;
                }
            }
            for (int tries = 0; next < 0 && tries < 64; ++tries) {
                const Index c = lo + Index(rng.below(std::uint64_t(hi - lo)));
                if (!seen[std::size_t(c)]) next = c;
            }
            if (next < 0) break;
            cur = next;
        }
        for (ItemId i : seq) seen[std::size_t(i - 1)] = 0;  // this user's marks only: O(len)
    }
    return ds;
}

}  // namespace seqrec
