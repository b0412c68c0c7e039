/// \file eval/evaluator.hpp
/// Evaluates a model on the validation or test targets of a leave-one-out split (MODELS.md §9).
/// Users are scored in fixed blocks of kEvalBlock: each user's query row, then one GEMM of the
/// block against the item table (kernels/item_scores.hpp), then each user's rank.
/// A catalogue larger than EvalOptions::item_chunk is streamed in item chunks (rank_streamed).
/// A model here is anything with `Scalar`, `Cache`, `maxlen()`, `query_dim()` and const,
/// thread-safe `query(history, row, cache)` and `score_queries(Q, lo, width, S, cache)` (items
/// lo+1..lo+width; models/sasrec.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "seqrec/core/parallel.hpp"
#include "seqrec/core/process_group.hpp"
#include "seqrec/core/rng.hpp"
#include "seqrec/data/sampler.hpp"
#include "seqrec/data/split.hpp"
#include "seqrec/eval/ranking.hpp"
#include "seqrec/kernels/item_scores.hpp"

namespace seqrec {

struct EvalOptions {
    /// false: full ranking over all items (default). true: target + `negatives` uniform items not
    /// in the history (SASRec.pytorch protocol; optimistic, label it as "sampled").
    bool sampled = false;
    Index negatives = 100;
    std::uint64_t seed = 2024;  ///< sampled negatives and user subset; same for every model
    Index max_users = 0;        ///< 0 = every evaluated user; else a seeded random subset
    /// Items scored at a time (rounded up to a multiple of kScoreItemPanel). A larger catalogue
    /// is streamed through in chunks, so memory stays kEvalBlock x item_chunk scores per thread
    /// for any number of items; ranks and metrics are exactly those of the unchunked pass.
    Index item_chunk = 65536;
};
/// Items per GEMM register panel that every chunk boundary must respect: Eigen's kernel takes
/// the items in panels of 3 SIMD packets (48 floats with AVX-512, 24 with AVX, 12 with SSE or
/// NEON) and sums a narrower remainder panel in another order, so chunks that start at multiples
/// of 48 give every item the panel, and the bits, of the one-pass product.
inline constexpr Index kScoreItemPanel = 48;
/// opt.item_chunk rounded up to whole item panels (a multiple of kScoreItemPanel).
inline Index eval_item_chunk(const EvalOptions& opt) {
    const Index c = std::max<Index>(opt.item_chunk, 1);
    return (c + kScoreItemPanel - 1) / kScoreItemPanel * kScoreItemPanel;
}

/// Candidates for sampled evaluation: up to `count` distinct items outside history and target,
/// written into `out` (`chosen` is sorted scratch for distinctness; both keep their capacity).
inline void sample_eval_negatives(const std::vector<ItemId>& history_sorted, ItemId target,
                                  Index num_items, Index count, Rng& rng, std::vector<ItemId>& out,
                                  std::vector<ItemId>& chosen) {
    out.clear();
    chosen.clear();
    const Index available =
        num_items - Index(history_sorted.size()) -
        (std::binary_search(history_sorted.begin(), history_sorted.end(), target) ? 0 : 1);
    const Index want = std::min(count, std::max<Index>(available, 0));
    while (Index(out.size()) < want) {
        const auto c = ItemId(1 + rng.below(std::uint64_t(num_items)));
        if (c == target || std::binary_search(history_sorted.begin(), history_sorted.end(), c))
            continue;
        auto it = std::lower_bound(chosen.begin(), chosen.end(), c);
        if (it != chosen.end() && *it == c) continue;
        chosen.insert(it, c);
        out.push_back(c);
    }
}
inline std::vector<ItemId> sample_eval_negatives(const std::vector<ItemId>& history_sorted,
                                                 ItemId target, Index num_items, Index count,
                                                 Rng& rng) {
    std::vector<ItemId> out, chosen;
    sample_eval_negatives(history_sorted, target, num_items, count, rng, out, chosen);
    return out;
}

/// Users evaluated on this split (a target exists), optionally a seeded subset, into `users`.
inline void evaluation_users(const Split& split, const EvalOptions& opt,
                             std::vector<Index>& users) {
    users.clear();
    for (Index u = 0; u < split.num_users(); ++u)
        if (split.test[std::size_t(u)] != 0) users.push_back(u);
    if (opt.max_users > 0 && Index(users.size()) > opt.max_users) {
        Rng rng({opt.seed, 0xE5A1});
        for (std::size_t i = users.size() - 1; i > 0; --i)
            std::swap(users[i], users[rng.below(i + 1)]);
        users.resize(std::size_t(opt.max_users));
        std::sort(users.begin(), users.end());
    }
}
inline std::vector<Index> evaluation_users(const Split& split, const EvalOptions& opt) {
    std::vector<Index> users;
    evaluation_users(split, opt, users);
    return users;
}

/// Calls `cache.invalidate()` when the model's cache memoises weight-dependent terms (STOSA's
/// item side): a workspace kept across evaluations must not see the previous weights.
template <typename Cache>
auto invalidate_cache(Cache& c, int) -> decltype(c.invalidate(), void()) {
    c.invalidate();
}
template <typename Cache>
void invalidate_cache(Cache&, long) {}

/// Users per scoring block: one GEMM per block; fixed, so results do not depend on threads.
inline constexpr Index kEvalBlock = 64;

/// The ranks of a block of users whose query rows are in w.queries, streaming the catalogue
/// through in item chunks: a first pass scores the chunks that hold a target (for the target's
/// score), a second counts, chunk by chunk, the candidates scoring at least as high. Chunks start
/// at multiples of kScoreItemPanel, so every score has the bits of the unchunked block's and the
/// ranks equal full_rank's / sampled_rank's. The second pass starts with the chunk the first
/// left in the buffer, so a block's extra cost is the target chunks less one.
template <typename Model, typename PerThread>
void rank_streamed(const Model& model, const Split& split, bool test, const EvalOptions& opt,
                   const Index* users, Index count, PerThread& w, long* ranks) {
    const Index N = split.num_items, chunk = eval_item_chunk(opt);
    const Index chunks = (N + chunk - 1) / chunk;
    const auto target_of = [&](Index j) {
        const auto u = std::size_t(users[j]);
        return test ? split.test[u] : split.valid[u];
    };
    w.excluded.resize(std::size_t(kEvalBlock));
    w.target_score.assign(std::size_t(count), std::nan(""));
    w.count.assign(std::size_t(count), 0);
    w.target_chunks.clear();
    for (Index j = 0; j < count; ++j) {  // what each user's rank counts over
        auto& ex = w.excluded[std::size_t(j)];
        if (opt.sampled) {  // the candidates, as the unstreamed pass draws them
            sorted_unique(w.histories[std::size_t(j)], w.sorted);
            Rng rng({opt.seed, std::uint64_t(users[j]), test ? 1u : 0u});
            sample_eval_negatives(w.sorted, target_of(j), N, opt.negatives, rng, ex, w.chosen);
            std::sort(ex.begin(), ex.end());  // duplicates impossible: candidates are distinct
        } else {
            sorted_unique(w.histories[std::size_t(j)], ex);
        }
        w.target_chunks.push_back((Index(target_of(j)) - 1) / chunk);
    }
    std::sort(w.target_chunks.begin(), w.target_chunks.end());
    w.target_chunks.erase(std::unique(w.target_chunks.begin(), w.target_chunks.end()),
                          w.target_chunks.end());
    for (Index c : w.target_chunks) {  // pass 1: the targets' scores
        const Index lo = c * chunk, width = std::min(chunk, N - lo);
        model.score_queries(w.queries, lo, width, w.scores, w.cache);
        for (Index j = 0; j < count; ++j)
            if ((Index(target_of(j)) - 1) / chunk == c)
                w.target_score[std::size_t(j)] = double(w.scores(j, Index(target_of(j)) - lo));
    }
    const Index held = w.target_chunks.back();  // still in w.scores
    for (Index k = 0; k < chunks; ++k) {  // pass 2: count, chunk by chunk (integer sums: any order)
        const Index c = (held + k) % chunks;
        const Index lo = c * chunk, width = std::min(chunk, N - lo);
        if (k > 0) model.score_queries(w.queries, lo, width, w.scores, w.cache);
        for (Index j = 0; j < count; ++j) {
            const auto st = static_cast<typename Model::Scalar>(w.target_score[std::size_t(j)]);
            const auto& ex = w.excluded[std::size_t(j)];
            const auto s = w.scores.row(j);
            const auto first = std::lower_bound(ex.begin(), ex.end(), ItemId(lo + 1));
            const auto last = std::upper_bound(first, ex.end(), ItemId(lo + width));
            long& n = w.count[std::size_t(j)];
            if (opt.sampled) {  // candidates in this chunk at least as high
                for (auto it = first; it != last; ++it) n += s(Index(*it) - lo) >= st ? 1 : 0;
            } else {  // every item in the chunk at least as high; history items score -inf
                constexpr auto minus_inf = -std::numeric_limits<typename Model::Scalar>::infinity();
                for (Index i = 1; i <= width; ++i) n += s(i) >= st ? 1 : 0;
                for (auto it = first; it != last; ++it)
                    n += (minus_inf >= st ? 1 : 0) - (s(Index(*it) - lo) >= st ? 1 : 0);
            }
        }
    }
    for (Index j = 0; j < count; ++j) {
        const ItemId y = target_of(j);
        const auto& ex = w.excluded[std::size_t(j)];
        const bool in_history = !opt.sampled && std::binary_search(ex.begin(), ex.end(), y);
        if (in_history || std::isnan(w.target_score[std::size_t(j)]))
            ranks[j] = kMissRank;
        else  // full: the target counted itself
            ranks[j] = opt.sampled ? w.count[std::size_t(j)] : w.count[std::size_t(j)] - 1;
    }
}

/// Everything an evaluation pass needs, kept across passes (the trainer validates every epoch):
/// after the first pass over a split, a pass allocates nothing.
template <typename Model>
struct EvalWorkspace {
    using T = typename Model::Scalar;
    struct PerThread {
        typename Model::Cache cache;
        Buffer<T> queries, scores;  // a block's query rows and their scores
        std::vector<std::vector<ItemId>> histories;
        std::vector<ItemId> sorted, candidates, chosen;
        Index reserved_for = 0;  // window length the cache has been sized for
        // streamed catalogues: per user of the block
        std::vector<std::vector<ItemId>> excluded;  // sorted history, or sampled candidates
        std::vector<double> target_score;
        std::vector<long> count;
        std::vector<Index> target_chunks;
    };
    std::vector<PerThread> threads;
    std::vector<Index> users;
    std::vector<long> ranks;
    std::vector<std::int64_t> shared;  // sharded: every process's ranks, summed
    Metrics metrics;
};

/// Metrics over the validation (test = false) or test targets, into ws.metrics. Parallel over
/// fixed blocks of users; each user writes only its own rank and ranks are averaged in user
/// order, so the result does not depend on the thread count. With a `group` of processes, each
/// scores its own contiguous share of the blocks and the integer ranks are summed across them
/// (each user's slot is non-zero on exactly one process): the same metrics, exactly.
template <typename Model>
const Metrics& evaluate(const Model& model, const Split& split, bool test, const EvalOptions& opt,
                        EvalWorkspace<Model>& ws, ProcessGroup* group = nullptr) {
    evaluation_users(split, opt, ws.users);
    const bool sharded = group && group->world() > 1;
    ws.ranks.assign(ws.users.size(), sharded ? 0 : kMissRank);
    if (ws.threads.size() < std::size_t(max_threads()))
        ws.threads.resize(std::size_t(max_threads()));
    // Size every thread's buffers for the longest history and a full block up front: which
    // thread scores which block changes from pass to pass, and no pass after the first may grow
    // a buffer.
    std::size_t longest = 1;
    for (Index u : ws.users) longest = std::max(longest, split.train[std::size_t(u)].size() + 1);
    for (auto& t : ws.threads) invalidate_cache(t.cache, 0);
    const Index rows = padded_score_rows(kEvalBlock);
    on_each_thread([&](int tid) {  // on the thread that will use it (packing memory is per thread)
        auto& t = ws.threads[std::size_t(tid)];
        t.histories.resize(std::size_t(kEvalBlock));
        for (auto& h : t.histories) h.reserve(longest);
        if (opt.sampled) {
            t.sorted.reserve(longest);
            t.candidates.reserve(std::size_t(opt.negatives));
            t.chosen.reserve(std::size_t(opt.negatives));
        }
        if (t.reserved_for < model.maxlen()) {
            t.histories[0].assign(std::size_t(model.maxlen()), ItemId(1));
            t.queries.setZero(rows, model.query_dim());
            model.query(t.histories[0], t.queries.row(0), t.cache);
            model.score_queries(t.queries, 0, std::min(split.num_items, eval_item_chunk(opt)),
                                t.scores, t.cache);
            t.reserved_for = model.maxlen();
        }
    });
    const auto num_users = std::ptrdiff_t(ws.users.size());
    const std::ptrdiff_t blocks = (num_users + kEvalBlock - 1) / kEvalBlock;
    const auto mine = sharded ? owned_range(Index(blocks), group->rank(), group->world())
                              : std::pair<Index, Index>(0, Index(blocks));
    parallel_for(std::ptrdiff_t(mine.second - mine.first), 1, [&](std::ptrdiff_t i) {
        const std::ptrdiff_t b = std::ptrdiff_t(mine.first) + i;
        auto& w = ws.threads[std::size_t(thread_index())];
        const std::ptrdiff_t first = b * kEvalBlock;
        const Index count = Index(std::min<std::ptrdiff_t>(kEvalBlock, num_users - first));
        w.queries.setZero(padded_score_rows(count), model.query_dim());
        for (Index j = 0; j < count; ++j) {
            const Index u = ws.users[std::size_t(first + j)];
            const auto& train = split.train[std::size_t(u)];
            auto& history = w.histories[std::size_t(j)];
            history.assign(train.begin(), train.end());
            if (test) history.push_back(split.valid[std::size_t(u)]);
            model.query(history, w.queries.row(j), w.cache);
        }
        if (split.num_items > eval_item_chunk(opt)) {
            rank_streamed(model, split, test, opt, ws.users.data() + first, count, w,
                          ws.ranks.data() + first);
            return;
        }
        model.score_queries(w.queries, 0, split.num_items, w.scores, w.cache);
        for (Index j = 0; j < count; ++j) {
            const Index u = ws.users[std::size_t(first + j)];
            const auto& history = w.histories[std::size_t(j)];
            const ItemId target = test ? split.test[std::size_t(u)] : split.valid[std::size_t(u)];
            auto scores = w.scores.row(j);
            long& rank = ws.ranks[std::size_t(first + j)];
            if (opt.sampled) {
                sorted_unique(history, w.sorted);
                Rng rng({opt.seed, std::uint64_t(u), test ? 1u : 0u});
                sample_eval_negatives(w.sorted, target, split.num_items, opt.negatives, rng,
                                      w.candidates, w.chosen);
                rank = sampled_rank(scores, target, w.candidates);
            } else {
                rank = full_rank(scores, target, history);
            }
        }
    });
    if (sharded) {
        ws.shared.assign(ws.ranks.begin(), ws.ranks.end());
        group->sum(ws.shared.data(), Index(ws.shared.size()));
        ws.ranks.assign(ws.shared.begin(), ws.shared.end());
    }
    metrics_from_ranks(ws.ranks, ws.metrics);
    return ws.metrics;
}

/// One-off evaluation with its own workspace.
template <typename Model>
Metrics evaluate(const Model& model, const Split& split, bool test, const EvalOptions& opt = {},
                 ProcessGroup* group = nullptr) {
    EvalWorkspace<Model> ws;
    return evaluate(model, split, test, opt, ws, group);
}

}  // namespace seqrec

#ifdef SEQREC_SEPARATE_MODELS  // compiled once by the build's model sources (runtime/registry.hpp)
#include "seqrec/models/sasrec.hpp"
#include "seqrec/models/stosa.hpp"
namespace seqrec {
extern template const Metrics& evaluate(const SASRec<float>&, const Split&, bool,
                                        const EvalOptions&, EvalWorkspace<SASRec<float>>&,
                                        ProcessGroup*);
extern template Metrics evaluate(const SASRec<float>&, const Split&, bool, const EvalOptions&,
                                 ProcessGroup*);
extern template const Metrics& evaluate(const Stosa<float>&, const Split&, bool, const EvalOptions&,
                                        EvalWorkspace<Stosa<float>>&, ProcessGroup*);
extern template Metrics evaluate(const Stosa<float>&, const Split&, bool, const EvalOptions&,
                                 ProcessGroup*);
}  // namespace seqrec
#endif
