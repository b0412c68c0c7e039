/// \file layers/wasserstein_attention.hpp
/// STOSA's Wasserstein self-attention (MODELS.md 3.3-3.9, B.4-B.8): attention weights are the
/// causal softmax of minus the squared 2-Wasserstein distance between the query and key Gaussians;
/// means aggregate with the weights, covariances with the squared weights. Optional AWRSR
/// refinement of the weights (4.2), M1-M4.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "seqrec/core/pack.hpp"
#include "seqrec/kernels/activations.hpp"
#include "seqrec/kernels/gemm.hpp"
#include "seqrec/layers/attention_weights.hpp"
#include "seqrec/layers/linear.hpp"

namespace seqrec {

/// Shapes: x_mu, x_sigma, C_mu, C_sigma (rows x d), packed compact windows (core/pack.hpp); heads
/// split columns.
template <typename T>
struct WassersteinAttention {
    struct Cache {
        Buffer<T> Qm, Km, Vm, Zq, Zk, Zv, Qs, Ks, Vs;  // projections; Q/K/V sigma = ELU(Z) + 1
        Buffer<T> a, b;                                // sqrt(Q_sigma), sqrt(K_sigma)
        std::vector<AttentionWeights<T>> weights;      // per head: A^k, R^k, dropout mask
        Buffer<T> W, G, H, dA, dQm, dKm, dVm, dQs, dKs, dVs;  // scratch
        Buffer<T> rq, rk;                                     // per-row norms (L x 1)
    };
    Linear<T> q_mu, k_mu, v_mu, q_sigma, k_sigma, v_sigma;
    Index heads = 1;
    double dropout = 0.0;  ///< on the attention weights
    AttentionRefinement<T> refine;

    WassersteinAttention() = default;
    WassersteinAttention(Index d, Index num_heads, double p_attn)
        : q_mu(d, d),
          k_mu(d, d),
          v_mu(d, d),
          q_sigma(d, d),
          k_sigma(d, d),
          v_sigma(d, d),
          heads(num_heads),
          dropout(p_attn) {}

    Index head_dim() const { return q_mu.W.cols() / heads; }

