/// \file layers/relative_position_scores.hpp
/// RPESA's relative-position-aware attention (MODELS.md 7.2-7.3, B.16-B.17; [I12] Shaw-style):
/// learned vectors R^K, R^V indexed by the clipped offset delta_tj = min(t - j, k_max) are added
/// to keys and values, scored by the same query dot product.
#pragma once

#include <algorithm>
#include <string>

#include "seqrec/core/param.hpp"
#include "seqrec/kernels/relative_position.hpp"
#include "seqrec/layers/score_policy.hpp"

namespace seqrec {

template <typename T>
struct RelativePositionScores {
    Index max_rel = 0;      ///< k_max >= 0
    bool in_value = true;   ///< R^V in the values too (rpa_in_value)
    Param<T> rel_k, rel_v;  ///< R^K, R^V ((k_max + 1) x d), zero-initialised: starts as SASRec

    RelativePositionScores() = default;
    RelativePositionScores(Index d, Index k_max, bool values)
        : max_rel(k_max), in_value(values), rel_k(k_max + 1, d, ParamRole::relative_table) {
        if (in_value) rel_v = Param<T>(k_max + 1, d, ParamRole::relative_table);
    }

    /// (7.2): S += s Q_t . R^K[delta_tj], via G = Q R^K^T.
    template <class Q>
    void add_scores(const Q& Qk, Index k, Index dh, T s, Buffer<T>& S, ScoreScratch<T>& w) const {
        w.G.noalias() = Qk * rel_k.middleCols(k * dh, dh).transpose();
        add_relative_columns(S, w.G, max_rel, s);
    }
    /// (7.3): O += Omega R^V, Omega = the weights binned by offset.
    template <class O>
    void add_values(const Buffer<T>& W, Index k, Index dh, O&& Ok, ScoreScratch<T>& w) const {
        if (!in_value) return;
        bin_by_offset(W, max_rel, w.Omega);
        Ok.noalias() += w.Omega * rel_v.middleCols(k * dh, dh);
    }
    /// (B.17): dR^V += Omega^T dO; dÃ_tj += dO_t . R^V[delta_tj].
    template <class D>
    void backward_values(const Buffer<T>& W, const D& dOk, Index k, Index dh, Buffer<T>& G,
                         RelativePositionScores& grad, ScoreScratch<T>& w) const {
        if (!in_value) return;
        bin_by_offset(W, max_rel, w.Omega);
        grad.rel_v.middleCols(k * dh, dh).noalias() += w.Omega.transpose() * dOk;
        w.dG.noalias() = dOk * rel_v.middleCols(k * dh, dh).transpose();
        add_relative_columns(G, w.dG, max_rel, T(1));
    }
    /// (B.16): dG^K = binned s dS; dQ += dG^K R^K; dR^K += dG^K^T Q.
    template <class Q, class D>
    void backward_scores(const Buffer<T>& sG, T, const Q& Qk, Index k, Index dh, D&& dQk,
                         RelativePositionScores& grad, ScoreScratch<T>& w) const {
        bin_by_offset(sG, max_rel, w.dG);
        dQk.noalias() += w.dG * rel_k.middleCols(k * dh, dh);
        grad.rel_k.middleCols(k * dh, dh).noalias() += w.dG.transpose() * Qk;
    }
    template <class Q>
    void add_last_scores(const Q& qk, Index k, Index dh, T s, Buffer<T>& a,
                         ScoreScratch<T>& w) const {
        w.G.noalias() = qk * rel_k.middleCols(k * dh, dh).transpose();
        const Index L = a.cols();
        for (Index j = 0; j < L; ++j) a(0, j) += s * w.G(0, std::min(L - 1 - j, max_rel));
    }
    template <class O>
    void add_last_values(const Buffer<T>& a, Index k, Index dh, O&& ok, ScoreScratch<T>& w) const {
        if (!in_value) return;
        const Index L = a.cols();
        w.Omega.setZero(1, max_rel + 1);
        for (Index j = 0; j < L; ++j) w.Omega(0, std::min(L - 1 - j, max_rel)) += a(0, j);
        ok.noalias() += w.Omega * rel_v.middleCols(k * dh, dh);
    }
    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        f(prefix + "rel_k", rel_k);
        if (in_value) f(prefix + "rel_v", rel_v);
    }
};

}  // namespace seqrec
