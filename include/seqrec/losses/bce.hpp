/// \file losses/bce.hpp
/// Binary cross-entropy with one sampled negative per target position (MODELS.md 1.4, §8.1).
#pragma once

#include <vector>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/activations.hpp"

namespace seqrec {

/// H (rows x d) final representations, E (N+1 x d) output table; row t is scored against pos[t]
/// and neg[t]; rows with pos[t] == 0 are skipped. Returns scale * sum of
/// softplus(-r+) + softplus(r-). Writes dL/dH into dH (L x d) and adds dL/dE into *dE when given.
/// Cost O(L d): two rows per position, never the N-wide score row.
template <typename T>
double bce_loss(const ConstRef<T>& H, const ConstRef<T>& E, const ItemId* pos, const ItemId* neg,
                T scale, Buffer<T>& dH, Param<T>* dE) {
    double loss = 0.0;
    dH.setZero(H.rows(), H.cols());
    for (Index t = 0; t < H.rows(); ++t) {
        if (pos[t] == 0) continue;
        const T rp = H.row(t).dot(E.row(pos[t]));
        const T rn = H.row(t).dot(E.row(neg[t]));
        loss += double(softplus(-rp) + softplus(rn));
        const T gp = (sigmoid(rp) - T(1)) * scale, gn = sigmoid(rn) * scale;
        dH.row(t) = gp * E.row(pos[t]) + gn * E.row(neg[t]);
        if (dE) {
            dE->row(pos[t]) += gp * H.row(t);
            dE->row(neg[t]) += gn * H.row(t);
        }
    }
    return loss * double(scale);
}
template <typename T>
double bce_loss(const ConstRef<T>& H, const ConstRef<T>& E, const std::vector<ItemId>& pos,
                const std::vector<ItemId>& neg, T scale, Buffer<T>& dH, Param<T>* dE) {
    return bce_loss(H, E, pos.data(), neg.data(), scale, dH, dE);
}

}  // namespace seqrec
