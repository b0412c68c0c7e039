/// \file models/sasrec.hpp
/// SASRec: causal self-attention over the item sequence, tied input/output item embeddings
/// (MODELS.md §2). Forward and hand-written backward, float for training, double for checks.
/// The same class runs the two SASRec-family variants, selected by the config:
///  - MQSA (§5): a second, L-query tower; scores combine the towers with alpha (5.4);
///  - RPESA (§7): relative-position-aware attention in every block (7.1)-(7.3).
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/json_fields.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/core/param_arena.hpp"
#include "seqrec/data/sampler.hpp"
#include "seqrec/kernels/item_scores.hpp"
#include "seqrec/layers/embedding.hpp"
#include "seqrec/layers/encoder.hpp"

namespace seqrec {

/// Hyper-parameters of SASRec. Defaults: SASRec's Amazon setting (MODELS.md §10).
struct SASRecConfig {
    Index num_items = 0;   ///< N, items are 1..N (set from the data)
    Index maxlen = 50;     ///< n, window length
    Index dim = 50;        ///< d, hidden size
    Index blocks = 2;      ///< number of transformer blocks
    Index heads = 1;       ///< h, must divide d
    double dropout = 0.2;  ///< on embeddings, attention weights and FFN, in [0, 1)
    Activation activation = Activation::relu;
    double ln_eps = 1e-8;
    bool multi_query = false;  ///< MQSA: add the long (L-query) tower
    Index query_window = 3;    ///< MQSA's L for the long tower, >= 1
    double alpha = 0.5;        ///< MQSA: weight of the short tower in (5.4), in [0, 1]
    AttentionKind attention = AttentionKind::dot;  ///< score policy; relative = RPESA (7.2)
    Index max_rel = -1;        ///< RPESA's k_max (>= 0 with attention = relative), -1 = off
    bool rel_in_value = true;  ///< RPESA: relative vectors in values too (rpa_in_value)
    bool abs_pos = true;       ///< absolute positional embedding P (rpa_abs_pos)
    Refinement refine = Refinement::none;  ///< AWRSR mechanism (M1-M3 on SASRec, MODELS.md §4)
    double refine_scale = 0.0;             ///< c of (4.4); 0 = 1/sqrt(n) [I2]
    bool refine_identity_init = false;     ///< awr_init = identity [I5]

    /// "sasrec", "mqsa", "rpesa" (both: "mqsa+rpesa"); "+alibi" with ALiBi scores;
    /// "+awr-<mechanism>" with a refinement.
    std::string variant() const {
        const bool rel = attention == AttentionKind::relative;
        std::string v = "sasrec";
        if (multi_query && rel)
            v = "mqsa+rpesa";
        else if (multi_query)
            v = "mqsa";
        else if (rel)
            v = "rpesa";
        if (attention == AttentionKind::alibi) v += "+alibi";
        if (refine != Refinement::none) v += std::string("+awr-") + to_string(refine);
        return v;
    }

    /// One tower of blocks: its query window and its weight in the mixed output (5.4).
    struct Tower {
        Index query_window = 1;
        double weight = 1.0;
    };
    /// SASRec, RPESA: one tower; MQSA: the short (L = 1) and long (L-query) towers, alpha and
    /// 1 - alpha (MODELS.md 5.2-5.4).
    std::vector<Tower> towers() const {
        if (!multi_query) return {{1, 1.0}};
        return {{1, tower_weight(0)}, {query_window, tower_weight(1)}};
    }
    /// towers()[i].weight, without building the list.
    double tower_weight(std::size_t i) const {
        return !multi_query ? 1.0 : i == 0 ? alpha : 1.0 - alpha;
    }
    /// The configuration of every block of a tower.
    BlockConfig block_config(const Tower& t) const {
        BlockConfig b;
        b.dim = dim;
        b.heads = heads;
        b.maxlen = maxlen;
        b.dropout = dropout;
        b.activation = activation;
        b.ln_eps = ln_eps;
        b.query_window = t.query_window;
        b.attention = {attention, max_rel, rel_in_value};
        b.refine = refine;
        b.refine_scale = refine_scale;
        return b;
    }

