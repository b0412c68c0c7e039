/// \file layers/multi_head_attention.hpp
/// Causal multi-head dot-product self-attention in SASRec's form (MODELS.md 2.2-2.6, B.3):
/// queries from Z, keys and values from X, no output projection. What the scores add to
/// s Q K^T (relative positions, ALiBi, nothing) is a score policy (layers/attention_scores.hpp);
/// softmax, refinement and dropout are the shared weight stage (layers/attention_weights.hpp).
#pragma once

#include <cmath>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "seqrec/core/pack.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/gemm.hpp"
#include "seqrec/layers/attention_scores.hpp"
#include "seqrec/layers/attention_weights.hpp"
#include "seqrec/layers/linear.hpp"

namespace seqrec {

/// Shapes: Z, X, O (rows x d), packed compact windows (every row a real item, so the causal mask
/// is the whole mask; padding slots are never computed). Per head k the columns k*dh..(k+1)*dh-1.
/// Only the lower triangle of the (L x L) score matrices is computed (triangular products).
template <typename T>
struct MultiHeadAttention {
    struct Cache {
        Buffer<T> Q, K, V;                         // projections (L x d)
        std::vector<AttentionWeights<T>> weights;  // per head: A^k, R^k, dropout mask
        Buffer<T> G, dQ, dK, dV, dA;               // reused buffers
        ScoreScratch<T> scores;
    };
    Linear<T> wq, wk, wv;
    Index heads = 1;
    double dropout = 0.0;
    AttentionScores<T> scores;      ///< the score policy
    AttentionRefinement<T> refine;  ///< AWRSR (MODELS.md 4.2); mechanism none = off

    MultiHeadAttention() = default;
    MultiHeadAttention(Index d, Index num_heads, double p, const AttentionConfig& a = {},
                       AttentionRefinement<T> r = {})
        : wq(d, d),
          wk(d, d),
          wv(d, d),
          heads(num_heads),
          dropout(p),
          scores(make_attention_scores<T>(a, d, num_heads)),
          refine(std::move(r)) {}

    Index head_dim() const { return wq.W.cols() / heads; }

    /// O = concat_k Drop(softmax_causal(Q_k K_k^T / sqrt(dh) + policy)) V_k (+ policy values),
    /// per window of the pack; the projections run once over all its rows. rng == nullptr:
    /// evaluation.
    void forward(const ConstRef<T>& Z, const ConstRef<T>& X, PackRows pack, Buffer<T>& O, Cache& c,
                 Rng* rng) const {
        const Index dh = head_dim();
        const T s = T(1) / std::sqrt(T(dh));
        wq.forward(Z, c.Q);
        wk.forward(X, c.K);
        wv.forward(X, c.V);
        O.resize(X.rows(), wq.W.cols());
        // Grow only: a smaller pack must not free the weights a larger one will need again.
        if (c.weights.size() < std::size_t(pack.windows * heads))
            c.weights.resize(std::size_t(pack.windows * heads));
        std::visit(
            [&](const auto& sc) {
                for (Index w = 0; w < pack.windows; ++w) {
                    const Index o = pack.begin(w), L = pack.length(w);
                    for (Index k = 0; k < heads; ++k) {
                        Buffer<T>& A = c.weights[std::size_t(w * heads + k)].probs;
                        A.resize(L, L);
                        const auto Qk = c.Q.block(o, k * dh, L, dh);
                        lower_product_assign(A, s * Qk, c.K.block(o, k * dh, L, dh).transpose());
                        sc.add_scores(Qk, k, dh, s, A, c.scores);
                        const Buffer<T>& W =
                            c.weights[std::size_t(w * heads + k)].forward(refine, dropout, rng);
                        auto Ok = O.block(o, k * dh, L, dh);
                        trmm_assign(Ok, W.template triangularView<Eigen::Lower>(),
                                    c.V.block(o, k * dh, L, dh));
                        sc.add_values(W, k, dh, Ok, c.scores);
                    }
                }
            },
            scores);
    }
    void forward(const ConstRef<T>& Z, const ConstRef<T>& X, Buffer<T>& O, Cache& c,
                 Rng* rng) const {
        forward(Z, X, OneWindow(X.rows()), O, c, rng);
    }