    /// Per window of the pack; the six projections run once over all its rows.
    void forward(const ConstRef<T>& x_mu, const ConstRef<T>& x_sigma, PackRows pack,
                 Buffer<T>& C_mu, Buffer<T>& C_sigma, Cache& c, Rng* rng) const {
        const Index rows = x_mu.rows(), d = x_mu.cols(), dh = head_dim();
        const T s = T(1) / std::sqrt(T(dh));
        auto elu1 = [](T v) { return elu(v) + T(1); };
        q_mu.forward(x_mu, c.Qm);  // (3.3)
        k_mu.forward(x_mu, c.Km);
        v_mu.forward(x_mu, c.Vm);
        q_sigma.forward(x_sigma, c.Zq);  // (3.4)
        k_sigma.forward(x_sigma, c.Zk);
        v_sigma.forward(x_sigma, c.Zv);
        c.Qs = c.Zq.unaryExpr(elu1);
        c.Ks = c.Zk.unaryExpr(elu1);
        c.Vs = c.Zv.unaryExpr(elu1);
        c.a = c.Qs.cwiseSqrt();
        c.b = c.Ks.cwiseSqrt();
        C_mu.resize(rows, d);
        C_sigma.resize(rows, d);
        // Grow only: a smaller pack must not free the weights a larger one will need again.
        if (c.weights.size() < std::size_t(pack.windows * heads))
            c.weights.resize(std::size_t(pack.windows * heads));
        for (Index w = 0; w < pack.windows; ++w)
            for (Index k = 0; k < heads; ++k) {
                const Index o = pack.begin(w), L = pack.length(w);
                const auto cols = [&](auto&& m) { return m.block(o, k * dh, L, dh); };
                // (3.5) expanded: |q|^2 + |k|^2 - 2 q.k + sum Qs + sum Ks - 2 a.b
                auto rq = c.rq.vector(L), rk = c.rk.vector(L);
                rq = cols(c.Qm).rowwise().squaredNorm() + cols(c.Qs).rowwise().sum();
                rk = cols(c.Km).rowwise().squaredNorm() + cols(c.Ks).rowwise().sum();
                AttentionWeights<T>& aw = c.weights[std::size_t(w * heads + k)];
                Buffer<T>& A = aw.probs;
                A.resize(L, L);
                // Both products in full, then summed on the triangle: `tri = P1 + P2` without its
                // heap temporaries. Eigen evaluated P1, P2 column-major; the transposed products
                // into row-major buffers run the same kernel calls, so the sums are bit-identical.
                c.G.resize(L, L);
                c.H.resize(L, L);
                gemm_assign(c.G, cols(c.Km), cols(c.Qm).transpose());  // (Q K^T)^T
                gemm_assign(c.H, cols(c.b), cols(c.a).transpose());    // (a b^T)^T
                A.template triangularView<Eigen::Lower>() = (c.G + c.H).transpose();
                for (Index t = 0; t < L; ++t)
                    for (Index j = 0; j <= t; ++j) A(t, j) = -s * (rq(t) + rk(j) - T(2) * A(t, j));
                const Buffer<T>& W = aw.forward(refine, dropout, rng);  // (3.6)-(3.7)
                trmm_assign(cols(C_mu), W.template triangularView<Eigen::Lower>(),
                            cols(c.Vm));  // (3.8)
                c.W = W.array().square();
                trmm_assign(cols(C_sigma), c.W.template triangularView<Eigen::Lower>(),
                            cols(c.Vs));  // (3.9)
            }
    }
    void forward(const ConstRef<T>& x_mu, const ConstRef<T>& x_sigma, Buffer<T>& C_mu,
                 Buffer<T>& C_sigma, Cache& c, Rng* rng) const {
        forward(x_mu, x_sigma, OneWindow(x_mu.rows()), C_mu, C_sigma, c, rng);
    }

