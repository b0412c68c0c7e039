/// \file models/stosa.hpp
/// STOSA: stochastic (mean + covariance) item embeddings, Wasserstein self-attention, items
/// ranked by negative Wasserstein distance, trained with BPR + pvn (MODELS.md §3). Optional AWRSR
/// refinement M1-M4 in every layer (§4). Forward and hand-written backward.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "seqrec/core/json_fields.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/core/param_arena.hpp"
#include "seqrec/data/sampler.hpp"
#include "seqrec/kernels/activations.hpp"
#include "seqrec/kernels/item_scores.hpp"
#include "seqrec/layers/stochastic_embedding.hpp"
#include "seqrec/layers/stochastic_transformer_block.hpp"

namespace seqrec {

/// Defaults: STOSA's Beauty README setting (MODELS.md §10).
struct StosaConfig {
    Index num_items = 0;
    Index maxlen = 100;
    Index dim = 64;
    Index layers = 1;
    Index heads = 4;
    double dropout = 0.3;       ///< hidden dropout
    double attn_dropout = 0.0;  ///< on the attention weights
    double ln_eps = 1e-12;
    double pvn_weight = 0.005;      ///< lambda_pvn
    bool mean_passthrough = false;  ///< true = the released code's behaviour (MODELS.md §3.2, I8)
    Refinement refine = Refinement::none;  ///< AWRSR M1-M4
    double refine_scale = 0.0;
    bool refine_identity_init = false;

    void check() const {
        SEQREC_CHECK(num_items >= 1, ConfigError, "num_items must be >= 1");
        SEQREC_CHECK(maxlen >= 1 && dim >= 1 && layers >= 1, ConfigError,
                     "maxlen, dim and layers must be >= 1");
        SEQREC_CHECK(
            maxlen <= kMaxWindow, ConfigError,
            "maxlen must be <= " + std::to_string(kMaxWindow) + ", got " + std::to_string(maxlen));
        SEQREC_CHECK(
            heads >= 1 && dim % heads == 0, ConfigError,
            "heads = " + std::to_string(heads) + " must divide dim = " + std::to_string(dim));
        SEQREC_CHECK(dropout >= 0.0 && dropout < 1.0 && attn_dropout >= 0.0 && attn_dropout < 1.0,
                     ConfigError, "dropout and attn_dropout must be in [0, 1)");
        SEQREC_CHECK(pvn_weight >= 0.0 && ln_eps > 0.0 && refine_scale >= 0.0, ConfigError,
                     "pvn_weight and refine_scale must be >= 0, ln_eps > 0");
    }
    std::string variant() const {
        std::string v = "stosa";
        if (refine != Refinement::none) v += std::string("+awr-") + to_string(refine);
        return v;
    }
    nlohmann::json to_json() const {
        return {{"num_items", num_items},
                {"maxlen", maxlen},
                {"dim", dim},
                {"layers", layers},
                {"heads", heads},
                {"dropout", dropout},
                {"attn_dropout", attn_dropout},
                {"ln_eps", ln_eps},
                {"pvn_weight", pvn_weight},
                {"mean_passthrough", mean_passthrough},
                {"variant", variant()},
                {"refine", to_string(refine)},
                {"refine_scale", refine_scale},
                {"refine_identity_init", refine_identity_init}};
    }
    static StosaConfig from_json(const nlohmann::json& j) {
        StosaConfig c;
        c.num_items = required_field<Index>(j, "num_items");
        c.maxlen = required_field<Index>(j, "maxlen");
        c.dim = required_field<Index>(j, "dim");
        c.layers = required_field<Index>(j, "layers");
        c.heads = required_field<Index>(j, "heads");
        c.dropout = required_field<double>(j, "dropout");
        c.attn_dropout = j.value("attn_dropout", 0.0);
        c.ln_eps = j.value("ln_eps", 1e-12);
        c.pvn_weight = j.value("pvn_weight", 0.005);
        c.mean_passthrough = j.value("mean_passthrough", false);
        c.refine = parse_refinement(j.value("refine", std::string("none")));
        c.refine_scale = j.value("refine_scale", 0.0);
        c.refine_identity_init = j.value("refine_identity_init", false);
        c.check();
        return c;
    }
};

template <typename T>
class Stosa {
public:
    using Mat = Matrix<T>;
    using Buf = Buffer<T>;
    using Scalar = T;
    struct Cache {
        typename StochasticEmbedding<T>::Cache emb;
        std::vector<Buf> mus, sigmas;  // layer inputs; [layers] = outputs
        std::vector<typename StochasticTransformerBlock<T>::Cache> blocks;
        Buf dmu1, dsigma1, dmu2, dsigma2;
        std::vector<ItemId> window;  // inference: the clipped history
        Buf queries, scores;         // score_next: a one-user block
        // Item-side scoring terms, computed once per (model, cache): sqrt(c_i) and
        // |m_i|^2 + sum c_i. A Cache is for one set of weights: use a fresh one (or call
        // invalidate()) after the weights change.
        const Stosa* items_of = nullptr;
        Buf item_side;  // [m_i, sqrt(c_i)] (N x 2d)
        Vector<T> item_norms;
        void invalidate() { items_of = nullptr; }
    };

