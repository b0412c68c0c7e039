/// \file eval/evaluator.hpp
/// Evaluates a model on the validation or test targets of a leave-one-out split (MODELS.md §9).
/// A model here is anything with `Scalar`, `Cache` and a const, thread-safe
/// `score_next(history, scores, cache)` filling scores for items 0..N (entry 0 unused).
#pragma once

#include <algorithm>
#include <limits>
#include <vector>

#include "seqrec/core/parallel.hpp"
#include "seqrec/core/rng.hpp"
#include "seqrec/data/sampler.hpp"
#include "seqrec/data/split.hpp"
#include "seqrec/eval/ranking.hpp"

namespace seqrec {

struct EvalOptions {
    /// false: full ranking over all items (default). true: target + `negatives` uniform items not
    /// in the history (SASRec.pytorch protocol; optimistic, label it as "sampled").
    bool sampled = false;
    Index negatives = 100;
    std::uint64_t seed = 2024;  ///< sampled negatives and user subset; same for every model
    Index max_users = 0;        ///< 0 = every evaluated user; else a seeded random subset
};

/// Candidates for sampled evaluation: up to `count` distinct items outside history and target.
inline std::vector<ItemId> sample_eval_negatives(const std::vector<ItemId>& history_sorted,
                                                 ItemId target, Index num_items, Index count,
                                                 Rng& rng) {
    std::vector<ItemId> out;
    const Index available =
        num_items - Index(history_sorted.size()) -
        (std::binary_search(history_sorted.begin(), history_sorted.end(), target) ? 0 : 1);
    const Index want = std::min(count, std::max<Index>(available, 0));
    std::vector<ItemId> chosen;  // sorted, for distinctness
    while (Index(out.size()) < want) {
        const auto c = ItemId(1 + rng.below(std::uint64_t(num_items)));
        if (c == target || std::binary_search(history_sorted.begin(), history_sorted.end(), c))
            continue;
        auto it = std::lower_bound(chosen.begin(), chosen.end(), c);
        if (it != chosen.end() && *it == c) continue;
        chosen.insert(it, c);
        out.push_back(c);
    }
    return out;
}

/// Users evaluated on this split (a target exists), optionally a seeded subset.
inline std::vector<Index> evaluation_users(const Split& split, const EvalOptions& opt) {
    std::vector<Index> users;
    for (Index u = 0; u < split.num_users(); ++u)
        if (split.test[std::size_t(u)] != 0) users.push_back(u);
    if (opt.max_users > 0 && Index(users.size()) > opt.max_users) {
        Rng rng({opt.seed, 0xE5A1});
        for (std::size_t i = users.size() - 1; i > 0; --i)
            std::swap(users[i], users[rng.below(i + 1)]);
        users.resize(std::size_t(opt.max_users));
        std::sort(users.begin(), users.end());
    }
    return users;
}

/// Metrics over the validation (test = false) or test targets. Parallel over users; each user
/// writes only its own rank and ranks are averaged in user order, so the result does not depend on
/// the thread count.
template <typename Model>
Metrics evaluate(const Model& model, const Split& split, bool test, const EvalOptions& opt = {}) {
    using T = typename Model::Scalar;
    const std::vector<Index> users = evaluation_users(split, opt);
    std::vector<long> ranks(users.size(), kMissRank);
#pragma omp parallel
    {
        typename Model::Cache cache;
        Vector<T> scores;
#pragma omp for schedule(dynamic, 16)
        for (std::ptrdiff_t k = 0; k < std::ptrdiff_t(users.size()); ++k) {
            const Index u = users[std::size_t(k)];
            const std::vector<ItemId> history = split.history(u, test);
            const ItemId target = test ? split.test[std::size_t(u)] : split.valid[std::size_t(u)];
            model.score_next(history, scores, cache);
            if (opt.sampled) {
                const auto hs = sorted_unique(history);
                Rng rng({opt.seed, std::uint64_t(u), test ? 1u : 0u});
                const auto cand =
                    sample_eval_negatives(hs, target, split.num_items, opt.negatives, rng);
                ranks[std::size_t(k)] = sampled_rank(scores, target, cand);
            } else {
                ranks[std::size_t(k)] = full_rank(scores, target, history);
            }
        }
    }
    return metrics_from_ranks(ranks);
}

}  // namespace seqrec
