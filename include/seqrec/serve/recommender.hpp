/// \file serve/recommender.hpp
/// Serving: a loaded, const model answers top-k requests (serve/request.hpp). Requests go in
/// blocks of kEvalBlock: each request's query row (the model's most recent slot, MODELS.md §9),
/// one GEMM of the block against the item table (kernels/item_scores.hpp), then each request's
/// own top-k. A request's scores are the same bits alone or inside a block, so one request and a
/// batch give the same answers. Const and thread-safe with one Workspace per calling thread;
/// after a workspace has been reserved, a call that writes into caller-owned responses whose
/// lists have held k items before allocates nothing.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/parallel.hpp"
#include "seqrec/data/id_map.hpp"
#include "seqrec/eval/evaluator.hpp"
#include "seqrec/kernels/item_scores.hpp"
#include "seqrec/serve/request.hpp"

namespace seqrec {

/// Scratch of one serving thread, behind the runtime boundary (runtime/model.hpp) where the
/// model type is not known; Recommender<M>::Workspace is the concrete one.
struct ServeWorkspace {
    virtual ~ServeWorkspace() = default;
};

template <typename Model>
class Recommender {
public:
    using T = typename Model::Scalar;
    /// Per-thread scratch; reuse across calls.
    struct Workspace final : ServeWorkspace {
        typename Model::Cache cache;
        Buffer<T> queries, scores;                 // a block's query rows and their scores
        std::vector<std::vector<ItemId>> windows;  // a block's known history ids
        std::vector<Index> order;                  // ranked item ids of one request
    };

    Recommender(const Model& model, const IdMap& items) : model_(model), items_(items) {}

    /// Sizes a workspace for a full block of full-length windows, so that no later request
    /// grows it (histories longer than `max_history` or the window still may, once).
    void reserve(Workspace& ws, std::size_t max_history = 0) const {
        const std::size_t n = std::size_t(model_.maxlen());
        if (ws.windows.size() < std::size_t(kEvalBlock)) ws.windows.resize(std::size_t(kEvalBlock));
        for (auto& w : ws.windows) w.reserve(std::max(n, max_history));
        ws.windows[0].assign(n, ItemId(1));
        ws.queries.setZero(padded_score_rows(kEvalBlock), model_.query_dim());
        model_.query(ws.windows[0], ws.queries.row(0), ws.cache);
        model_.score_queries(ws.queries, ws.scores, ws.cache);
        ws.windows[0].clear();
        ws.order.reserve(std::size_t(model_.num_items()));
    }

    /// Answers requests[0, count) into out[0, count) on the calling thread, one scoring GEMM per
    /// block of kEvalBlock requests.
    void answer(const RecommendRequest* requests, std::size_t count, RecommendResponse* out,
                Workspace& ws) const {
        for (std::size_t first = 0; first < count; first += std::size_t(kEvalBlock))
            answer_block(requests + first, std::min(count - first, std::size_t(kEvalBlock)),
                         out + first, ws);
    }

    /// One request.
    void recommend(const RecommendRequest& request, Workspace& ws, RecommendResponse& out) const {
        answer(&request, 1, &out, ws);
    }
    RecommendResponse recommend(const RecommendRequest& request, Workspace& ws) const {
        RecommendResponse out;
        answer(&request, 1, &out, ws);
        return out;
    }

