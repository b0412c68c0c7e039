/// \file kernels/streaming_softmax_ce.hpp
/// Softmax cross-entropy of many rows against every item of a catalogue without the logits in
/// memory (design/PERF-NOTES.md §3, after Wijmans et al. 2024, "Cut Your Losses"): the engine of
/// full-softmax CE (one-hot targets) and of TED/CAD distillation (teacher distributions).
///
/// Rows go in fixed blocks of `row_block`, items in fixed chunks of `item_chunk`; only one
/// block x chunk of logits exists at a time (it fits L2), while every product has hundreds of
/// rows. Pass 1 keeps each row's max and sum of exponentials per chunk and combines them in chunk
/// order into the log-sum-exp; pass 2 recomputes the chunk's logits, forms the gradient there and
/// adds dU and dE with one GEMM each. The partition never depends on the thread count, and every
/// sum runs in chunk order, so results are the same bits however the caller threads its work.
#pragma once

#include <algorithm>
#include <cmath>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/error.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/gemm.hpp"

namespace seqrec {

struct SoftmaxChunks {
    Index row_block = 256;    ///< rows of U per block
    Index item_chunk = 1024;  ///< items per chunk: row_block x item_chunk floats stay in L2

    void check() const {
        SEQREC_CHECK(row_block >= 1 && item_chunk >= 1, ConfigError,
                     "row_block and item_chunk must be >= 1");
    }
};

/// Reusable buffers: one block x chunk of logits and the per-chunk row statistics.
template <typename T>
struct SoftmaxWorkspace {
    Buffer<T> logits, chunk_max, chunk_sum, lse;
};

/// U (R x d) rows; E (N+1 x d) with row 0 the padding, never a candidate: z_rj = s U_r . E_j for
/// j = 1..N. `target` gives each row's distribution p_r over the items, seen one chunk at a time:
///   double dot(r, lo, z)       sum over the chunk of p_rj z_j (z holds items lo+1 .. lo+z.size())
///   void subtract(r, lo, k, g) g_j -= k p_rj over the same chunk
/// Returns sum_r (logsumexp_j z_rj - sum_j p_rj z_rj) (p sums to 1 per row). With dU: ADDS
/// w dL/dU into it (R x d); with dE: ADDS w dL/dE. dL/dz_rj = s (softmax_rj - p_rj).
template <typename T, typename Target>
double streaming_softmax_ce(const ConstRef<T>& U, const ConstRef<T>& E, T s, const Target& target,
                            T w, Buffer<T>* dU, Param<T>* dE, SoftmaxWorkspace<T>& ws,
                            const SoftmaxChunks& o = {}) {
    o.check();
    const Index R = U.rows(), N = E.rows() - 1;
    const Index chunks = (N + o.item_chunk - 1) / o.item_chunk;
    const auto items = E.bottomRows(N);
    double loss = 0.0;
    auto logits_of = [&](const auto& Ub, Index lo, Index width) {
        ws.logits.resize(Ub.rows(), width);
        ws.logits.setZero();
        detail::gemm_scale_add(detail::eigen_view(ws.logits), Ub,
                               items.middleRows(lo, width).transpose(), s);
    };
    for (Index r0 = 0; r0 < R; r0 += o.row_block) {
        const Index m = std::min(o.row_block, R - r0);
        const auto Ub = U.middleRows(r0, m);
        ws.chunk_max.resize(m, chunks);
        ws.chunk_sum.resize(m, chunks);
        for (Index c = 0; c < chunks; ++c) {  // pass 1: per-chunk statistics
            const Index lo = c * o.item_chunk, width = std::min(o.item_chunk, N - lo);
            logits_of(Ub, lo, width);
            for (Index r = 0; r < m; ++r) {
                const auto z = ws.logits.row(r);
                const T mx = z.maxCoeff();
                ws.chunk_max(r, c) = mx;
                ws.chunk_sum(r, c) = (z.array() - mx).exp().sum();
                loss -= target.dot(r0 + r, lo, z);
            }
        }
        auto lse = ws.lse.vector(m);
        for (Index r = 0; r < m; ++r) {  // combine in chunk order
            const auto mx = ws.chunk_max.row(r);
            const T top = mx.maxCoeff();
            T sum = T(0);
            for (Index c = 0; c < chunks; ++c) sum += ws.chunk_sum(r, c) * std::exp(mx(c) - top);
            lse(r) = top + std::log(sum);
            loss += double(lse(r));
        }
        if (!dU && !dE) continue;
        const T k = w * s;
        for (Index c = 0; c < chunks; ++c) {  // pass 2: gradients, chunk by chunk
            const Index lo = c * o.item_chunk, width = std::min(o.item_chunk, N - lo);
            logits_of(Ub, lo, width);
            for (Index r = 0; r < m; ++r) {
                auto g = ws.logits.row(r);
                g.array() = (g.array() - lse(r)).exp() * k;
                target.subtract(r0 + r, lo, k, g);
            }
            if (dU) gemm_add(dU->middleRows(r0, m), ws.logits, items.middleRows(lo, width));
            if (dE) gemm_add(dE->bottomRows(N).middleRows(lo, width), ws.logits.transpose(), Ub);
        }
    }
    return loss;
}

}  // namespace seqrec