    /// (B.3). ADDS parameter grads into `grad`, dL/dZ into dZ and dL/dX into dX (rows x d); the
    /// projections' gradients are one product each over all rows of the pack.
    void backward(const ConstRef<T>& dO, const ConstRef<T>& Z, const ConstRef<T>& X, PackRows pack,
                  Cache& c, MultiHeadAttention& grad, Buffer<T>& dZ, Buffer<T>& dX) const {
        const Index rows = X.rows(), d = X.cols(), dh = head_dim();
        const T s = T(1) / std::sqrt(T(dh));
        c.dQ.resize(rows, d);
        c.dK.resize(rows, d);
        c.dV.resize(rows, d);
        std::visit(
            [&](const auto& sc) {
                auto& gsc = std::get<std::decay_t<decltype(sc)>>(grad.scores);
                for (Index w = 0; w < pack.windows; ++w) {
                    const Index o = pack.begin(w), L = pack.length(w);
                    for (Index k = 0; k < heads; ++k) {
                        AttentionWeights<T>& aw = c.weights[std::size_t(w * heads + k)];
                        const auto dOk = dO.block(o, k * dh, L, dh);
                        const auto Vk = c.V.block(o, k * dh, L, dh);
                        // dV = Ã^T dO, with Ã = A or R (times the dropout mask).
                        const Buffer<T>& W = aw.weights(refine);
                        trmm_assign(c.dV.block(o, k * dh, L, dh),
                                    W.template triangularView<Eigen::Lower>().transpose(), dOk);
                        // dÃ = dO V^T (lower triangle) plus the policy's value term, then dS
                        // through the weight stage.
                        Buffer<T>& G = c.G;
                        G.resize(L, L);
                        lower_product_assign(G, dOk, Vk.transpose());
                        sc.backward_values(W, dOk, k, dh, G, gsc, c.scores);
                        aw.backward(refine, G, grad.refine, c.dA);
                        G *= s;  // dS * s: dQ = s dS K, dK = s dS^T Q
                        const auto Qk = c.Q.block(o, k * dh, L, dh);
                        auto dQk = c.dQ.block(o, k * dh, L, dh);
                        trmm_assign(dQk, G.template triangularView<Eigen::Lower>(),
                                    c.K.block(o, k * dh, L, dh));
                        trmm_assign(c.dK.block(o, k * dh, L, dh),
                                    G.template triangularView<Eigen::Lower>().transpose(), Qk);
                        sc.backward_scores(G, s, Qk, k, dh, dQk, gsc, c.scores);
                    }
                }
            },
            scores);
        wq.backward(Z, c.dQ, grad.wq, &dZ);
        wk.backward(X, c.dK, grad.wk, &dX);
        wv.backward(X, c.dV, grad.wv, &dX);
    }
    void backward(const ConstRef<T>& dO, const ConstRef<T>& Z, const ConstRef<T>& X, Cache& c,
                  MultiHeadAttention& grad, Buffer<T>& dZ, Buffer<T>& dX) const {
        backward(dO, Z, X, OneWindow(X.rows()), c, grad, dZ, dX);
    }

    /// Inference for the last slot only: z (1 x d) is the last row of Z; keys and values from all
    /// L rows of X. Returns o (1 x d). Cost O(L d^2) instead of O(L^2 d).
    void forward_last(const ConstRef<T>& z, const ConstRef<T>& X, Buffer<T>& o, Cache& c) const {
        const Index dh = head_dim();
        const T s = T(1) / std::sqrt(T(dh));
        wq.forward(z, c.Q);
        wk.forward(X, c.K);
        wv.forward(X, c.V);
        o.resize(1, wq.W.cols());
        std::visit(
            [&](const auto& sc) {
                for (Index k = 0; k < heads; ++k) {
                    Buffer<T>& a = c.G;
                    // The scaled query goes to a buffer first: as the vector of a GEMV, a scaled
                    // expression would be copied to the heap.
                    c.dQ = s * c.Q.middleCols(k * dh, dh);
                    a.noalias() = c.dQ * c.K.middleCols(k * dh, dh).transpose();
                    sc.add_last_scores(c.Q.middleCols(k * dh, dh), k, dh, s, a, c.scores);
                    a.array() = (a.array() - a.maxCoeff()).exp();
                    a /= a.sum();
                    o.middleCols(k * dh, dh).noalias() = a * c.V.middleCols(k * dh, dh);
                    sc.add_last_values(a, k, dh, o.middleCols(k * dh, dh), c.scores);
                }
            },
            scores);
    }

    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        wq.for_each_param(prefix + "q.", f);
        wk.for_each_param(prefix + "k.", f);
        wv.for_each_param(prefix + "v.", f);
        std::visit([&](auto& sc) { sc.for_each_param(prefix, f); }, scores);
        refine.for_each_param(prefix + "refine.", f);
    }
};

}  // namespace seqrec