    /// Throws ConfigError naming the field and the rule.
    void check() const {
        SEQREC_CHECK(num_items >= 1, ConfigError, "num_items must be >= 1");
        SEQREC_CHECK(maxlen >= 1 && maxlen <= kMaxWindow, ConfigError,
                     "maxlen must be in [1, " + std::to_string(kMaxWindow) + "], got " +
                         std::to_string(maxlen));
        SEQREC_CHECK(dim >= 1, ConfigError, "dim must be >= 1, got " + std::to_string(dim));
        SEQREC_CHECK(blocks >= 1, ConfigError,
                     "blocks must be >= 1, got " + std::to_string(blocks));
        SEQREC_CHECK(
            heads >= 1 && dim % heads == 0, ConfigError,
            "heads = " + std::to_string(heads) + " must divide dim = " + std::to_string(dim));
        SEQREC_CHECK(dropout >= 0.0 && dropout < 1.0, ConfigError,
                     "dropout must be in [0, 1), got " + std::to_string(dropout));
        SEQREC_CHECK(ln_eps > 0.0, ConfigError, "ln_eps must be > 0");
        SEQREC_CHECK(query_window >= 1, ConfigError,
                     "query_window (L) must be >= 1, got " + std::to_string(query_window));
        SEQREC_CHECK(alpha >= 0.0 && alpha <= 1.0, ConfigError,
                     "alpha must be in [0, 1], got " + std::to_string(alpha));
        SEQREC_CHECK(max_rel >= -1, ConfigError, "max_rel must be >= 0, or -1 for off");
        SEQREC_CHECK((attention == AttentionKind::relative) == (max_rel >= 0), ConfigError,
                     attention == AttentionKind::relative
                         ? "attention = relative needs max_rel >= 0 (k_max)"
                         : "max_rel = " + std::to_string(max_rel) +
                               " needs attention = relative (max_rel -1 turns it off)");
        SEQREC_CHECK(refine != Refinement::stochastic, ConfigError,
                     "refine = stochastic (M4) needs a STOSA host (MODELS.md 4.2)");
        SEQREC_CHECK(refine_scale >= 0.0, ConfigError, "refine_scale must be >= 0");
    }
    nlohmann::json to_json() const {
        return {{"num_items", num_items},
                {"maxlen", maxlen},
                {"dim", dim},
                {"blocks", blocks},
                {"heads", heads},
                {"dropout", dropout},
                {"activation", to_string(activation)},
                {"ln_eps", ln_eps},
                {"variant", variant()},
                {"multi_query", multi_query},
                {"query_window", query_window},
                {"alpha", alpha},
                {"attention", to_string(attention)},
                {"max_rel", max_rel},
                {"rel_in_value", rel_in_value},
                {"abs_pos", abs_pos},
                {"refine", to_string(refine)},
                {"refine_scale", refine_scale},
                {"refine_identity_init", refine_identity_init}};
    }
    static SASRecConfig from_json(const nlohmann::json& j) {
        SASRecConfig c;
        c.num_items = required_field<Index>(j, "num_items");
        c.maxlen = required_field<Index>(j, "maxlen");
        c.dim = required_field<Index>(j, "dim");
        c.blocks = required_field<Index>(j, "blocks");
        c.heads = required_field<Index>(j, "heads");
        c.dropout = required_field<double>(j, "dropout");
        c.activation = parse_activation(j.value("activation", std::string("relu")));
        c.ln_eps = j.value("ln_eps", 1e-8);
        c.multi_query = j.value("multi_query", false);
        c.query_window = j.value("query_window", Index(3));
        c.alpha = j.value("alpha", 0.5);
        c.max_rel = j.value("max_rel", Index(-1));
        c.attention = parse_attention(j.value("attention", std::string("dot")));
        // max_rel >= 0 turns relative positions on (the CLI's --max-rel, and checkpoints written
        // before "attention" existed).
        if (c.attention == AttentionKind::dot && c.max_rel >= 0)
            c.attention = AttentionKind::relative;
        c.rel_in_value = j.value("rel_in_value", true);
        c.abs_pos = j.value("abs_pos", true);
        c.refine = parse_refinement(j.value("refine", std::string("none")));
        c.refine_scale = j.value("refine_scale", 0.0);
        c.refine_identity_init = j.value("refine_identity_init", false);
        c.check();
        return c;
    }
};

/// SASRec model. Windows are compact: the L <= n most recent items, oldest first; padding slots
/// are never computed (their rows are exactly 0 in the reference and never reach a loss or score,
/// MODELS.md §1.5), which is also where the cost of short sequences goes away.
/// The gradient of a model is another SASRec of the same shapes (`zeros_like`).
template <typename T>
class SASRec {
public:
    using Mat = Matrix<T>;
    using Buf = Buffer<T>;
    using Scalar = T;
    /// Everything backward needs for one window; reuse it across calls (per thread): once it has
    /// seen the longest window, forward, backward and scoring allocate nothing.
    struct Cache {
        Buf x0, emb_mask, out, dx0, dtower;
        Buf queries, scores;  // score_next: a one-user block
        std::vector<typename Encoder<T>::Cache> towers;
        std::vector<ItemId> window;  // inference: the clipped history
    };

