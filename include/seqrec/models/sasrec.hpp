/// \file models/sasrec.hpp
/// SASRec: causal self-attention over the item sequence, tied input/output item embeddings
/// (MODELS.md §2). Forward and hand-written backward, float for training, double for checks.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/layers/embedding.hpp"
#include "seqrec/layers/transformer_block.hpp"

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
    }
    nlohmann::json to_json() const {
        return {{"num_items", num_items},
                {"maxlen", maxlen},
                {"dim", dim},
                {"blocks", blocks},
                {"heads", heads},
                {"dropout", dropout},
                {"activation", to_string(activation)},
                {"ln_eps", ln_eps}};
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
    using Scalar = T;
    /// Everything backward needs for one window; reuse it across calls (per thread).
    struct Cache {
        Mat emb_mask;
        std::vector<Mat> xs;  // xs[b] = input of block b, xs[blocks] = last block output
        std::vector<typename TransformerBlock<T>::Cache> blocks;
        typename LayerNorm<T>::Cache ln_out;
        Mat out, dx, dnext;
    };

    SASRecConfig config;
    ItemPositionEmbedding<T> embedding;
    std::vector<TransformerBlock<T>> blocks;
    LayerNorm<T> ln_out;

    SASRec() = default;
    explicit SASRec(const SASRecConfig& cfg)
        : config(cfg),
          embedding(cfg.num_items, cfg.maxlen, cfg.dim, cfg.dropout),
          ln_out(cfg.dim, cfg.ln_eps) {
        cfg.check();
        for (Index b = 0; b < cfg.blocks; ++b)
            blocks.emplace_back(cfg.dim, cfg.heads, cfg.dropout, cfg.activation, cfg.ln_eps);
    }

    static const char* kind() { return "sasrec"; }
    Index num_items() const { return config.num_items; }
    Index maxlen() const { return config.maxlen; }

    /// Glorot-uniform for embeddings and kernels, zero biases, LN (1, 0) [C-SASRec]; E[0] = 0.
    void init(Rng& rng) {
        for_each_param("", [&](const std::string& name, Mat& m) {
            const bool is_ln = name.find("gamma") != std::string::npos;
            const bool is_bias = m.rows() == 1;
            if (is_ln) {
                m.setOnes();
            } else if (is_bias) {
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
        zero_params<T>(g);
        return g;
    }

    /// Training / checking forward over a compact window. Returns the final representations
    /// Ĥ (L x d), valid until the next call with this cache. rng == nullptr: no dropout.
    const Mat& forward(const std::vector<ItemId>& ids, Cache& c, Rng* rng) const {
        const std::size_t nb = blocks.size();
        c.xs.resize(nb + 1);
        c.blocks.resize(nb);
        embedding.forward(ids, c.xs[0], c.emb_mask, rng);  // (1.1)
        for (std::size_t b = 0; b < nb; ++b)
            blocks[b].forward(c.xs[b], c.xs[b + 1], c.blocks[b], rng);
        ln_out.forward(c.xs[nb], c.out, &c.ln_out);
        return c.out;
    }

    /// Backward from dL/dĤ (L x d, consumed); ADDS every parameter gradient into `grad`.
    void backward(Mat& dout, const std::vector<ItemId>& ids, Cache& c, SASRec& grad) const {
        const std::size_t nb = blocks.size();
        ln_out.backward(dout, c.ln_out, grad.ln_out, c.dx);
        for (std::size_t b = nb; b-- > 0;) {
            blocks[b].backward(c.dx, c.xs[b], c.blocks[b], grad.blocks[b], c.dnext);
            std::swap(c.dx, c.dnext);
        }
        embedding.backward(c.dx, ids, c.emb_mask, grad.embedding);
    }

    /// Inference: representation of the most recent slot (1 x d), no dropout. The last block only
    /// computes its last row. `history` is clipped to its last n items.
    void encode_last(const std::vector<ItemId>& history, Mat& h, Cache& c) const {
        SEQREC_CHECK(!history.empty(), ShapeError, "encode_last needs a non-empty history");
        const std::vector<ItemId> ids = clip_window(history);
        const std::size_t nb = blocks.size();
        c.xs.resize(nb + 1);
        c.blocks.resize(nb);
        embedding.forward(ids, c.xs[0], c.emb_mask, nullptr);
        for (std::size_t b = 0; b + 1 < nb; ++b)
            blocks[b].forward(c.xs[b], c.xs[b + 1], c.blocks[b], nullptr);
        blocks[nb - 1].forward_last(c.xs[nb - 1], c.xs[nb], c.blocks[nb - 1]);
        ln_out.forward(c.xs[nb], h);
    }

    /// Scores of every item for the next position after `history`: scores (N+1), entry 0 unused.
    /// const and thread-safe with one Cache per thread.
    void score_next(const std::vector<ItemId>& history, Vector<T>& scores, Cache& c) const {
        encode_last(history, c.dnext, c);
        scores.resize(config.num_items + 1);
        scores(0) = T(0);
        scores.tail(config.num_items).noalias() =
            embedding.E.bottomRows(config.num_items) * c.dnext.row(0).transpose();  // (1.3)
    }

    /// The output item table (N+1 x d) used by the losses: scores are Ĥ_t · E[i] (1.3).
    const Mat& output_items() const { return embedding.E; }
    Mat& output_items() { return embedding.E; }

    /// The last n items of a history (the model's window).
    std::vector<ItemId> clip_window(const std::vector<ItemId>& history) const {
        const std::size_t n = std::size_t(config.maxlen);
        if (history.size() <= n) return history;
        return std::vector<ItemId>(history.end() - std::ptrdiff_t(n), history.end());
    }

    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        embedding.for_each_param(prefix + "embedding.", f);
        for (std::size_t b = 0; b < blocks.size(); ++b)
            blocks[b].for_each_param(prefix + "block" + std::to_string(b) + ".", f);
        ln_out.for_each_param(prefix + "ln_out.", f);
    }
};

}  // namespace seqrec
