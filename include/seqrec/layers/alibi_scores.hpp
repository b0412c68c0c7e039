/// \file layers/alibi_scores.hpp
/// ALiBi-style linear position bias (Press et al. 2022, "Train short, test long"): head k adds
/// -m_k (t - j) to the score of key j for query t, penalising distance linearly. Not in the
/// papers seqrec reproduces; an option on SASRec-family attention. Here the slopes are learned,
/// starting at ALiBi's fixed geometric sequence m_k = 2^(-8 (k+1) / h) (for any head count h).
#pragma once

#include <cmath>
#include <string>

#include "seqrec/core/param.hpp"
#include "seqrec/layers/score_policy.hpp"

namespace seqrec {

template <typename T>
struct AlibiScores {
    Param<T> slopes;  ///< m (1 x heads), role preset: init() keeps the geometric start

    AlibiScores() = default;
    explicit AlibiScores(Index heads) : slopes(1, heads, ParamRole::preset) {
        for (Index k = 0; k < heads; ++k)
            slopes(0, k) = T(std::pow(2.0, -8.0 * double(k + 1) / double(heads)));
    }

    template <class Q>
    void add_scores(const Q&, Index k, Index, T, Buffer<T>& S, ScoreScratch<T>&) const {
        const T m = slopes(0, k);
        for (Index t = 0; t < S.rows(); ++t)
            for (Index j = 0; j <= t; ++j) S(t, j) -= m * T(t - j);
    }
    template <class O>
    void add_values(const Buffer<T>&, Index, Index, O&&, ScoreScratch<T>&) const {}
    template <class D>
    void backward_values(const Buffer<T>&, const D&, Index, Index, Buffer<T>&, AlibiScores&,
                         ScoreScratch<T>&) const {}
    /// dm_k = -sum_{j <= t} dS_tj (t - j); sG holds s dS.
    template <class Q, class D>
    void backward_scores(const Buffer<T>& sG, T s, const Q&, Index k, Index, D&&, AlibiScores& grad,
                         ScoreScratch<T>&) const {
        T acc = T(0);
        for (Index t = 0; t < sG.rows(); ++t)
            for (Index j = 0; j < t; ++j) acc += sG(t, j) * T(t - j);
        grad.slopes(0, k) -= acc / s;
    }
    template <class Q>
    void add_last_scores(const Q&, Index k, Index, T, Buffer<T>& a, ScoreScratch<T>&) const {
        const T m = slopes(0, k);
        const Index L = a.cols();
        for (Index j = 0; j < L; ++j) a(0, j) -= m * T(L - 1 - j);
    }
    template <class O>
    void add_last_values(const Buffer<T>&, Index, Index, O&&, ScoreScratch<T>&) const {}
    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        f(prefix + "alibi_slopes", slopes);
    }
};

}  // namespace seqrec