    SASRecConfig config;
    ItemPositionEmbedding<T> embedding;
    std::vector<Encoder<T>> towers;  ///< config.towers(): SASRec one, MQSA short then long

    SASRec() = default;
    explicit SASRec(const SASRecConfig& cfg)
        : config(cfg), embedding(cfg.num_items, cfg.maxlen, cfg.dim, cfg.dropout, cfg.abs_pos) {
        cfg.check();
        for (const auto& t : cfg.towers()) towers.emplace_back(cfg.blocks, cfg.block_config(t));
        arena_.bind(*this);
    }
    SASRec(const SASRec& o) : config(o.config), embedding(o.embedding), towers(o.towers) {
        arena_.bind(*this);
    }
    SASRec(SASRec&&) noexcept = default;  // the arena's heap block moves with the views into it
    /// Copies weights in place when the layouts match (no allocation), else rebuilds.
    SASRec& operator=(const SASRec& o) {
        if (this == &o) return *this;
        if (!arena_.same_layout(o.arena_)) return *this = SASRec(o);
        config = o.config;
        arena_.copy_values(o.arena_);
        return *this;
    }
    SASRec& operator=(SASRec&&) noexcept = default;

    /// Every parameter in one vector (core/param_arena.hpp).
    ParamArena<T>& params() { return arena_; }
    const ParamArena<T>& params() const { return arena_; }

    static const char* kind() { return "sasrec"; }
    Index num_items() const { return config.num_items; }
    Index maxlen() const { return config.maxlen; }

    /// Glorot-uniform for embeddings and kernels, zero biases, LN (1, 0) [C-SASRec]; E[0] = 0;
    /// relative-position tables 0 (RPESA starts as SASRec, MODELS.md 7.2).
    void init(Rng& rng) {
        for_each_param("", [&](const std::string&, Param<T>& m) {
            const ParamRole role = m.role();
            if (role == ParamRole::preset) {
                return;  // its layer set it (ALiBi's slopes)
            } else if (role == ParamRole::norm_gain) {
                m.setOnes();
            } else if (role == ParamRole::refinement && config.refine_identity_init) {
                m.setIdentity();  // awr_init = identity: M1 starts as c A A^T
            } else if (role == ParamRole::bias || role == ParamRole::norm_bias ||
                       role == ParamRole::relative_table) {
                m.setZero();
            } else {
                const double limit = std::sqrt(6.0 / double(m.rows() + m.cols()));
                for (Index i = 0; i < m.size(); ++i)
                    m.data()[i] = T((2.0 * rng.uniform() - 1.0) * limit);
            }
        });
        embedding.E.row(0).setZero();
    }

