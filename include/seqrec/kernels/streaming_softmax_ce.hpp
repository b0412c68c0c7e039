/// \file kernels/streaming_softmax_ce.hpp
/// Softmax cross-entropy of many rows against every item of a catalogue without all the logits in
/// memory (design/PERF-NOTES.md §3, after Wijmans et al. 2024, "Cut Your Losses"): the engine of
/// full-softmax CE (one-hot targets) and of TED/CAD distillation (teacher distributions).
///
/// Rows go in fixed blocks of `row_block`, items in fixed chunks of `item_chunk`; only one
/// block x chunk of logits is computed at a time (it fits L2), while every product has hundreds of
/// rows. Pass 1 keeps each row's max and sum of exponentials per chunk and combines them in chunk
/// order into the log-sum-exp; pass 2 forms the gradient on the chunk's logits and adds dU and dE
/// with one GEMM each. Pass 2 reads the logits pass 1 kept when a row block's fit in
/// `keep_bytes` (on Yelp 20 MiB per thread, held in L3), and recomputes them otherwise (a large
/// catalogue): the same bits either way, a quarter fewer products when kept. The partition never
/// depends on the thread count, and every sum runs in chunk order, so results are the same bits
/// however the caller threads its work.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/error.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/gemm.hpp"

namespace seqrec {

struct SoftmaxChunks {
    Index row_block = 256;    ///< rows of U per block
    Index item_chunk = 1024;  ///< items per chunk: row_block x item_chunk floats stay in L2
    /// Pass 2 reuses pass 1's logits when a row block's (rows x catalogue) fit in this many bytes.
    std::size_t keep_bytes = std::size_t(32) << 20;

    void check() const {
        SEQREC_CHECK(row_block >= 1 && item_chunk >= 1, ConfigError,
                     "row_block and item_chunk must be >= 1");
    }
};

/// Reusable buffers: one block x chunk of logits (or a block's every chunk, when kept) and the
/// per-chunk row statistics.
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
    using Chunk = Eigen::Map<Matrix<T>>;
    for (Index r0 = 0; r0 < R; r0 += o.row_block) {
        const Index m = std::min(o.row_block, R - r0);
        const auto Ub = U.middleRows(r0, m);
        const bool keep = (dU || dE) && std::size_t(m) * std::size_t(N) * sizeof(T) <= o.keep_bytes;
        // A chunk's logits (m x width): its own slot of a block-sized buffer when kept, else the
        // one chunk-sized slot, refilled by each pass.
        if (keep) ws.logits.resize(1, m * N);
        auto chunk_logits = [&](Index lo, Index width, bool compute) {
            if (!keep) ws.logits.resize(1, m * width);
            Chunk z(ws.logits.data() + (keep ? m * lo : 0), m, width);
            if (compute) {
                z.setZero();
                detail::gemm_scale_add(z, Ub, items.middleRows(lo, width).transpose(), s);
            }
            return z;
        };
        ws.chunk_max.resize(m, chunks);
        ws.chunk_sum.resize(m, chunks);
        for (Index c = 0; c < chunks; ++c) {  // pass 1: per-chunk statistics
            const Index lo = c * o.item_chunk, width = std::min(o.item_chunk, N - lo);
            const Chunk logits = chunk_logits(lo, width, true);
            for (Index r = 0; r < m; ++r) {
                const auto z = logits.row(r);
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
            Chunk logits = chunk_logits(lo, width, !keep);
            for (Index r = 0; r < m; ++r) {
                auto g = logits.row(r);
                g.array() = (g.array() - lse(r)).exp() * k;
                target.subtract(r0 + r, lo, k, g);
            }
            if (dU) gemm_add(dU->middleRows(r0, m), logits, items.middleRows(lo, width));
            if (dE) gemm_add(dE->bottomRows(N).middleRows(lo, width), logits.transpose(), Ub);
        }
    }
    return loss;
}

}  // namespace seqrec
