/// \file losses/distillation.hpp
/// Transition-aware embedding distillation (TED, MODELS.md §6; CAD, §7.3): a heuristic teacher from
/// the transition graph, a student softmax over item-embedding dot products, soft-label CE.
/// Teacher rows are never dense: p^T = base + sparse corrections (6.5).
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "seqrec/core/param.hpp"
#include "seqrec/core/rng.hpp"
#include "seqrec/data/transition_graph.hpp"
#include "seqrec/kernels/streaming_softmax_ce.hpp"
#include "seqrec/layers/dropout.hpp"

namespace seqrec {

struct DistillationOptions {
    double tau = 0.1;     ///< temperature of both softmaxes
    double lambda = 0.1;  ///< weight of the loss (lambda_kd / lambda_cad)
};

/// Heuristic teacher (6.2)-(6.3). For head item i: p^T_j = w_j / Z_i with w_j = exp((c~_ij -
/// 1)/tau) (stabilised; non-successors get base = exp(-1/tau)).
class TransitionTeacher {
public:
    TransitionTeacher() = default;
    TransitionTeacher(TransitionGraph graph, double tau) : C_(std::move(graph)), tau_(tau) {
        SEQREC_CHECK(tau > 0.0, ConfigError, "tau must be > 0");
        const Index N = C_.rows();
        base_ = std::exp(-1.0 / tau);
        Z_.assign(std::size_t(N), 0.0);
        rowmax_.assign(std::size_t(N), 0.0);
        for (Index i = 0; i < N; ++i) {
            double mx = 0.0;
            Index nnz = 0;
            for (TransitionGraph::InnerIterator it(C_, i); it; ++it) {
                mx = std::max(mx, double(it.value()));
                ++nnz;
            }
            rowmax_[std::size_t(i)] = mx;
            double z = double(N - nnz) * base_;
            for (TransitionGraph::InnerIterator it(C_, i); it; ++it) z += weight(i, it.value());
            Z_[std::size_t(i)] = z;
        }
        excess_.resize(std::size_t(C_.nonZeros()));
        for (Index i = 0; i < N; ++i)
            for (auto k = C_.outerIndexPtr()[i]; k < C_.outerIndexPtr()[i + 1]; ++k)
                excess_[std::size_t(k)] = weight(i, C_.valuePtr()[k]) - base_;
    }
    Index num_items() const { return C_.rows(); }
    double tau() const { return tau_; }
    const TransitionGraph& graph() const { return C_; }

    /// p^T(j | i) for items i, j in 1..N (O(row nnz); for tests and inspection).
    double prob(ItemId i, ItemId j) const {
        const double v = C_.coeff(i - 1, j - 1);
        return (v > 0 ? weight(i - 1, float(v)) : base_) / Z_[std::size_t(i) - 1];
    }