    /// (B.4)-(B.8). dC_mu, dC_sigma given; ADDS dL/dx_mu, dL/dx_sigma (sized rows x d).
    void backward(const ConstRef<T>& dC_mu, const ConstRef<T>& dC_sigma, const ConstRef<T>& x_mu,
                  const ConstRef<T>& x_sigma, PackRows pack, Cache& c, WassersteinAttention& grad,
                  Buffer<T>& dx_mu, Buffer<T>& dx_sigma) const {
        const Index rows = x_mu.rows(), d = x_mu.cols(), dh = head_dim();
        const T s = T(1) / std::sqrt(T(dh));
        c.dQm.resize(rows, d);
        c.dKm.resize(rows, d);
        c.dVm.resize(rows, d);
        c.dQs.resize(rows, d);
        c.dKs.resize(rows, d);
        c.dVs.resize(rows, d);
        for (Index w = 0; w < pack.windows; ++w)
            for (Index k = 0; k < heads; ++k) {
                const Index o = pack.begin(w), L = pack.length(w);
                const auto cols = [&](auto&& m) { return m.block(o, k * dh, L, dh); };
                AttentionWeights<T>& aw = c.weights[std::size_t(w * heads + k)];
                const Buffer<T>& W = aw.weights(refine);  // Ã
                // (B.8) dV_mu = Ã^T dC_mu; dV_sigma = (Ã*Ã)^T dC_sigma
                trmm_assign(cols(c.dVm), W.template triangularView<Eigen::Lower>().transpose(),
                            cols(dC_mu));
                c.H = W.array().square();
                trmm_assign(cols(c.dVs), c.H.template triangularView<Eigen::Lower>().transpose(),
                            cols(dC_sigma));
                // dÃ = dC_mu V_mu^T + 2 Ã * (dC_sigma V_sigma^T)
                c.G.resize(L, L);
                c.H.resize(L, L);
                lower_product_assign(c.G, cols(dC_mu), cols(c.Vm).transpose());
                lower_product_assign(c.H, cols(dC_sigma), cols(c.Vs).transpose());
                for (Index t = 0; t < L; ++t)
                    for (Index j = 0; j <= t; ++j) c.G(t, j) += T(2) * W(t, j) * c.H(t, j);
                aw.backward(refine, c.G, grad.refine, c.dA);  // dS
                c.G *= -s;  // dD = -s dS (zero above the diagonal)
                auto rho = c.rq.vector(L), kappa = c.rk.vector(L);
                rho = c.G.rowwise().sum();
                kappa = c.G.colwise().sum().transpose();
                // (B.4)-(B.7) with dD = G: dQ_mu = 2 (rho * Q_mu - dD K_mu), dK_mu = 2 (kappa *
                // K_mu - dD^T Q_mu), dQ_sigma = rho 1^T - (dD b) / a, dK_sigma = kappa 1^T - (dD^T
                // a) / b.
                auto lower = c.G.template triangularView<Eigen::Lower>();
                auto dqm = cols(c.dQm);
                auto dkm = cols(c.dKm);
                auto dqs = cols(c.dQs);
                auto dks = cols(c.dKs);
                trmm_assign(dqm, lower, cols(c.Km));
                dqm = T(2) * (rho.asDiagonal() * cols(c.Qm) - dqm);
                trmm_assign(dkm, lower.transpose(), cols(c.Qm));
                dkm = T(2) * (kappa.asDiagonal() * cols(c.Km) - dkm);
                trmm_assign(dqs, lower, cols(c.b));
                dqs = (-dqs.array() / cols(c.a).array()).matrix();
                dqs.colwise() += rho;
                trmm_assign(dks, lower.transpose(), cols(c.a));
                dks = (-dks.array() / cols(c.b).array()).matrix();
                dks.colwise() += kappa;
            }
        auto elu_d = [](T v) { return elu_grad(v); };
        c.dQs.array() *= c.Zq.unaryExpr(elu_d).array();
        c.dKs.array() *= c.Zk.unaryExpr(elu_d).array();
        c.dVs.array() *= c.Zv.unaryExpr(elu_d).array();
        q_mu.backward(x_mu, c.dQm, grad.q_mu, &dx_mu);
        k_mu.backward(x_mu, c.dKm, grad.k_mu, &dx_mu);
        v_mu.backward(x_mu, c.dVm, grad.v_mu, &dx_mu);
        q_sigma.backward(x_sigma, c.dQs, grad.q_sigma, &dx_sigma);
        k_sigma.backward(x_sigma, c.dKs, grad.k_sigma, &dx_sigma);
        v_sigma.backward(x_sigma, c.dVs, grad.v_sigma, &dx_sigma);
    }
    void backward(const ConstRef<T>& dC_mu, const ConstRef<T>& dC_sigma, const ConstRef<T>& x_mu,
                  const ConstRef<T>& x_sigma, Cache& c, WassersteinAttention& grad,
                  Buffer<T>& dx_mu, Buffer<T>& dx_sigma) const {
        backward(dC_mu, dC_sigma, x_mu, x_sigma, OneWindow(x_mu.rows()), c, grad, dx_mu, dx_sigma);
    }

    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        q_mu.for_each_param(prefix + "q_mu.", f);
        k_mu.for_each_param(prefix + "k_mu.", f);
        v_mu.for_each_param(prefix + "v_mu.", f);
        q_sigma.for_each_param(prefix + "q_sigma.", f);
        k_sigma.for_each_param(prefix + "k_sigma.", f);
        v_sigma.for_each_param(prefix + "v_sigma.", f);
        refine.for_each_param(prefix + "refine.", f);
    }
};

}  // namespace seqrec
