/// \file layers/multi_head_attention.hpp
/// Causal multi-head dot-product self-attention in SASRec's form (MODELS.md 2.2-2.6, B.3):
/// queries from Z, keys and values from X, no output projection. Optionally relative-position
/// aware (RPESA's RPA, MODELS.md 7.2, [I12] Shaw-style): learned vectors R^K, R^V indexed by the
/// clipped offset t - j are added to keys and values, scored by the same query dot product.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "seqrec/core/param.hpp"
#include "seqrec/kernels/gemm.hpp"
#include "seqrec/kernels/relative_position.hpp"
#include "seqrec/layers/attention_weights.hpp"
#include "seqrec/layers/linear.hpp"

namespace seqrec {

/// Shapes: Z, X, O (L x d), one compact window (every row a real item, so the causal mask is the
/// whole mask; padding slots are never computed). Per head k the columns k*dh..(k+1)*dh-1.
/// Only the lower triangle of the (L x L) score matrices is computed (triangular products).
template <typename T>
struct MultiHeadAttention {
    struct Cache {
        Buffer<T> Q, K, V;                         // projections (L x d)
        std::vector<AttentionWeights<T>> weights;  // per head: A^k, R^k, dropout mask
        Buffer<T> scratch, dQ, dK, dV;             // reused buffers
        Buffer<T> G, Omega, dG;  // relative positions: per-offset scores / weights (L x k+1)
        Buffer<T> dA;
    };
    Linear<T> wq, wk, wv;
    Index heads = 1;
    double dropout = 0.0;
    Index max_rel = -1;  ///< k_max; -1 = no relative positions (plain SASRec attention)
    bool rel_in_value = true;
    Param<T> rel_k, rel_v;  ///< R^K, R^V ((k_max + 1) x d), zero-initialised: starts as SASRec
    AttentionRefinement<T> refine;  ///< AWRSR (MODELS.md 4.2); mechanism none = off

    MultiHeadAttention() = default;
    MultiHeadAttention(Index d, Index num_heads, double p, Index k_max = -1, bool in_value = true)
        : wq(d, d),
          wk(d, d),
          wv(d, d),
          heads(num_heads),
          dropout(p),
          max_rel(k_max),
          rel_in_value(in_value) {
        if (max_rel >= 0) {
            rel_k = Param<T>(max_rel + 1, d, ParamRole::relative_table);
            if (rel_in_value) rel_v = Param<T>(max_rel + 1, d, ParamRole::relative_table);
        }
    }
    bool relative() const { return max_rel >= 0; }

    Index head_dim() const { return wq.W.cols() / heads; }

    /// O = concat_k Drop(softmax_causal(Q_k K_k^T / sqrt(dh))) V_k. rng == nullptr: evaluation.
    void forward(const ConstRef<T>& Z, const ConstRef<T>& X, Buffer<T>& O, Cache& c,
                 Rng* rng) const {
        const Index L = X.rows(), dh = head_dim();
        const T s = T(1) / std::sqrt(T(dh));
        wq.forward(Z, c.Q);
        wk.forward(X, c.K);
        wv.forward(X, c.V);
        O.resize(L, wq.W.cols());
        c.weights.resize(heads);
        for (Index k = 0; k < heads; ++k) {
            Buffer<T>& A = c.weights[k].probs;
            A.resize(L, L);
            A.template triangularView<Eigen::Lower>() =
                s * c.Q.middleCols(k * dh, dh) * c.K.middleCols(k * dh, dh).transpose();
            if (relative()) {  // (7.2): + s Q_t . R^K[delta_tj], via G = Q R^K^T
                c.G.noalias() =
                    c.Q.middleCols(k * dh, dh) * rel_k.middleCols(k * dh, dh).transpose();
                add_relative_columns(A, c.G, max_rel, s);
            }
            const Buffer<T>& W = c.weights[k].forward(refine, dropout, rng);  // Ã
            trmm_assign(O.middleCols(k * dh, dh), W.template triangularView<Eigen::Lower>(),
                        c.V.middleCols(k * dh, dh));
            if (relative() && rel_in_value) {  // (7.3): + Omega R^V
                bin_by_offset(W, max_rel, c.Omega);
                O.middleCols(k * dh, dh).noalias() += c.Omega * rel_v.middleCols(k * dh, dh);
            }
        }
    }

