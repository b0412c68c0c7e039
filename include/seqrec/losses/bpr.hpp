/// \file losses/bpr.hpp
/// STOSA's loss on squared 2-Wasserstein distances (MODELS.md 3.15-3.18, B.9):
/// BPR softplus(W(t, y) - W(t, y-)) plus lambda_pvn * max(0, W(t, y) - W_items(y, y-)).
#pragma once

#include <cmath>
#include <vector>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/activations.hpp"

namespace seqrec {

/// Per-thread rows reused across calls (d wide).
template <typename T>
struct BprWorkspace {
    RowVector<T> ss, sc_p, sc_n, gc_p, gc_n;
};

/// mu, sigma (rows x d): the sequence Gaussians; E_mu, E_sigma (N+1 x d): item tables, with item
/// covariance c_i = ELU(E_sigma[i]) + 1. Rows with pos[t] == 0 are skipped. Returns scale * loss;
/// writes dmu, dsigma and adds into *dE_mu, *dE_sigma when given.
template <typename T>
double bpr_pvn_loss(const ConstRef<T>& mu, const ConstRef<T>& sigma, const ConstRef<T>& E_mu,
                    const ConstRef<T>& E_sigma, const ItemId* pos, const ItemId* neg,
                    double lambda_pvn, T scale, Buffer<T>& dmu, Buffer<T>& dsigma, Param<T>* dE_mu,
                    Param<T>* dE_sigma, BprWorkspace<T>& ws) {
    const Index L = mu.rows(), d = mu.cols();
    dmu.setZero(L, d);
    dsigma.setZero(L, d);
    ws.ss.resize(d);
    ws.sc_p.resize(d);
    ws.sc_n.resize(d);
    ws.gc_p.resize(d);
    ws.gc_n.resize(d);
    RowVector<T>&ss = ws.ss, &sc_p = ws.sc_p, &sc_n = ws.sc_n, &gc_p = ws.gc_p, &gc_n = ws.gc_n;
    double loss = 0.0;
    auto sqrt_cov = [&](ItemId i, RowVector<T>& sc, RowVector<T>& dc_de) {
        for (Index k = 0; k < d; ++k) {
            const T e = E_sigma(i, k);
            sc(k) = std::sqrt(elu(e) + T(1));
            dc_de(k) = elu_grad(e);
        }
    };
    for (Index t = 0; t < L; ++t) {
        const ItemId y = pos[t], n = neg[t];
        if (y == 0) continue;
        ss = sigma.row(t).cwiseSqrt();
        sqrt_cov(y, sc_p, gc_p);
        sqrt_cov(n, sc_n, gc_n);
        const T Wp = (mu.row(t) - E_mu.row(y)).squaredNorm() + (ss - sc_p).squaredNorm();
        const T Wn = (mu.row(t) - E_mu.row(n)).squaredNorm() + (ss - sc_n).squaredNorm();
        const T Wi = (E_mu.row(y) - E_mu.row(n)).squaredNorm() + (sc_p - sc_n).squaredNorm();
        const T hinge = Wp - Wi;
        loss += double(softplus(Wp - Wn)) + lambda_pvn * double(hinge > T(0) ? hinge : T(0));
        const T g = sigmoid(Wp - Wn), h = hinge > T(0) ? T(lambda_pvn) : T(0);
        const T gWp = (g + h) * scale, gWn = -g * scale, gWi = -h * scale;
        // (B.9) for W(t, y) and W(t, y-)
        dmu.row(t) +=
            T(2) * gWp * (mu.row(t) - E_mu.row(y)) + T(2) * gWn * (mu.row(t) - E_mu.row(n));
        dsigma.row(t).array() +=
            gWp * (T(1) - sc_p.array() / ss.array()) + gWn * (T(1) - sc_n.array() / ss.array());
        if (!dE_mu) continue;
        dE_mu->row(y) +=
            T(-2) * gWp * (mu.row(t) - E_mu.row(y)) + T(2) * gWi * (E_mu.row(y) - E_mu.row(n));
        dE_mu->row(n) +=
            T(-2) * gWn * (mu.row(t) - E_mu.row(n)) - T(2) * gWi * (E_mu.row(y) - E_mu.row(n));
        // dc = dW * (1 - sqrt(other) / sqrt(c)); de = dc * ELU'(e)
        dE_sigma->row(y).array() += gc_p.array() * (gWp * (T(1) - ss.array() / sc_p.array()) +
                                                    gWi * (T(1) - sc_n.array() / sc_p.array()));
        dE_sigma->row(n).array() += gc_n.array() * (gWn * (T(1) - ss.array() / sc_n.array()) +
                                                    gWi * (T(1) - sc_p.array() / sc_n.array()));
    }
    return loss * double(scale);
}
template <typename T>
double bpr_pvn_loss(const ConstRef<T>& mu, const ConstRef<T>& sigma, const ConstRef<T>& E_mu,
                    const ConstRef<T>& E_sigma, const std::vector<ItemId>& pos,
                    const std::vector<ItemId>& neg, double lambda_pvn, T scale, Buffer<T>& dmu,
                    Buffer<T>& dsigma, Param<T>* dE_mu, Param<T>* dE_sigma, BprWorkspace<T>& ws) {
    return bpr_pvn_loss(mu, sigma, E_mu, E_sigma, pos.data(), neg.data(), lambda_pvn, scale, dmu,
                        dsigma, dE_mu, dE_sigma, ws);
}

}  // namespace seqrec
