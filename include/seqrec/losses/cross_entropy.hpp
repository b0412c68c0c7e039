/// \file losses/cross_entropy.hpp
/// Full-softmax cross-entropy over all items 1..N at every target row (MODELS.md 1.5), on packed
/// rows: the rows of many windows go in together, so the products with the item table have
/// hundreds of rows, and the logits exist for one row block at most (one block x chunk when a
/// block's would pass SoftmaxChunks::keep_bytes; kernels/streaming_softmax_ce.hpp).
#pragma once

#include <vector>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/error.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/streaming_softmax_ce.hpp"

namespace seqrec {

/// One-hot targets for streaming_softmax_ce: row r's target is item targets[r] in 1..N.
struct OneHotTargets {
    const ItemId* targets;
    template <typename Row>
    double dot(Index r, Index lo, const Row& z) const {
        const Index j = Index(targets[r]) - 1 - lo;
        return j >= 0 && j < z.size() ? double(z(j)) : 0.0;
    }
    template <typename Row, typename T>
    void subtract(Index r, Index lo, T k, Row&& g) const {
        const Index j = Index(targets[r]) - 1 - lo;
        if (j >= 0 && j < g.size()) g(j) -= k;
    }
};

template <typename T>
using CrossEntropyWorkspace = SoftmaxWorkspace<T>;

/// H (R x d) packed rows, E (N+1 x d); row r's target pos[r] is in 1..N (the padding column 0 is
/// not a candidate, MODELS.md I9). Returns scale * sum of (logsumexp - r_y); writes dL/dH into dH
/// and adds dL/dE into *dE when given. `chunks`: the fixed row blocks and item chunks.
template <typename T>
double cross_entropy_loss(const ConstRef<T>& H, const ConstRef<T>& E,
                          const std::vector<ItemId>& pos, T scale, Buffer<T>& dH, Param<T>* dE,
                          CrossEntropyWorkspace<T>& ws, const SoftmaxChunks& chunks = {}) {
    const Index N = E.rows() - 1;
    SEQREC_CHECK(Index(pos.size()) == H.rows(), ShapeError,
                 "cross_entropy_loss: one target per row of H");
    for (ItemId y : pos)
        SEQREC_CHECK(y >= 1 && Index(y) <= N, ShapeError,
                     "cross_entropy_loss: a target is outside 1..num_items");
    dH.setZero(H.rows(), H.cols());
    const double loss =
        streaming_softmax_ce<T>(H, E, T(1), OneHotTargets{pos.data()}, scale, &dH, dE, ws, chunks);
    return loss * double(scale);
}

}  // namespace seqrec