    /// Many requests, in parallel over blocks, into `out` (resized; request order). `pool` holds
    /// one Workspace per thread and is grown as needed; reusing `out` and `pool` across calls
    /// makes a call allocation-free after warm-up.
    void recommend_many(const std::vector<RecommendRequest>& requests,
                        std::vector<RecommendResponse>& out, std::vector<Workspace>& pool) const {
        out.resize(requests.size());
        if (pool.size() < std::size_t(max_threads())) {
            const std::size_t old = pool.size();
            pool.resize(std::size_t(max_threads()));
            on_each_thread([&](int t) {  // on the thread that will use it
                if (std::size_t(t) >= old) reserve(pool[std::size_t(t)]);
            });
        }
        const auto n = std::ptrdiff_t(requests.size());
        parallel_for((n + kEvalBlock - 1) / kEvalBlock, 1, [&](std::ptrdiff_t b) {
            const std::size_t first = std::size_t(b * kEvalBlock);
            answer_block(requests.data() + first,
                         std::min(requests.size() - first, std::size_t(kEvalBlock)),
                         out.data() + first, pool[std::size_t(thread_index())]);
        });
    }
    std::vector<RecommendResponse> recommend_many(
        const std::vector<RecommendRequest>& requests) const {
        std::vector<RecommendResponse> out;
        std::vector<Workspace> pool;
        recommend_many(requests, out, pool);
        return out;
    }

private:
    void answer_block(const RecommendRequest* req, std::size_t count, RecommendResponse* out,
                      Workspace& ws) const {
        if (ws.windows.size() < count) ws.windows.resize(count);
        ws.queries.setZero(padded_score_rows(Index(count)), model_.query_dim());
        for (std::size_t j = 0; j < count; ++j) {
            const RecommendRequest& r = req[j];
            auto& ids = ws.windows[j];
            out[j].items.clear();
            out[j].unknown.clear();
            ids.clear();
            auto first = r.history.begin();
            if (r.max_history > 0 && Index(r.history.size()) > r.max_history)
                first = r.history.end() - std::ptrdiff_t(r.max_history);
            for (auto it = first; it != r.history.end(); ++it) {
                if (const ItemId id = items_.find(*it))
                    ids.push_back(id);
                else
                    out[j].unknown.push_back(*it);
            }
            for (const auto* list : {&r.exclude, &r.candidates})
                for (const std::int64_t e : *list)
                    if (!items_.find(e)) out[j].unknown.push_back(e);
            // A row with no known history stays 0 (finite); its scores are never read.
            if (!ids.empty()) model_.query(ids, ws.queries.row(Index(j)), ws.cache);
        }
        model_.score_queries(ws.queries, ws.scores, ws.cache);
        for (std::size_t j = 0; j < count; ++j) top_k(req[j], ws.windows[j], Index(j), ws, out[j]);
    }

    void top_k(const RecommendRequest& r, const std::vector<ItemId>& ids, Index row, Workspace& ws,
               RecommendResponse& out) const {
        if (ids.empty() || r.k <= 0) return;
        constexpr T kOut = -std::numeric_limits<T>::infinity();
        T* s = ws.scores.row(row).data();  // contiguous: a row of a row-major block
        if (r.exclude_history)
            for (const ItemId i : ids) s[i] = kOut;
        for (const std::int64_t e : r.exclude)
            if (const ItemId i = items_.find(e)) s[i] = kOut;
        ws.order.clear();
        if (r.candidates.empty()) {
            ws.order.resize(std::size_t(model_.num_items()));
            std::iota(ws.order.begin(), ws.order.end(), Index(1));
        } else {
            for (const std::int64_t e : r.candidates)
                if (const ItemId i = items_.find(e)) ws.order.push_back(i);
            std::sort(ws.order.begin(), ws.order.end());
            ws.order.erase(std::unique(ws.order.begin(), ws.order.end()), ws.order.end());
        }
        // NaN (a broken model) ranks as excluded, keeping the comparison a strict weak order.
        const auto key = [&](Index i) { return std::isnan(s[i]) ? kOut : s[i]; };
        const auto kk = std::min(std::size_t(r.k), ws.order.size());
        std::partial_sort(ws.order.begin(), ws.order.begin() + std::ptrdiff_t(kk), ws.order.end(),
                          [&](Index a, Index b) {
                              const T ka = key(a), kb = key(b);
                              return ka > kb || (ka == kb && a < b);
                          });
        for (std::size_t p = 0; p < kk; ++p) {
            const Index i = ws.order[p];
            if (key(i) == kOut) break;
            out.items.push_back({items_.external(ItemId(i)), double(s[i])});
        }
    }

    const Model& model_;
    const IdMap& items_;
};

}  // namespace seqrec
