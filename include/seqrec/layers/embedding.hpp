/// \file layers/embedding.hpp
/// SASRec's input layer (MODELS.md 1.1): X0_t = Drop(sqrt(d) E[s_t] + P[t]).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/pack.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/packed_lookup.hpp"
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

    /// ids: the packed windows' item ids in 1..N, each window compact (L <= n, its slots
    /// n-L..n-1); writes X0 (rows x d) and its dropout mask (one draw of rng for the pack).
    void forward(const ItemId* ids, PackRows pack, Buffer<T>& X0, Buffer<T>& mask, Rng* rng) const {
        packed_lookup(E, positional ? &P : nullptr, input_scale(), maxlen, ids, pack, X0);
        dropout_forward(X0, mask, dropout, rng);
    }
    void forward(const std::vector<ItemId>& ids, Buffer<T>& X0, Buffer<T>& mask, Rng* rng) const {
        forward(ids.data(), OneWindow(Index(ids.size())), X0, mask, rng);
    }
    /// From dL/dX0: scatter-adds into grad.E and grad.P. `scratch` holds the masked gradient
    /// (dropout on), rounded once as the forward's product was.
    void backward(const ConstRef<T>& dX0, const ItemId* ids, PackRows pack, const Buffer<T>& mask,
                  ItemPositionEmbedding& grad, Buffer<T>& scratch) const {
        auto scatter = [&](const auto& g) {
            packed_lookup_backward(g, input_scale(), ids, pack, grad.E,
                                   positional ? &grad.P : nullptr);
        };
        if (mask.size()) {
            scratch = dX0.cwiseProduct(mask);
            scatter(scratch);
        } else {
            scatter(dX0);
        }
    }
    void backward(const ConstRef<T>& dX0, const std::vector<ItemId>& ids, const Buffer<T>& mask,
                  ItemPositionEmbedding& grad, Buffer<T>& scratch) const {
        backward(dX0, ids.data(), OneWindow(Index(ids.size())), mask, grad, scratch);
    }
    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        f(prefix + "item", E);
        if (positional) f(prefix + "position", P);
    }
};

}  // namespace seqrec