    StosaConfig config;
    StochasticEmbedding<T> embedding;
    std::vector<StochasticTransformerBlock<T>> blocks;

    Stosa() = default;
    explicit Stosa(const StosaConfig& cfg)
        : config(cfg), embedding(cfg.num_items, cfg.maxlen, cfg.dim, cfg.dropout, cfg.ln_eps) {
        cfg.check();
        for (Index b = 0; b < cfg.layers; ++b) {
            blocks.emplace_back(cfg.dim, cfg.heads, cfg.dropout, cfg.attn_dropout, cfg.ln_eps,
                                cfg.mean_passthrough);
            blocks.back().attn.refine =
                AttentionRefinement<T>(cfg.refine, cfg.maxlen, cfg.refine_scale);
        }
        arena_.bind(*this);
    }
    Stosa(const Stosa& o) : config(o.config), embedding(o.embedding), blocks(o.blocks) {
        arena_.bind(*this);
    }
    Stosa(Stosa&&) noexcept = default;  // the arena's heap block moves with the views into it
    /// Copies weights in place when the layouts match (no allocation), else rebuilds.
    Stosa& operator=(const Stosa& o) {
        if (this == &o) return *this;
        if (!arena_.same_layout(o.arena_)) return *this = Stosa(o);
        config = o.config;
        arena_.copy_values(o.arena_);
        return *this;
    }
    Stosa& operator=(Stosa&&) noexcept = default;

    /// Every parameter in one vector (core/param_arena.hpp).
    ParamArena<T>& params() { return arena_; }
    const ParamArena<T>& params() const { return arena_; }

    static const char* kind() { return "stosa"; }
    Index num_items() const { return config.num_items; }
    Index maxlen() const { return config.maxlen; }

    /// N(0.01, 0.02^2) for every weight matrix and table [C-STOSA], zero biases, LN (1, 0);
    /// padding rows 0 [R].
    void init(Rng& rng) {
        for_each_param("", [&](const std::string&, Param<T>& m) {
            const ParamRole role = m.role();
            if (role == ParamRole::norm_gain) {
                m.setOnes();
            } else if (role == ParamRole::bias || role == ParamRole::norm_bias) {
                m.setZero();
            } else if (role == ParamRole::refinement && config.refine_identity_init) {
                m.setIdentity();
            } else {
                for (Index i = 0; i < m.size(); ++i) m.data()[i] = T(0.01 + 0.02 * rng.normal());
            }
        });
        embedding.E_mu.row(0).setZero();
        embedding.E_sigma.row(0).setZero();
    }
    Stosa zeros_like() const {
        Stosa g = *this;
        g.arena_.set_zero();
        return g;
    }

    /// Sequence Gaussians (mu, sigma) of packed compact windows (core/pack.hpp), each rows x d,
    /// kept in c.mus.back(), c.sigmas.back(). The row-wise layers run once over the pack,
    /// Wasserstein attention per window.
    void forward(const ItemId* ids, PackRows pack, Cache& c, Rng* rng) const {
        const std::size_t nl = blocks.size();
        c.mus.resize(nl + 1);
        c.sigmas.resize(nl + 1);
        c.blocks.resize(nl);
        embedding.forward(ids, pack, c.mus[0], c.sigmas[0], c.emb, rng);  // (3.1)-(3.2)
        for (std::size_t b = 0; b < nl; ++b)
            blocks[b].forward(c.mus[b], c.sigmas[b], pack, c.mus[b + 1], c.sigmas[b + 1],
                              c.blocks[b], rng);
    }
    /// One window: the pack of one.
    void forward(const std::vector<ItemId>& ids, Cache& c, Rng* rng) const {
        forward(ids.data(), OneWindow(Index(ids.size())), c, rng);
    }

    /// Backward from dL/dmu, dL/dsigma of the last layer (rows x d); ADDS into grad.
    void backward(const ConstRef<T>& dmu, const ConstRef<T>& dsigma, const ItemId* ids,
                  PackRows pack, Cache& c, Stosa& grad) const {
        const Index rows = dmu.rows(), d = dmu.cols();
        // Both halves of the swap pair get their size now: a chunk is often one pack, one call,
        // and the half that was swapped out empty would otherwise grow on the next step.
        c.dmu1.resize(rows, d);
        c.dsigma1.resize(rows, d);
        for (std::size_t b = blocks.size(); b-- > 0;) {
            c.dmu2.setZero(rows, d);
            c.dsigma2.setZero(rows, d);
            const bool last = b + 1 == blocks.size();
            blocks[b].backward(last ? dmu : ConstRef<T>(c.dmu1),
                               last ? dsigma : ConstRef<T>(c.dsigma1), c.mus[b], c.sigmas[b], pack,
                               c.blocks[b], grad.blocks[b], c.dmu2, c.dsigma2);
            std::swap(c.dmu1, c.dmu2);
            std::swap(c.dsigma1, c.dsigma2);
        }
        embedding.backward(c.dmu1, c.dsigma1, ids, pack, c.emb, grad.embedding);
    }
    void backward(const ConstRef<T>& dmu, const ConstRef<T>& dsigma, const std::vector<ItemId>& ids,
                  Cache& c, Stosa& grad) const {
        backward(dmu, dsigma, ids.data(), OneWindow(Index(ids.size())), c, grad);
    }