    /// (B.3). Adds parameter grads; ADDS dL/dZ into dZ and dL/dX into dX (both L x d, sized).
    void backward(const ConstRef<T>& dO, const ConstRef<T>& Z, const ConstRef<T>& X, Cache& c,
                  MultiHeadAttention& grad, Buffer<T>& dZ, Buffer<T>& dX) const {
        const Index L = X.rows(), d = X.cols(), dh = head_dim();
        const T s = T(1) / std::sqrt(T(dh));
        c.dQ.resize(L, d);
        c.dK.resize(L, d);
        c.dV.resize(L, d);
        for (Index k = 0; k < heads; ++k) {
            AttentionWeights<T>& aw = c.weights[k];
            const auto dOk = dO.middleCols(k * dh, dh);
            // dV = Ã^T dO, with Ã = A or R (times the dropout mask).
            const Buffer<T>& W = aw.weights(refine, c.scratch);
            trmm_assign(c.dV.middleCols(k * dh, dh),
                        W.template triangularView<Eigen::Lower>().transpose(), dOk);
            const bool rel_v_on = relative() && rel_in_value;
            if (rel_v_on) {  // (B.17): dR^V = Omega^T dO; dÃ_tj += dO_t . R^V[delta_tj] below
                bin_by_offset(W, max_rel, c.Omega);
                grad.rel_v.middleCols(k * dh, dh).noalias() += c.Omega.transpose() * dOk;
                c.dG.noalias() = dOk * rel_v.middleCols(k * dh, dh).transpose();
            }
            // dÃ = dO V^T (lower triangle), then dS through the weight stage. Overwrites scratch.
            Buffer<T>& G = c.scratch;
            G.resize(L, L);
            G.template triangularView<Eigen::Lower>() =
                dOk * c.V.middleCols(k * dh, dh).transpose();
            if (rel_v_on) add_relative_columns(G, c.dG, max_rel, T(1));
            aw.backward(refine, G, grad.refine, c.dA);
            G *= s;  // dS * s: dQ = s dS K, dK = s dS^T Q
            trmm_assign(c.dQ.middleCols(k * dh, dh), G.template triangularView<Eigen::Lower>(),
                        c.K.middleCols(k * dh, dh));
            trmm_assign(c.dK.middleCols(k * dh, dh),
                        G.template triangularView<Eigen::Lower>().transpose(),
                        c.Q.middleCols(k * dh, dh));
            if (relative()) {  // (B.16): dG^K = binned s dS; dQ += dG^K R^K; dR^K += dG^K^T Q
                bin_by_offset(G, max_rel, c.dG);
                c.dQ.middleCols(k * dh, dh).noalias() += c.dG * rel_k.middleCols(k * dh, dh);
                grad.rel_k.middleCols(k * dh, dh).noalias() +=
                    c.dG.transpose() * c.Q.middleCols(k * dh, dh);
            }
        }
        wq.backward(Z, c.dQ, grad.wq, &dZ, /*accumulate=*/true);
        wk.backward(X, c.dK, grad.wk, &dX, /*accumulate=*/true);
        wv.backward(X, c.dV, grad.wv, &dX, /*accumulate=*/true);
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
        for (Index k = 0; k < heads; ++k) {
            Buffer<T>& a = c.scratch;
            // The scaled query goes to a buffer first: as the vector of a GEMV, a scaled
            // expression would be copied to the heap.
            c.dQ = s * c.Q.middleCols(k * dh, dh);
            a.noalias() = c.dQ * c.K.middleCols(k * dh, dh).transpose();
            const Index L = X.rows();
            if (relative()) {
                c.G.noalias() =
                    c.Q.middleCols(k * dh, dh) * rel_k.middleCols(k * dh, dh).transpose();
                for (Index j = 0; j < L; ++j) a(0, j) += s * c.G(0, std::min(L - 1 - j, max_rel));
            }
            a.array() = (a.array() - a.maxCoeff()).exp();
            a /= a.sum();
            o.middleCols(k * dh, dh).noalias() = a * c.V.middleCols(k * dh, dh);
            if (relative() && rel_in_value) {
                c.Omega.setZero(1, max_rel + 1);
                for (Index j = 0; j < L; ++j) c.Omega(0, std::min(L - 1 - j, max_rel)) += a(0, j);
                o.middleCols(k * dh, dh).noalias() += c.Omega * rel_v.middleCols(k * dh, dh);
            }
        }
    }

    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        wq.for_each_param(prefix + "q.", f);
        wk.for_each_param(prefix + "k.", f);
        wv.for_each_param(prefix + "v.", f);
        if (relative()) f(prefix + "rel_k", rel_k);
        if (relative() && rel_in_value) f(prefix + "rel_v", rel_v);
        refine.for_each_param(prefix + "refine.", f);
    }
};

}  // namespace seqrec
