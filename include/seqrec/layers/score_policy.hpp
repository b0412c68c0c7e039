/// \file layers/score_policy.hpp
/// The score-policy concept of causal dot-product attention (layers/multi_head_attention.hpp).
/// Attention always scores s Q_k K_k^T (s = 1/sqrt(dh)); a policy adds its own terms to the
/// scores and, optionally, to the aggregated values. Per head k (columns k*dh..(k+1)*dh-1):
///
///   void add_scores(Qk, k, dh, s, S, scratch) const;       S lower triangle += score term
///   void add_values(W, k, dh, Ok, scratch) const;          Ok += value term of the weights W = Ã
///   void backward_values(W, dOk, k, dh, G, grad, scratch) const;
///                                                          G (dL/dÃ) += ..., grad += its params'
///   void backward_scores(sG, s, Qk, k, dh, dQk, grad, scratch) const;
///                                                          sG = s dL/dS; dQk += ..., grad += ...
///   void add_last_scores(qk, k, dh, s, a, scratch) const;  a (1 x L): the last row of the scores
///   void add_last_values(a, k, dh, ok, scratch) const;
///   template <class F> void for_each_param(prefix, f);
///
/// Every backward ADDS. Policies are listed in layers/attention_scores.hpp.
#pragma once

#include "seqrec/core/buffer.hpp"

namespace seqrec {

/// Reusable per-thread buffers a policy may use (contents are not kept between calls).
template <typename T>
struct ScoreScratch {
    Buffer<T> G, Omega, dG;
};

}  // namespace seqrec
