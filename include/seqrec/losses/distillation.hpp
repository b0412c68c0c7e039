/// \file losses/distillation.hpp
/// Transition-aware embedding distillation (TED, MODELS.md §6; CAD, §7.3): a heuristic teacher from
/// the transition graph, a student softmax over item-embedding dot products, soft-label CE.
/// Teacher rows are never dense: p^T = base + sparse corrections (6.5).
#pragma once

#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "seqrec/core/param.hpp"
#include "seqrec/core/rng.hpp"
#include "seqrec/data/transition_graph.hpp"
#include "seqrec/kernels/gemm.hpp"
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
    }
    Index num_items() const { return C_.rows(); }
    double tau() const { return tau_; }
    const TransitionGraph& graph() const { return C_; }

    /// p^T(j | i) for items i, j in 1..N (O(row nnz); for tests and inspection).
    double prob(ItemId i, ItemId j) const {
        const double v = C_.coeff(i - 1, j - 1);
        return (v > 0 ? weight(i - 1, float(v)) : base_) / Z_[std::size_t(i) - 1];
    }

    /// sum_j p^T(j | i) z_j over a row z (item j at z(j-1)), in O(N + nnz) (6.5).
    template <typename Row>
    double expectation(ItemId i, const Row& z) const {
        const double inv = 1.0 / Z_[std::size_t(i) - 1];
        double acc = base_ * double(z.sum());
        for (TransitionGraph::InnerIterator it(C_, i - 1); it; ++it)
            acc += (weight(i - 1, it.value()) - base_) * double(z(it.col()));
        return acc * inv;
    }
    /// g += k * p^T(. | i), without forming a dense teacher row.
    template <typename Row>
    void add_scaled_row(ItemId i, double k, Row&& g) const {
        using S = typename std::decay_t<Row>::Scalar;
        const double inv = 1.0 / Z_[std::size_t(i) - 1];
        g.array() += S(k * base_ * inv);
        for (TransitionGraph::InnerIterator it(C_, i - 1); it; ++it)
            g(it.col()) += S(k * (weight(i - 1, it.value()) - base_) * inv);
    }

private:
    double weight(Index row, float count) const {
        const double c = double(count) / (rowmax_[std::size_t(row)] + 1e-24);  // (6.2)
        return std::exp((c - 1.0) / tau_);
    }
    TransitionGraph C_;
    double tau_ = 0.1, base_ = 0.0;
    std::vector<double> Z_, rowmax_;
};

/// Reusable buffers for `distillation_loss`.
template <typename T>
struct DistillationWorkspace {
    Buffer<T> U, logits, dU, mask;
};

/// Distillation loss of the heads `ids` (the non-padding input items of one window), times `scale`
/// (= 1 / heads in the batch). u_h = Drop(sqrt(d) E[i_h]) with its own mask drawn from `rng`;
/// z_hj = u_h . E[j]; loss = lambda * sum_h CE(p^T(.|i_h), softmax(z_h / tau)) (6.4)-(6.6).
/// Adds dL/dE into *dE (B.15). Cost O(|ids| N d), like the CE output layer.
template <typename T>
double distillation_loss(const ConstRef<T>& E, const std::vector<ItemId>& ids,
                         const TransitionTeacher& teacher, const DistillationOptions& o,
                         double dropout, T scale, Param<T>* dE, DistillationWorkspace<T>& ws,
                         Rng* rng) {
    const Index N = E.rows() - 1, d = E.cols(), H = Index(ids.size());
    if (H == 0 || o.lambda == 0.0) return 0.0;
    const auto items = E.bottomRows(N);
    const T c = std::sqrt(T(d)), inv_tau = T(1.0 / o.tau);
    ws.U.resize(H, d);
    for (Index h = 0; h < H; ++h) ws.U.row(h) = c * E.row(ids[std::size_t(h)]);
    dropout_forward(ws.U, ws.mask, dropout, rng);
    ws.logits.resize(H, N);
    gemm_assign(ws.logits, ws.U, items.transpose());  // z (H x N)
    double loss = 0.0;
    const double k = o.lambda * double(scale);
    for (Index h = 0; h < H; ++h) {
        auto z = ws.logits.row(h);
        const ItemId i = ids[std::size_t(h)];
        const double teacher_dot = teacher.expectation(i, z);  // before z is overwritten
        const T mx = z.maxCoeff();
        z.array() = ((z.array() - mx) * inv_tau).exp();
        const double sum = double(z.sum());
        // -sum_j p^T_j log p^S_j = logsumexp(z / tau) - sum_j p^T_j z_j / tau
        loss += std::log(sum) + double(mx) * double(inv_tau) - teacher_dot * double(inv_tau);
        // dz = k (p^S - p^T) / tau   (B.15)
        z *= T(k / o.tau / sum);
        teacher.add_scaled_row(i, -k / o.tau, z);
    }
    if (dE) {
        ws.dU.resize(H, d);
        gemm_assign(ws.dU, ws.logits, items);
        gemm_add(dE->bottomRows(N), ws.logits.transpose(), ws.U);
        dropout_backward(ws.dU, ws.mask);
        for (Index h = 0; h < H; ++h) dE->row(ids[std::size_t(h)]) += c * ws.dU.row(h);
    }
    return loss * k;
}

}  // namespace seqrec