    /// A model of the same shapes with every parameter 0: the gradient buffer.
    SASRec zeros_like() const {
        SASRec g = *this;
        g.arena_.set_zero();
        return g;
    }

    /// Training / checking forward over packed compact windows (core/pack.hpp): `ids` holds
    /// every window's items, oldest first within each. Returns the final representations Ĥ
    /// (rows x d) (MQSA: alpha Ĥ^S + (1 - alpha) Ĥ^L, 5.4), valid until the next call with this
    /// cache. The row-wise layers run once over the whole pack, attention per window.
    /// rng == nullptr: no dropout. Both towers read the same dropped-out X0.
    const Buf& forward(const ItemId* ids, PackRows pack, Cache& c, Rng* rng) const {
        embedding.forward(ids, pack, c.x0, c.emb_mask, rng);  // (1.1)
        c.towers.resize(towers.size());
        const Buf& h0 = towers[0].forward(c.x0, pack, c.towers[0], rng);
        if (towers.size() == 1) {
            c.out = h0;
            return c.out;
        }
        c.out = T(config.tower_weight(0)) * h0 +
                T(config.tower_weight(1)) * towers[1].forward(c.x0, pack, c.towers[1], rng);
        for (std::size_t i = 2; i < towers.size(); ++i)
            c.out += T(config.tower_weight(i)) * towers[i].forward(c.x0, pack, c.towers[i], rng);
        return c.out;
    }
    /// One window: the pack of one.
    const Buf& forward(const std::vector<ItemId>& ids, Cache& c, Rng* rng) const {
        return forward(ids.data(), OneWindow(Index(ids.size())), c, rng);
    }

    /// Backward from dL/dĤ (rows x d) of the last forward; ADDS every parameter gradient into
    /// `grad`.
    void backward(const ConstRef<T>& dout, const ItemId* ids, PackRows pack, Cache& c,
                  SASRec& grad) const {
        c.dx0.setZero(dout.rows(), dout.cols());
        if (towers.size() == 1) {
            towers[0].backward(dout, pack, c.towers[0], grad.towers[0], c.dx0);
        } else {  // (8.8): the towers' gradients into the shared X0 add, last tower first
            for (std::size_t i = towers.size(); i-- > 0;) {
                c.dtower = T(config.tower_weight(i)) * dout;
                towers[i].backward(c.dtower, pack, c.towers[i], grad.towers[i], c.dx0);
            }
        }
        embedding.backward(c.dx0, ids, pack, c.emb_mask, grad.embedding, c.dtower);
    }
    void backward(const ConstRef<T>& dout, const std::vector<ItemId>& ids, Cache& c,
                  SASRec& grad) const {
        backward(dout, ids.data(), OneWindow(Index(ids.size())), c, grad);
    }

    /// Inference: representation of the most recent slot (1 x d), no dropout. The last block only
    /// computes its last row. `history` is clipped to its last n items.
    void encode_last(const std::vector<ItemId>& history, Buf& h, Cache& c) const {
        SEQREC_CHECK(!history.empty(), ShapeError, "encode_last needs a non-empty history");
        seqrec::clip_window(history, config.maxlen, c.window);
        embedding.forward(c.window, c.x0, c.emb_mask, nullptr);
        c.towers.resize(towers.size());
        towers[0].forward_last(c.x0, h, c.towers[0]);
        if (towers.size() == 1) return;
        towers[1].forward_last(c.x0, c.dtower, c.towers[1]);
        h = T(config.tower_weight(0)) * h + T(config.tower_weight(1)) * c.dtower;
        for (std::size_t i = 2; i < towers.size(); ++i) {
            towers[i].forward_last(c.x0, c.dtower, c.towers[i]);
            h += T(config.tower_weight(i)) * c.dtower;
        }
    }

