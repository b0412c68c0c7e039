/// \file layers/embedding.hpp
/// SASRec's input layer (MODELS.md 1.1): X0_t = Drop(sqrt(d) E[s_t] + P[t]).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/layers/dropout.hpp"

namespace seqrec {

/// E ((N+1) x d, row 0 = padding, kept at 0: it is never looked up in a compact window and gets no
/// gradient), P (n x d) indexed by slot. A compact window of L items occupies slots n-L..n-1.
template <typename T>
struct ItemPositionEmbedding {
    Param<T> E, P;
    double dropout = 0.0;
    bool scale = true;  // multiply E by sqrt(d) (SASRec); the output layer uses unscaled E
    Index maxlen = 0;
    bool positional = true;  // absolute positions P (RPESA's rpa_abs_pos); off: P is empty

    ItemPositionEmbedding() = default;
    ItemPositionEmbedding(Index num_items, Index n, Index d, double p, bool use_positions = true)
        : E(num_items + 1, d, ParamRole::item_table),
          P(use_positions ? n : 0, d, ParamRole::position_table),
          dropout(p),
          maxlen(n),
          positional(use_positions) {}

    T input_scale() const { return scale ? std::sqrt(T(E.cols())) : T(1); }

    /// ids: L <= n item ids in 1..N (compact window); writes X0 (L x d) and its dropout mask.
    void forward(const std::vector<ItemId>& ids, Buffer<T>& X0, Buffer<T>& mask, Rng* rng) const {
        const Index L = Index(ids.size());
        SEQREC_CHECK(
            L <= maxlen, ShapeError,
            "window of " + std::to_string(L) + " items exceeds maxlen " + std::to_string(maxlen));
        const T c = input_scale();
        X0.resize(L, E.cols());
        for (Index t = 0; t < L; ++t) X0.row(t) = c * E.row(ids[t]);
        if (positional) X0 += P.bottomRows(L);  // slots n-L..n-1
        dropout_forward(X0, mask, dropout, rng);
    }
    /// From dL/dX0: scatter-adds into grad.E and grad.P. `scratch` holds the masked gradient
    /// (dropout on), rounded once as the forward's product was.
    void backward(const ConstRef<T>& dX0, const std::vector<ItemId>& ids, const Buffer<T>& mask,
                  ItemPositionEmbedding& grad, Buffer<T>& scratch) const {
        const Index L = Index(ids.size());
        const T c = input_scale();
        auto scatter = [&](const auto& g) {
            for (Index t = 0; t < L; ++t) grad.E.row(ids[t]) += c * g.row(t);
            if (positional) grad.P.bottomRows(L) += g;
        };
        if (mask.size()) {
            scratch = dX0.cwiseProduct(mask);
            scatter(scratch);
        } else {
            scatter(dX0);
        }
    }
    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        f(prefix + "item", E);
        if (positional) f(prefix + "position", P);
    }
};

}  // namespace seqrec
