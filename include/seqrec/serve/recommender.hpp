/// \file serve/recommender.hpp
/// Serving: a loaded, const model answers top-k requests (serve/request.hpp). Requests go in
/// blocks of kEvalBlock: each request's query row (the model's most recent slot, MODELS.md §9),
/// one GEMM of the block against the item table (kernels/item_scores.hpp), then each request's
/// own top-k. A catalogue larger than the item chunk (65,536, as evaluation's) is scored chunk by
/// chunk into a bounded heap of k per request, so memory stays kEvalBlock x chunk scores per
/// thread for a million items. A request's scores are the same bits alone or inside a block, and
/// chunked or not, so every path gives the same answers. Const and thread-safe with one Workspace
/// per calling thread; after a workspace has been reserved, a call with k and candidate lists of
/// at most kReservedTopK items, writing into caller-owned responses whose lists have held k items
/// before, allocates nothing (a longer list grows its slot once).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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
        std::vector<std::vector<Index>> allowed;   // a block's sorted candidate ids
        std::vector<std::vector<std::pair<T, Index>>> best;  // a block's top-k heaps
    };

    /// k and candidate-list lengths a reserved workspace serves without allocating.
    static constexpr Index kReservedTopK = 1024;

    Recommender(const Model& model, const IdMap& items) : model_(model), items_(items) {}

    /// Items scored at once (rounded up to whole score panels); tests set a small one.
    void set_item_chunk(Index chunk) {
        EvalOptions o;
        o.item_chunk = chunk;
        chunk_ = eval_item_chunk(o);
    }

    /// Sizes a workspace for a full block of full-length windows, so that no later request
    /// grows it (histories longer than `max_history` or the window still may, once).
    void reserve(Workspace& ws, std::size_t max_history = 0) const;

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
                      Workspace& ws) const;

    static void grow(Workspace& ws, std::size_t count) {
        if (ws.windows.size() >= count) return;
        ws.windows.resize(count);
        ws.allowed.resize(count);
        ws.best.resize(count);
    }

    /// Ranking order: higher score first, ties to the lower id; NaN (a broken model) ranks as
    /// excluded, which keeps it a strict weak order.
    static constexpr T kOut = -std::numeric_limits<T>::infinity();
    static bool better(const std::pair<T, Index>& a, const std::pair<T, Index>& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    }

    /// Empties the request's heap and, with candidates, sorts its allow-list.
    void start(const RecommendRequest& r, std::vector<Index>& allowed,
               std::vector<std::pair<T, Index>>& best) const {
        best.clear();
        if (best.capacity() < std::size_t(std::max<Index>(r.k, 0))) best.reserve(std::size_t(r.k));
        allowed.clear();
        for (const std::int64_t e : r.candidates)
            if (const ItemId i = items_.find(e)) allowed.push_back(i);
        std::sort(allowed.begin(), allowed.end());
        allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    }

    /// Offers the items lo+1 .. lo+width of row `row` (the block's scores) to the request's heap
    /// of its k best (the worst on top).
    void offer(const RecommendRequest& r, const std::vector<ItemId>& ids,
               const std::vector<Index>& allowed, Index row, Index lo, Index width, Workspace& ws,
               std::vector<std::pair<T, Index>>& best) const {
        if (ids.empty() || r.k <= 0) return;
        T* s = ws.scores.row(row).data();  // s[j]: item lo + j; contiguous (row-major block)
        const auto inside = [&](Index i) { return i > lo && i <= lo + width; };
        if (r.exclude_history)
            for (const ItemId i : ids)
                if (inside(i)) s[i - lo] = kOut;
        for (const std::int64_t e : r.exclude)
            if (const ItemId i = items_.find(e); i && inside(i)) s[i - lo] = kOut;
        const std::size_t k = std::size_t(r.k);
        auto push = [&](Index i) {
            const T v = std::isnan(s[i - lo]) ? kOut : s[i - lo];
            const std::pair<T, Index> x{v, i};
            if (best.size() < k) {
                best.push_back(x);
                std::push_heap(best.begin(), best.end(), better);
            } else if (better(x, best.front())) {
                std::pop_heap(best.begin(), best.end(), better);
                best.back() = x;
                std::push_heap(best.begin(), best.end(), better);
            }
        };
        if (r.candidates.empty()) {
            for (Index i = lo + 1; i <= lo + width; ++i) push(i);
            return;
        }
        auto it = std::lower_bound(allowed.begin(), allowed.end(), lo + 1);
        for (; it != allowed.end() && *it <= lo + width; ++it) push(*it);
    }

    /// The heap, best first, into the answer (excluded items are never returned).
    void finish(std::vector<std::pair<T, Index>>& best, RecommendResponse& out) const {
        std::sort_heap(best.begin(), best.end(), better);
        for (const auto& x : best) {
            if (x.first == kOut) break;
            out.items.push_back({items_.external(ItemId(x.second)), double(x.first)});
        }
    }

    const Model& model_;
    const IdMap& items_;
    Index chunk_ = eval_item_chunk(EvalOptions{});
};

// Defined outside the class (not inline) for SEQREC_SEPARATE_MODELS, as Trainer's passes are.
template <typename Model>
void Recommender<Model>::reserve(Workspace& ws, std::size_t max_history) const {
    const std::size_t n = std::size_t(model_.maxlen());
    grow(ws, std::size_t(kEvalBlock));
    for (auto& w : ws.windows) w.reserve(std::max(n, max_history));
    const auto lists = std::size_t(std::min(kReservedTopK, model_.num_items()));
    for (auto& b : ws.best) b.reserve(lists);
    for (auto& a : ws.allowed) a.reserve(lists);
    ws.windows[0].assign(n, ItemId(1));
    ws.queries.setZero(padded_score_rows(kEvalBlock), model_.query_dim());
    model_.query(ws.windows[0], ws.queries.row(0), ws.cache);
    model_.score_queries(ws.queries, 0, std::min(chunk_, model_.num_items()), ws.scores, ws.cache);
    ws.windows[0].clear();
}

template <typename Model>
void Recommender<Model>::answer_block(const RecommendRequest* req, std::size_t count,
                                      RecommendResponse* out, Workspace& ws) const {
    grow(ws, count);
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
    for (std::size_t j = 0; j < count; ++j) start(req[j], ws.allowed[j], ws.best[j]);
    const Index N = model_.num_items();
    for (Index lo = 0; lo < N; lo += chunk_) {
        const Index width = std::min(chunk_, N - lo);
        model_.score_queries(ws.queries, lo, width, ws.scores, ws.cache);
        for (std::size_t j = 0; j < count; ++j)
            offer(req[j], ws.windows[j], ws.allowed[j], Index(j), lo, width, ws, ws.best[j]);
    }
    for (std::size_t j = 0; j < count; ++j) finish(ws.best[j], out[j]);
}

}  // namespace seqrec

#ifdef SEQREC_SEPARATE_MODELS  // compiled once by the build's model sources (runtime/registry.hpp)
#include "seqrec/models/sasrec.hpp"
#include "seqrec/models/stosa.hpp"
namespace seqrec {
extern template class Recommender<SASRec<float>>;
extern template class Recommender<Stosa<float>>;
}  // namespace seqrec
#endif