    /// sum_j p^T(j | i) z_j over a run of items: z(k) is item lo+k+1 (lo = 0: the whole row),
    /// in O(|z| + successors in the run) (6.5).
    template <typename Row>
    double expectation(ItemId i, const Row& z, Index lo = 0) const {
        double acc = base_ * double(z.sum());
        for_successors(i, lo, z.size(),
                       [&](Index j, double excess) { acc += excess * double(z(j)); });
        return acc / Z_[std::size_t(i) - 1];
    }
    /// g += k * p^T(. | i) over the same run of items, without forming a dense teacher row.
    template <typename Row>
    void add_scaled_row(ItemId i, double k, Row&& g, Index lo = 0) const {
        using S = typename std::decay_t<Row>::Scalar;
        const double inv = 1.0 / Z_[std::size_t(i) - 1];
        g.array() += S(k * base_ * inv);
        for_successors(i, lo, g.size(),
                       [&](Index j, double excess) { g(j) += S(k * excess * inv); });
    }

private:
    /// f(column - lo, w_j - base) for the successors j of item i among items lo+1 .. lo+width;
    /// a binary search finds the first (columns are sorted), so a chunk costs its own successors.
    template <typename F>
    void for_successors(ItemId i, Index lo, Index width, F&& f) const {
        const auto* cols = C_.innerIndexPtr();
        const auto begin = C_.outerIndexPtr()[i - 1], end = C_.outerIndexPtr()[i];
        for (auto k = std::lower_bound(cols + begin, cols + end, lo) - cols; k < end; ++k) {
            const Index j = Index(cols[k]) - lo;
            if (j >= width) break;
            f(j, excess_[std::size_t(k)]);
        }
    }
    double weight(Index row, float count) const {
        const double c = double(count) / (rowmax_[std::size_t(row)] + 1e-24);  // (6.2)
        return std::exp((c - 1.0) / tau_);
    }
    TransitionGraph C_;
    double tau_ = 0.1, base_ = 0.0;
    std::vector<double> Z_, rowmax_, excess_;  // excess_: w_j - base per stored count
};

/// The teacher's rows as targets of streaming_softmax_ce: row r is head item heads[r].
struct TeacherTargets {
    const TransitionTeacher* teacher;
    const ItemId* heads;
    template <typename Row>
    double dot(Index r, Index lo, const Row& z) const {
        return teacher->expectation(heads[r], z, lo);
    }
    template <typename Row, typename T>
    void subtract(Index r, Index lo, T k, Row&& g) const {
        teacher->add_scaled_row(heads[r], -double(k), g, lo);
    }
};

/// The heads of a group of windows, packed: u_h = Drop(sqrt(d) E[i_h]) and their dropout masks.
template <typename T>
struct DistillationWorkspace {
    std::vector<ItemId> heads;
    Buffer<T> U, mask, window_mask, dU;
    SoftmaxWorkspace<T> softmax;

    void clear(Index d) {
        heads.clear();
        U.resize(0, d);
        mask.resize(0, d);
    }
};

/// Appends the heads `ids` (the input items of one window) to the pack, each row
/// u_h = Drop(sqrt(d) E[i_h]) with its mask drawn from `rng` (6.4); rng == nullptr or p == 0: no
/// dropout. Packs are filled either all with dropout or all without.
template <typename T>
void distillation_add_heads(const ConstRef<T>& E, const std::vector<ItemId>& ids, double dropout,
                            Rng* rng, DistillationWorkspace<T>& ws) {
    const Index d = E.cols(), off = ws.U.rows(), n = Index(ids.size());
    const T c = std::sqrt(T(d));
    ws.U.conservative_resize_rows(off + n);
    for (Index h = 0; h < n; ++h) ws.U.row(off + h) = c * E.row(ids[std::size_t(h)]);
    ws.heads.insert(ws.heads.end(), ids.begin(), ids.end());
    auto rows = ws.U.middleRows(off, n);
    dropout_forward(rows, ws.window_mask, dropout, rng);
    if (ws.window_mask.size() == 0) return;  // no dropout: the pack keeps no mask
    ws.mask.conservative_resize_rows(off + n);
    ws.mask.middleRows(off, n) = ws.window_mask;
}

/// Distillation loss of the packed heads, times `scale` (= 1 / heads in the batch):
/// z_hj = u_h . E[j]; loss = lambda * sum_h CE(p^T(.|i_h), softmax(z_h / tau)) (6.4)-(6.6).
/// Adds dL/dE into *dE (B.15), through both the items and the heads. Cost O(heads N d), like the
/// CE output layer, on the same streaming kernel.
template <typename T>
double distillation_loss(const ConstRef<T>& E, const TransitionTeacher& teacher,
                         const DistillationOptions& o, T scale, Param<T>* dE,
                         DistillationWorkspace<T>& ws, const SoftmaxChunks& chunks = {}) {
    const Index d = E.cols(), H = ws.U.rows();
    if (H == 0 || o.lambda == 0.0) return 0.0;
    const T k = T(o.lambda) * scale;
    if (dE) ws.dU.setZero(H, d);
    const double loss =
        streaming_softmax_ce<T>(ws.U, E, T(1.0 / o.tau), TeacherTargets{&teacher, ws.heads.data()},
                                k, dE ? &ws.dU : nullptr, dE, ws.softmax, chunks);
    if (dE) {
        dropout_backward(ws.dU, ws.mask);
        const T c = std::sqrt(T(d));
        for (Index h = 0; h < H; ++h) dE->row(ws.heads[std::size_t(h)]) += c * ws.dU.row(h);
    }
    return loss * double(k);
}

}  // namespace seqrec
