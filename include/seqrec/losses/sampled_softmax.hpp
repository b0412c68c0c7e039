/// \file losses/sampled_softmax.hpp
/// Sampled-softmax cross-entropy for catalogues too large for full CE (Jean et al. 2015; Bengio
/// and Senecal 2008): every row is scored against its target and K negatives shared by the
/// batch, instead of all N items, so a step costs O(R K d) instead of O(R N d).
///
/// Logits are corrected by -log Q(i), Q(i) = K q(i) the expected number of draws of item i (the
/// log-Q correction, on the target and the negatives alike, as TensorFlow's
/// sampled_softmax_loss does): without it, popularity sampling would train the model to
/// under-score popular items. With uniform sampling the correction is one constant and cancels.
/// A negative equal to a row's target is left out of that row (it would push the target away
/// from itself); draws are with replacement, so a repeated negative counts as often as drawn.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/error.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/core/rng.hpp"
#include "seqrec/kernels/gemm.hpp"

namespace seqrec {

enum class NegativeSampler { uniform, popularity };

inline NegativeSampler parse_negative_sampler(const std::string& s) {
    if (s == "uniform") return NegativeSampler::uniform;
    if (s == "popularity") return NegativeSampler::popularity;
    throw ConfigError("sampler must be uniform or popularity, got '" + s + "'");
}
inline const char* to_string(NegativeSampler s) {
    return s == NegativeSampler::uniform ? "uniform" : "popularity";
}

/// The distribution of the shared negatives and its log Q.
class NegativeSampling {
public:
    NegativeSampling() = default;
    /// `counts[i]`: training interactions of item i (entry 0 unused, size N+1). Popularity is
    /// proportional to count + 1, so an item seen only in validation can still be drawn and its
    /// log Q stays finite.
    NegativeSampling(NegativeSampler kind, Index negatives, const std::vector<Index>& counts)
        : k_(negatives) {
        SEQREC_CHECK(negatives >= 1, ConfigError,
                     "negatives must be >= 1, got " + std::to_string(negatives));
        const Index N = Index(counts.size()) - 1;
        SEQREC_CHECK(N >= 1, ConfigError, "negative sampling needs at least one item");
        log_q_.assign(std::size_t(N) + 1, 0.0);
        if (kind == NegativeSampler::uniform) {
            std::fill(log_q_.begin() + 1, log_q_.end(), std::log(double(negatives) / double(N)));
            return;
        }
        cumulative_.assign(std::size_t(N), 0.0);
        double total = 0.0;
        for (Index i = 1; i <= N; ++i) {
            total += double(counts[std::size_t(i)]) + 1.0;
            cumulative_[std::size_t(i) - 1] = total;
        }
        for (Index i = 1; i <= N; ++i)
            log_q_[std::size_t(i)] =
                std::log(double(negatives) * (double(counts[std::size_t(i)]) + 1.0) / total);
    }

    Index negatives() const { return k_; }
    Index num_items() const { return Index(log_q_.size()) - 1; }
    /// log(K q(i)) for i in 1..N.
    const std::vector<double>& log_q() const { return log_q_; }

    /// K draws with replacement into `out`.
    void draw(Rng& rng, std::vector<ItemId>& out) const {
        out.resize(std::size_t(k_));
        const Index N = num_items();
        for (auto& item : out) {
            if (cumulative_.empty()) {
                item = ItemId(1 + rng.below(std::uint64_t(N)));
            } else {
                const double u = rng.uniform() * cumulative_.back();
                const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
                item = ItemId(1 + std::min<Index>(Index(it - cumulative_.begin()), N - 1));
            }
        }
    }

private:
    Index k_ = 0;
    std::vector<double> cumulative_;  // popularity only
    std::vector<double> log_q_;
};

template <typename T>
struct SampledSoftmaxWorkspace {
    Buffer<T> En, logits, dEn;  // gathered negatives (K x d), logits / gradient (R x K), G^T H
    Buffer<T> target_grad;      // per row: dL/dz of the target (R x 1)
};

/// H (R x d) packed rows, E (N+1 x d); row r's target pos[r] in 1..N, negatives `neg` (K ids in
/// 1..N) shared by every row, log_q (N+1) from NegativeSampling. Returns scale * sum over rows
/// of (logsumexp over {target} + negatives of z - z_target), z_i = H_r . E_i - log_q[i]. Writes
/// dL/dH into dH and ADDS dL/dE into *dE when given.
template <typename T>
double sampled_softmax_loss(const ConstRef<T>& H, const ConstRef<T>& E,
                            const std::vector<ItemId>& pos, const std::vector<ItemId>& neg,
                            const std::vector<double>& log_q, T scale, Buffer<T>& dH, Param<T>* dE,
                            SampledSoftmaxWorkspace<T>& ws) {
    const Index R = H.rows(), d = H.cols(), K = Index(neg.size()), N = E.rows() - 1;
    SEQREC_CHECK(Index(pos.size()) == R, ShapeError,
                 "sampled_softmax_loss: one target per row of H");
    SEQREC_CHECK(K >= 1 && Index(log_q.size()) == N + 1, ShapeError,
                 "sampled_softmax_loss: needs negatives and log_q over 0..N");
    for (ItemId y : pos)
        SEQREC_CHECK(y >= 1 && Index(y) <= N, ShapeError,
                     "sampled_softmax_loss: a target is outside 1..num_items");
    for (ItemId y : neg)
        SEQREC_CHECK(y >= 1 && Index(y) <= N, ShapeError,
                     "sampled_softmax_loss: a negative is outside 1..num_items");
    ws.En.resize(K, d);
    for (Index j = 0; j < K; ++j) ws.En.row(j) = E.row(neg[std::size_t(j)]);
    ws.logits.resize(R, K);
    gemm_assign(ws.logits, H, ws.En.transpose());
    ws.target_grad.resize(R, 1);
    double loss = 0.0;
    for (Index r = 0; r < R; ++r) {  // row by row: these loops vectorise, broadcasts do not
        const ItemId y = pos[std::size_t(r)];
        const T zt = H.row(r).dot(E.row(y)) - T(log_q[std::size_t(y)]);
        T* z = &ws.logits(r, 0);
        T top = zt;
        for (Index j = 0; j < K; ++j) {
            const ItemId n = neg[std::size_t(j)];
            z[j] = n == y ? -std::numeric_limits<T>::infinity() : z[j] - T(log_q[std::size_t(n)]);
            top = std::max(top, z[j]);
        }
        T sum = std::exp(zt - top);
        for (Index j = 0; j < K; ++j) sum += std::exp(z[j] - top);
        const T lse = top + std::log(sum);
        loss += double(lse - zt);
        for (Index j = 0; j < K; ++j) z[j] = std::exp(z[j] - lse) * scale;  // dL/dz_j
        ws.target_grad(r, 0) = (std::exp(zt - lse) - T(1)) * scale;
    }
    dH.resize(R, d);
    gemm_assign(dH, ws.logits, ws.En);
    for (Index r = 0; r < R; ++r) dH.row(r) += ws.target_grad(r, 0) * E.row(pos[std::size_t(r)]);
    if (dE) {
        ws.dEn.resize(K, d);
        gemm_assign(ws.dEn, ws.logits.transpose(), H);
        for (Index j = 0; j < K; ++j) dE->row(neg[std::size_t(j)]) += ws.dEn.row(j);
        for (Index r = 0; r < R; ++r)
            dE->row(pos[std::size_t(r)]) += ws.target_grad(r, 0) * H.row(r);
    }
    return loss * double(scale);
}

}  // namespace seqrec
