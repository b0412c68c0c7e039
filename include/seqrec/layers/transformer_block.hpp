/// \file layers/transformer_block.hpp
/// SASRec's block in its original residual / norm order (MODELS.md 2.1-2.9, §8.3):
///   Z = LN_a(X); O = Attn(Q from Z, K/V from X); H = O + Z; Y = LN_f(H); X' = Y + FFN(Y).
/// With query_window L > 1 it is MQSA's L-query block (5.3): Z = LN_a(mean of the last L rows).
#pragma once

#include <algorithm>
#include <string>

#include "seqrec/layers/feed_forward.hpp"
#include "seqrec/layers/layer_norm.hpp"
#include "seqrec/layers/multi_head_attention.hpp"

namespace seqrec {

/// Shapes: X, X' (rows x d), packed compact windows (core/pack.hpp). The block input X is owned by
/// the caller (the model keeps every block's input), so the cache does not copy it. A block's
/// hyper-parameters (the model config fills one per tower).
struct BlockConfig {
    Index dim = 50, heads = 1, maxlen = 50;
    double dropout = 0.0;
    Activation activation = Activation::relu;
    double ln_eps = 1e-8;
    Index query_window = 1;  ///< MQSA's L: queries from the mean of the last L items (5.2)
    AttentionConfig attention;
    Refinement refine = Refinement::none;  ///< AWRSR mechanism (MODELS.md 4.2)
    double refine_scale = 0.0;             ///< c of (4.4); 0 = 1/sqrt(n)
};

template <typename T>
struct TransformerBlock {
    struct Cache {
        Buffer<T> Z, O, H, Y, F;
        typename LayerNorm<T>::Cache ln_a, ln_f;
        typename MultiHeadAttention<T>::Cache attn;
        typename FeedForward<T>::Cache ffn;
        Buffer<T> Xbar;        // L-query mean of X (query_window > 1 only)
        Buffer<T> dY, dH, dZ;  // backward scratch
    };
    LayerNorm<T> ln_a;
    MultiHeadAttention<T> attn;
    LayerNorm<T> ln_f;
    FeedForward<T> ffn;
    Index query_window = 1;  ///< MQSA's L: queries from the mean of the last L items (5.2)

    TransformerBlock() = default;
    explicit TransformerBlock(const BlockConfig& c)
        : ln_a(c.dim, c.ln_eps),
          attn(c.dim, c.heads, c.dropout, c.attention,
               AttentionRefinement<T>(c.refine, c.maxlen, c.refine_scale)),
          ln_f(c.dim, c.ln_eps),
          ffn(c.dim, c.dim, c.activation, c.dropout),
          query_window(c.query_window) {}

    /// (5.1)-(5.2) per compact window of the pack: Xbar_t = mean of rows max(0, t-L+1)..t.
    static void window_mean(const ConstRef<T>& X, PackRows pack, Index Lq, Buffer<T>& Xbar) {
        Xbar.resize(X.rows(), X.cols());
        for (Index w = 0; w < pack.windows; ++w) {
            const Index o = pack.begin(w);
            for (Index t = 0; t < pack.length(w); ++t) {
                const Index lo = std::max<Index>(0, t - Lq + 1);
                Xbar.row(o + t) = X.middleRows(o + lo, t - lo + 1).colwise().sum() / T(t - lo + 1);
            }
        }
    }

    void forward(const ConstRef<T>& X, PackRows pack, Buffer<T>& Xout, Cache& c, Rng* rng) const {
        if (query_window > 1) {
            window_mean(X, pack, query_window, c.Xbar);
            ln_a.forward(c.Xbar, c.Z, &c.ln_a);  // (5.3)
        } else {
            ln_a.forward(X, c.Z, &c.ln_a);  // (2.1)
        }
        attn.forward(c.Z, X, pack, c.O, c.attn, rng);  // (2.2)-(2.6)
        c.H = c.O + c.Z;                               // (2.7)
        ln_f.forward(c.H, c.Y, &c.ln_f);               // (2.8)
        ffn.forward(c.Y, c.F, c.ffn, rng);             // (1.2)
        Xout = c.Y + c.F;                              // (2.9), all rows real
    }
    void forward(const ConstRef<T>& X, Buffer<T>& Xout, Cache& c, Rng* rng) const {
        forward(X, OneWindow(X.rows()), Xout, c, rng);
    }

    /// X is this block's forward input. ADDS parameter grads into `grad` and dL/dX into dX.
    void backward(const ConstRef<T>& dXout, const ConstRef<T>& X, PackRows pack, Cache& c,
                  TransformerBlock& grad, Buffer<T>& dX) const {
        const Index rows = X.rows(), d = X.cols();
        c.dY = dXout;                                     // residual Y -> X'
        ffn.backward(dXout, c.Y, c.ffn, grad.ffn, c.dY);  // dY += FFN'(dX')
        c.dH.setZero(rows, d);
        ln_f.backward(c.dY, c.ln_f, grad.ln_f, c.dH);
        c.dZ = c.dH;  // residual Z -> H
        attn.backward(c.dH, c.Z, X, pack, c.attn, grad.attn, c.dZ, dX);
        if (query_window > 1) {  // (B.14): dX_j += sum over t in j..j+L-1 of dXbar_t / c_t
            c.dY.setZero(rows, d);
            ln_a.backward(c.dZ, c.ln_a, grad.ln_a, c.dY);
            for (Index w = 0; w < pack.windows; ++w) {
                const Index o = pack.begin(w);
                for (Index t = 0; t < pack.length(w); ++t) {
                    const Index lo = std::max<Index>(0, t - query_window + 1);
                    const T inv = T(1) / T(t - lo + 1);
                    for (Index j = lo; j <= t; ++j) dX.row(o + j) += inv * c.dY.row(o + t);
                }
            }
        } else {
            ln_a.backward(c.dZ, c.ln_a, grad.ln_a, dX);
        }
    }
    void backward(const ConstRef<T>& dXout, const ConstRef<T>& X, Cache& c, TransformerBlock& grad,
                  Buffer<T>& dX) const {
        backward(dXout, X, OneWindow(X.rows()), c, grad, dX);
    }

    /// Inference output of the last slot only (1 x d); X holds all L rows of the block input.
    void forward_last(const ConstRef<T>& X, Buffer<T>& out, Cache& c) const {
        if (attn.refine.enabled()) {  // refined weights need every row of A: full forward
            forward(X, c.dY, c, nullptr);
            out = c.dY.bottomRows(1);
            return;
        }
        const Index rows = std::min<Index>(query_window, X.rows());
        c.Xbar = X.bottomRows(rows).colwise().sum() / T(rows);
        ln_a.forward(c.Xbar, c.Z);
        attn.forward_last(c.Z, X, c.O, c.attn);
        c.H = c.O + c.Z;
        ln_f.forward(c.H, c.Y);
        ffn.forward(c.Y, c.F, c.ffn, nullptr);
        out = c.Y + c.F;
    }

    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        ln_a.for_each_param(prefix + "ln_attn.", f);
        attn.for_each_param(prefix + "attn.", f);
        ln_f.for_each_param(prefix + "ln_ffn.", f);
        ffn.for_each_param(prefix + "ffn.", f);
    }
};

}  // namespace seqrec
