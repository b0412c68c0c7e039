/// \file layers/attention_weights.hpp
/// The weight stage every causal attention shares (MODELS.md 2.4, 4.1; B.2, B.10-B.13):
/// scores S -> A = softmax_causal(S) -> R = Refine(A) (AWRSR, when on) -> Ã = Drop(R).
/// A score rule (dot product, relative positions, Wasserstein distance) writes S; the
/// aggregation reads Ã; this stage is written once for all of them.
#pragma once

#include <utility>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/rng.hpp"
#include "seqrec/kernels/causal_softmax.hpp"
#include "seqrec/layers/attention_refinement.hpp"
#include "seqrec/layers/dropout.hpp"

namespace seqrec {

/// What forward saved for one head of one window (all L x L, upper triangles 0).
template <typename T>
struct AttentionWeights {
    Buffer<T> probs;    ///< A; forward reads the scores S from here (lower triangle)
    Buffer<T> refined;  ///< R, when a refinement is on
    Buffer<T> mask;     ///< dropout mask on the weights; empty when off
    Buffer<T> applied;  ///< Ã when a mask applies
    typename AttentionRefinement<T>::Cache refine;

    /// S (in `probs`) -> A in place, then R and the mask. Returns Ã.
    const Buffer<T>& forward(const AttentionRefinement<T>& r, double p, Rng* rng) {
        causal_softmax(probs);
        const Buffer<T>* w = &probs;
        if (r.enabled()) {  // (4.1): R replaces A before dropout
            r.forward(probs, refined, refine);
            w = &refined;
        }
        if (rng && p > 0.0) {
            draw_dropout_mask(mask, probs.rows(), probs.cols(), p, *rng, true);
            applied = w->cwiseProduct(mask);
            return applied;
        }
        mask.resize(0, 0);
        return *w;
    }

    /// Ã as forward returned it (forward saved it: recomputing R * mask here was a full L x L
    /// pass per head, a quarter of the block backward's own time on ml-1m).
    const Buffer<T>& weights(const AttentionRefinement<T>& r) const {
        if (mask.size()) return applied;
        return r.enabled() ? refined : probs;
    }

    /// G = dL/dÃ (lower triangle) -> dL/dS in G; ADDS the refinement's parameter gradients.
    void backward(const AttentionRefinement<T>& r, Buffer<T>& G, AttentionRefinement<T>& grad,
                  Buffer<T>& scratch) {
        if (mask.size()) G.array() *= mask.array();
        if (r.enabled()) {  // dR -> dA (B.10)-(B.13)
            r.backward(probs, refined, G, refine, grad, scratch);
            std::swap(G, scratch);
        }
        causal_softmax_backward(probs, G);  // (B.2)
    }
};

}  // namespace seqrec
