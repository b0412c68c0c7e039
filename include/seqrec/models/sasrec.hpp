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
#include "seqrec/core/param.hpp"
#include "seqrec/core/param_arena.hpp"
#include "seqrec/data/sampler.hpp"
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
    Index max_rel = -1;        ///< RPESA's k_max (>= 0 turns relative positions on), -1 = off
    bool rel_in_value = true;  ///< RPESA: relative vectors in values too (rpa_in_value)
    bool abs_pos = true;       ///< absolute positional embedding P (rpa_abs_pos)
    Refinement refine = Refinement::none;  ///< AWRSR mechanism (M1-M3 on SASRec, MODELS.md §4)
    double refine_scale = 0.0;             ///< c of (4.4); 0 = 1/sqrt(n) [I2]
    bool refine_identity_init = false;     ///< awr_init = identity [I5]

    /// "sasrec", "mqsa", "rpesa" (both: "mqsa+rpesa"); "+awr-<mechanism>" with a refinement.
    std::string variant() const {
        std::string v = "sasrec";
        if (multi_query && max_rel >= 0)
            v = "mqsa+rpesa";
        else if (multi_query)
            v = "mqsa";
        else if (max_rel >= 0)
            v = "rpesa";
        if (refine != Refinement::none) v += std::string("+awr-") + to_string(refine);
        return v;
    }

    /// Throws ConfigError naming the field and the rule.
    void check() const {
        SEQREC_CHECK(num_items >= 1, ConfigError, "num_items must be >= 1");
        SEQREC_CHECK(maxlen >= 1, ConfigError,
                     "maxlen must be >= 1, got " + std::to_string(maxlen));
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
                {"max_rel", max_rel},
                {"rel_in_value", rel_in_value},
                {"abs_pos", abs_pos},
                {"refine", to_string(refine)},
                {"refine_scale", refine_scale},
                {"refine_identity_init", refine_identity_init}};
    }
    static SASRecConfig from_json(const nlohmann::json& j) {
        SASRecConfig c;
        c.num_items = j.at("num_items").get<Index>();
        c.maxlen = j.at("maxlen").get<Index>();
        c.dim = j.at("dim").get<Index>();
        c.blocks = j.at("blocks").get<Index>();
        c.heads = j.at("heads").get<Index>();
        c.dropout = j.at("dropout").get<double>();
        c.activation = parse_activation(j.value("activation", std::string("relu")));
        c.ln_eps = j.value("ln_eps", 1e-8);
        c.multi_query = j.value("multi_query", false);
        c.query_window = j.value("query_window", Index(3));
        c.alpha = j.value("alpha", 0.5);
        c.max_rel = j.value("max_rel", Index(-1));
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
        Buf x0, emb_mask, out, dx0, dlong;
        typename Encoder<T>::Cache tower, long_tower;
        std::vector<ItemId> window;  // inference: the clipped history
    };

    SASRecConfig config;
    ItemPositionEmbedding<T> embedding;
    Encoder<T> encoder;       ///< SASRec / MQSA short tower (L = 1)
    Encoder<T> long_encoder;  ///< MQSA long tower (L-query); empty otherwise

    SASRec() = default;
    explicit SASRec(const SASRecConfig& cfg)
        : config(cfg), embedding(cfg.num_items, cfg.maxlen, cfg.dim, cfg.dropout, cfg.abs_pos) {
        cfg.check();
        auto make = [&](Index L) {
            return [&cfg, L] {
                return TransformerBlock<T>(cfg.dim, cfg.heads, cfg.dropout, cfg.activation,
                                           cfg.ln_eps, L, cfg.max_rel, cfg.rel_in_value, cfg.refine,
                                           cfg.maxlen, cfg.refine_scale);
            };
        };
        encoder = Encoder<T>(cfg.blocks, cfg.dim, cfg.ln_eps, make(1));
        if (cfg.multi_query)
            long_encoder = Encoder<T>(cfg.blocks, cfg.dim, cfg.ln_eps, make(cfg.query_window));
        arena_.bind(*this);
    }
    SASRec(const SASRec& o)
        : config(o.config),
          embedding(o.embedding),
          encoder(o.encoder),
          long_encoder(o.long_encoder) {
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
            if (role == ParamRole::norm_gain) {
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

    /// Training / checking forward over a compact window. Returns the final representations
    /// Ĥ (L x d) (MQSA: alpha Ĥ^S + (1 - alpha) Ĥ^L, 5.4), valid until the next call with this
    /// cache. rng == nullptr: no dropout. Both towers read the same dropped-out X0.
    const Buf& forward(const std::vector<ItemId>& ids, Cache& c, Rng* rng) const {
        embedding.forward(ids, c.x0, c.emb_mask, rng);  // (1.1)
        c.out = encoder.forward(c.x0, c.tower, rng);
        if (config.multi_query) {
            const Buf& hl = long_encoder.forward(c.x0, c.long_tower, rng);
            c.out = T(config.alpha) * c.out + T(1.0 - config.alpha) * hl;
        }
        return c.out;
    }

    /// Backward from dL/dĤ (L x d, consumed); ADDS every parameter gradient into `grad`.
    void backward(Buf& dout, const std::vector<ItemId>& ids, Cache& c, SASRec& grad) const {
        if (config.multi_query) {  // (8.8): the towers' gradients into the shared X0 add
            c.dlong = T(1.0 - config.alpha) * dout;
            dout *= T(config.alpha);
            c.dx0 = long_encoder.backward(c.dlong, c.long_tower, grad.long_encoder);
            c.dx0 += encoder.backward(dout, c.tower, grad.encoder);
        } else {
            c.dx0 = encoder.backward(dout, c.tower, grad.encoder);
        }
        embedding.backward(c.dx0, ids, c.emb_mask, grad.embedding);
    }

    /// Inference: representation of the most recent slot (1 x d), no dropout. The last block only
    /// computes its last row. `history` is clipped to its last n items.
    void encode_last(const std::vector<ItemId>& history, Buf& h, Cache& c) const {
        SEQREC_CHECK(!history.empty(), ShapeError, "encode_last needs a non-empty history");
        seqrec::clip_window(history, config.maxlen, c.window);
        embedding.forward(c.window, c.x0, c.emb_mask, nullptr);
        encoder.forward_last(c.x0, h, c.tower);
        if (config.multi_query) {
            long_encoder.forward_last(c.x0, c.dx0, c.long_tower);
            h = T(config.alpha) * h + T(1.0 - config.alpha) * c.dx0;
        }
    }

    /// Scores of every item for the next position after `history`: scores (N+1), entry 0 unused.
    /// const and thread-safe with one Cache per thread.
    void score_next(const std::vector<ItemId>& history, Vector<T>& scores, Cache& c) const {
        encode_last(history, c.out, c);
        scores.resize(config.num_items + 1);
        scores(0) = T(0);
        scores.tail(config.num_items).noalias() =
            embedding.E.bottomRows(config.num_items) * c.out.row(0).transpose();  // (1.3)
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
        encoder.for_each_param(prefix, f);
        if (config.multi_query) long_encoder.for_each_param(prefix + "long.", f);
    }

private:
    ParamArena<T> arena_;
};

}  // namespace seqrec