    /// Attention weights over the window of `history` (inference, no dropout), as
    /// SASRec::attention_maps: f(0, layer, head, A, R or nullptr).
    template <typename F>
    void attention_maps(const std::vector<ItemId>& history, Cache& c, F&& f) const {
        SEQREC_CHECK(!history.empty(), ShapeError, "attention_maps needs a non-empty history");
        clip_window(history, config.maxlen, c.window);
        forward(c.window, c, nullptr);
        for (std::size_t b = 0; b < blocks.size(); ++b) {
            const auto& w = c.blocks[b].attn.weights;  // may hold more: a pack's windows
            for (std::size_t h = 0; h < std::size_t(blocks[b].attn.heads); ++h)
                f(Index(0), Index(b), Index(h), w[h].probs,
                  blocks[b].attn.refine.enabled() ? &w[h].refined : nullptr);
        }
    }

    /// Batched scoring (eval/evaluator.hpp, serve/) of -W(t, i) (3.15) in the expanded form
    /// W = |mu|^2 + sum sigma + |m_i|^2 + sum c_i - 2 [mu, sqrt(sigma)] . [m_i, sqrt(c_i)]:
    /// a user's query row is [mu, sqrt(sigma), |mu|^2 + sum sigma] of the last slot, and a block
    /// of queries is scored with one GEMM against the cached item side.
    Index query_dim() const { return 2 * config.dim + 1; }
    template <typename Row>
    void query(const std::vector<ItemId>& history, Row&& q, Cache& c) const {
        SEQREC_CHECK(!history.empty(), ShapeError, "score_next needs a non-empty history");
        clip_window(history, config.maxlen, c.window);
        forward(c.window, c, nullptr);
        const Index d = config.dim, L = Index(c.window.size());
        const auto mu = c.mus.back().row(L - 1);
        const auto sigma = c.sigmas.back().row(L - 1);
        q.head(d) = mu;
        // Scalar sqrt: Eigen's fast packet sqrt (SSE builds) is not correctly rounded, and which
        // entries it covers depends on where the caller's row sits; a request would then score
        // differently alone than inside a batch.
        for (Index i = 0; i < d; ++i) q(d + i) = std::sqrt(sigma(i));
        q(2 * d) = mu.squaredNorm() + sigma.sum();
    }
    /// Q: padded_score_rows(B) x query_dim(); S: scores (Q.rows() x (N+1)), column 0 unused.
    /// The cache keeps the item-side terms of this model (see Cache).
    void score_queries(const ConstRef<T>& Q, Buf& S, Cache& c) const {
        score_queries(Q, 0, config.num_items, S, c);
    }
    /// Items lo+1 .. lo+width only: S (Q.rows() x (width+1)), column 0 unused (see SASRec).
    void score_queries(const ConstRef<T>& Q, Index lo, Index width, Buf& S, Cache& c) const {
        const Index N = config.num_items, d = config.dim;
        if (c.items_of != this) {
            const auto m = embedding.E_mu.bottomRows(N);
            c.item_side.resize(N, 2 * d);
            c.item_side.leftCols(d) = m;
            c.item_side.rightCols(d) =
                embedding.E_sigma.bottomRows(N).unaryExpr([](T e) { return elu(e) + T(1); });
            c.item_norms = m.rowwise().squaredNorm() + c.item_side.rightCols(d).rowwise().sum();
            c.item_side.rightCols(d) = c.item_side.rightCols(d).cwiseSqrt();
            c.items_of = this;
        }
        score_items<T>(Q.leftCols(2 * d), c.item_side.middleRows(lo, width), S);
        const auto norms = c.item_norms.segment(lo, width).transpose().array();
        for (Index r = 0; r < Q.rows(); ++r) {
            auto out = S.row(r).tail(width).array();
            out = T(2) * out - norms - Q(r, 2 * d);
        }
    }
    /// Scores -W(t, i) of every item after `history` (N+1; entry 0 unused): the same bits as
    /// the user's row of a batched block. Thread-safe with one Cache per thread.
    void score_next(const std::vector<ItemId>& history, Vector<T>& scores, Cache& c) const {
        c.queries.setZero(padded_score_rows(1), query_dim());
        query(history, c.queries.row(0), c);
        score_queries(c.queries, c.scores, c);
        scores = c.scores.row(0).transpose();
    }

    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        embedding.for_each_param(prefix + "embedding.", f);
        for (std::size_t b = 0; b < blocks.size(); ++b)
            blocks[b].for_each_param(prefix + "layer" + std::to_string(b) + ".", f);
    }

private:
    ParamArena<T> arena_;
};

}  // namespace seqrec
