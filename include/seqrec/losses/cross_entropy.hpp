/// \file losses/cross_entropy.hpp
/// Full-softmax cross-entropy over all items 1..N at every target position (MODELS.md 1.5).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/gemm.hpp"

namespace seqrec {

/// Reusable buffers: the N-wide logits of one row chunk, its rows and their gradient.
template <typename T>
struct CrossEntropyWorkspace {
    Buffer<T> logits, rows, drows;
    std::vector<Index> targets;  // rows of H with a target
};

/// H (L x d), E (N+1 x d); targets pos[t] in 1..N (0 = skip row). The padding column 0 is not a
/// candidate (MODELS.md I9). Logits are formed for at most `chunk` rows at a time, so the buffer is
/// chunk x N, never batch x n x N. Returns scale * sum of (logsumexp - r_y); writes dL/dH into dH
/// and adds dL/dE (dense GEMM) into *dE when given.
template <typename T>
double cross_entropy_loss(const ConstRef<T>& H, const ConstRef<T>& E,
                          const std::vector<ItemId>& pos, T scale, Buffer<T>& dH, Param<T>* dE,
                          CrossEntropyWorkspace<T>& ws, Index chunk = 256) {
    const Index N = E.rows() - 1, d = H.cols();
    const auto items = E.bottomRows(N);  // rows 1..N
    dH.setZero(H.rows(), d);
    std::vector<Index>& rows = ws.targets;
    rows.clear();
    for (Index t = 0; t < H.rows(); ++t)
        if (pos[t] != 0) rows.push_back(t);
    double loss = 0.0;
    for (std::size_t start = 0; start < rows.size(); start += std::size_t(chunk)) {
        const Index m = Index(std::min(rows.size() - start, std::size_t(chunk)));
        ws.rows.resize(m, d);
        for (Index r = 0; r < m; ++r) ws.rows.row(r) = H.row(rows[start + r]);
        ws.logits.resize(m, N);
        gemm_assign(ws.logits, ws.rows, items.transpose());  // (m x N)
        for (Index r = 0; r < m; ++r) {
            auto z = ws.logits.row(r);
            const Index y = pos[rows[start + r]] - 1;
            const T mx = z.maxCoeff(), ry = z(y);
            z.array() = (z.array() - mx).exp();
            const T sum = z.sum();
            loss += double(std::log(sum)) + double(mx) - double(ry);
            z *= scale / sum;  // softmax * scale
            z(y) -= scale;     // - onehot * scale
        }
        ws.drows.resize(m, d);
        gemm_assign(ws.drows, ws.logits, items);  // (m x d)
        for (Index r = 0; r < m; ++r) dH.row(rows[start + r]) = ws.drows.row(r);
        if (dE) gemm_add(dE->bottomRows(N), ws.logits.transpose(), ws.rows);
    }
    return loss * double(scale);
}

}  // namespace seqrec
