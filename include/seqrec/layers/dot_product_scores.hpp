/// \file layers/dot_product_scores.hpp
/// SASRec's plain scaled dot product (MODELS.md 2.3): the score policy that adds nothing.
#pragma once

#include <string>

#include "seqrec/layers/score_policy.hpp"

namespace seqrec {

template <typename T>
struct DotProductScores {
    template <class Q>
    void add_scores(const Q&, Index, Index, T, Buffer<T>&, ScoreScratch<T>&) const {}
    template <class O>
    void add_values(const Buffer<T>&, Index, Index, O&&, ScoreScratch<T>&) const {}
    template <class D>
    void backward_values(const Buffer<T>&, const D&, Index, Index, Buffer<T>&, DotProductScores&,
                         ScoreScratch<T>&) const {}
    template <class Q, class D>
    void backward_scores(const Buffer<T>&, T, const Q&, Index, Index, D&&, DotProductScores&,
                         ScoreScratch<T>&) const {}
    template <class Q>
    void add_last_scores(const Q&, Index, Index, T, Buffer<T>&, ScoreScratch<T>&) const {}
    template <class O>
    void add_last_values(const Buffer<T>&, Index, Index, O&&, ScoreScratch<T>&) const {}
    template <typename F>
    void for_each_param(const std::string&, F&&) {}
};

}  // namespace seqrec
