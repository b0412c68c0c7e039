/// \file serve/recommender.hpp
/// Serving: a loaded, const model answers top-k requests; many requests are answered in parallel,
/// each thread with its own Workspace (MODELS.md §9: inference uses the most recent slot).
/// After a warm-up call, a call that writes into caller-owned results allocates nothing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "seqrec/core/parallel.hpp"
#include "seqrec/data/id_map.hpp"

namespace seqrec {

/// One recommended item (external id) and its score.
struct Recommendation {
    std::int64_t item;
    double score;
};

template <typename Model>
class Recommender {
public:
    using T = typename Model::Scalar;
    /// Per-thread scratch; reuse across calls.
    struct Workspace {
        typename Model::Cache cache;
        Vector<T> scores;
        std::vector<Index> order;
        std::vector<ItemId> ids;
    };

    Recommender(const Model& model, const IdMap& items) : model_(model), items_(items) {}

    /// Sizes a workspace for the longest window (one dummy request), so that no later request
    /// grows it. Optional: a workspace also settles after serving one full-length history.
    void reserve(Workspace& ws, std::size_t max_history = 0) const {
        const std::size_t n = std::size_t(model_.maxlen());
        ws.ids.reserve(std::max(n, max_history));
        ws.ids.assign(n, ItemId(1));
        model_.score_next(ws.ids, ws.scores, ws.cache);
        ws.order.resize(std::size_t(model_.num_items()));
    }

    /// Top-k items after `history` (external ids, oldest first) into `out` (cleared first).
    /// Unknown ids are skipped; items in the history are not recommended when `exclude_history`.
    /// An empty (or all-unknown) history gives an empty list. Thread-safe with one Workspace per
    /// thread.
    void recommend(const std::vector<std::int64_t>& history, Index k, Workspace& ws,
                   std::vector<Recommendation>& out, bool exclude_history = true) const {
        out.clear();
        ws.ids.clear();
        for (auto e : history)
            if (const auto id = items_.find(e)) ws.ids.push_back(id);
        if (ws.ids.empty() || k <= 0) return;
        model_.score_next(ws.ids, ws.scores, ws.cache);
        if (exclude_history)
            for (ItemId i : ws.ids) ws.scores(i) = -std::numeric_limits<T>::infinity();
        const Index N = model_.num_items();
        ws.order.resize(std::size_t(N));
        std::iota(ws.order.begin(), ws.order.end(), Index(1));
        const auto kk = std::size_t(std::min<Index>(k, N));
        std::partial_sort(ws.order.begin(), ws.order.begin() + std::ptrdiff_t(kk), ws.order.end(),
                          [&](Index a, Index b) {
                              return ws.scores(a) > ws.scores(b) ||
                                     (ws.scores(a) == ws.scores(b) && a < b);
                          });
        for (std::size_t r = 0; r < kk; ++r) {
            const Index i = ws.order[r];
            if (ws.scores(i) == -std::numeric_limits<T>::infinity()) break;
            out.push_back({items_.external(ItemId(i)), double(ws.scores(i))});
        }
    }
    std::vector<Recommendation> recommend(const std::vector<std::int64_t>& history, Index k,
                                          Workspace& ws, bool exclude_history = true) const {
        std::vector<Recommendation> out;
        recommend(history, k, ws, out, exclude_history);
        return out;
    }

    /// Answers many requests at once, in parallel over requests, into `out` (one list per
    /// request, in request order). `pool` holds one Workspace per thread and is grown as needed;
    /// reusing `out` and `pool` across calls makes a call allocation-free after warm-up.
    void recommend_many(const std::vector<std::vector<std::int64_t>>& histories, Index k,
                        std::vector<std::vector<Recommendation>>& out, std::vector<Workspace>& pool,
                        bool exclude_history = true) const {
        out.resize(histories.size());
        if (pool.size() < std::size_t(max_threads())) {
            const std::size_t old = pool.size();
            pool.resize(std::size_t(max_threads()));
            on_each_thread([&](int t) {  // on the thread that will use it
                if (std::size_t(t) >= old) reserve(pool[std::size_t(t)]);
            });
        }
        parallel_for(std::ptrdiff_t(histories.size()), 8, [&](std::ptrdiff_t r) {
            recommend(histories[std::size_t(r)], k, pool[std::size_t(thread_index())],
                      out[std::size_t(r)], exclude_history);
        });
    }
    std::vector<std::vector<Recommendation>> recommend_many(
        const std::vector<std::vector<std::int64_t>>& histories, Index k,
        bool exclude_history = true) const {
        std::vector<std::vector<Recommendation>> out;
        std::vector<Workspace> pool;
        recommend_many(histories, k, out, pool, exclude_history);
        return out;
    }

private:
    const Model& model_;
    const IdMap& items_;
};

}  // namespace seqrec