    /// Attention weights over the window of `history` (inference, no dropout): f(tower, layer,
    /// head, A, R) for each, A the causal softmax and R the AWRSR-refined matrix (nullptr when
    /// no refinement is on), both L x L. For pictures (`seqrec attention`), not a hot path.
    template <typename F>
    void attention_maps(const std::vector<ItemId>& history, Cache& c, F&& f) const {
        SEQREC_CHECK(!history.empty(), ShapeError, "attention_maps needs a non-empty history");
        seqrec::clip_window(history, config.maxlen, c.window);
        forward(c.window, c, nullptr);
        for (std::size_t t = 0; t < towers.size(); ++t)
            for (std::size_t b = 0; b < towers[t].blocks.size(); ++b) {
                const auto& mha = towers[t].blocks[b].attn;
                const auto& w = c.towers[t].blocks[b].attn.weights;  // may hold more (a pack)
                for (std::size_t h = 0; h < std::size_t(mha.heads); ++h)
                    f(Index(t), Index(b), Index(h), w[h].probs,
                      mha.refine.enabled() ? &w[h].refined : nullptr);
            }
    }

    /// Batched scoring (eval/evaluator.hpp, serve/): a user's query row is Ĥ of the last slot;
    /// the scores of a block of queries are Q E^T (1.3), one GEMM per block.
    Index query_dim() const { return config.dim; }
    template <typename Row>
    void query(const std::vector<ItemId>& history, Row&& q, Cache& c) const {
        encode_last(history, c.out, c);
        q = c.out.row(0);
    }
    /// Q: padded_score_rows(B) x query_dim(); S: scores (Q.rows() x (N+1)), column 0 unused.
    void score_queries(const ConstRef<T>& Q, Buf& S, Cache& c) const {
        score_queries(Q, 0, config.num_items, S, c);
    }
    /// Items lo+1 .. lo+width only: S (Q.rows() x (width+1)), column 0 unused, column j item
    /// lo+j. With lo a multiple of kScoreRowAlign, the same bits as those columns of the full
    /// block (the evaluator streams a large catalogue through this).
    void score_queries(const ConstRef<T>& Q, Index lo, Index width, Buf& S, Cache&) const {
        score_items<T>(Q, embedding.E.bottomRows(config.num_items).middleRows(lo, width), S);
    }

    /// Scores of every item for the next position after `history`: scores (N+1), entry 0 unused.
    /// The same bits as the user's row of a batched block. const and thread-safe with one Cache
    /// per thread.
    void score_next(const std::vector<ItemId>& history, Vector<T>& scores, Cache& c) const {
        c.queries.setZero(padded_score_rows(1), query_dim());
        query(history, c.queries.row(0), c);
        score_queries(c.queries, c.scores, c);
        scores = c.scores.row(0).transpose();
    }

    /// The output item table (N+1 x d) used by the losses: scores are Ĥ_t · E[i] (1.3).
    const Param<T>& output_items() const { return embedding.E; }
    Param<T>& output_items() { return embedding.E; }

    /// The last n items of a history (the model's window).
    std::vector<ItemId> clip_window(const std::vector<ItemId>& history) const {
        std::vector<ItemId> out;
        seqrec::clip_window(history, config.maxlen, out);
        return out;
    }

    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        embedding.for_each_param(prefix + "embedding.", f);
        for (std::size_t i = 0; i < towers.size(); ++i)  // tower 1 is MQSA's long tower
            towers[i].for_each_param(prefix + (i == 0   ? std::string()
                                               : i == 1 ? std::string("long.")
                                                        : "tower" + std::to_string(i) + "."),
                                     f);
    }

private:
    ParamArena<T> arena_;
};

}  // namespace seqrec
