/// \file layers/stochastic_embedding.hpp
/// STOSA's stochastic embedding (MODELS.md 3.1): mean and covariance streams with one shared
/// layer norm:  x_mu = ELU(Drop(LN0(E_mu[s] + P_mu))),  x_sigma = ELU(Drop(LN0(E_sigma[s] +
/// P_sigma))) + 1.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/pack.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/activations.hpp"
#include "seqrec/kernels/packed_lookup.hpp"
#include "seqrec/layers/dropout.hpp"
#include "seqrec/layers/layer_norm.hpp"

namespace seqrec {

template <typename T>
struct StochasticEmbedding {
    struct Cache {
        Buffer<T> pre_mu, pre_sigma;  // Drop(LN0(.)) before the ELU
        Buffer<T> mask_mu, mask_sigma;
        typename LayerNorm<T>::Cache ln_mu, ln_sigma;
        Buffer<T> da, dpre, tmp;
    };
    Param<T> E_mu, E_sigma, P_mu, P_sigma;  ///< (N+1) x d tables (row 0 = padding, kept 0); n x d
    LayerNorm<T> ln;                        ///< LN_0, shared by the streams [C-STOSA]
    double dropout = 0.0;

    StochasticEmbedding() = default;
    StochasticEmbedding(Index num_items, Index maxlen, Index d, double p, double ln_eps)
        : E_mu(num_items + 1, d, ParamRole::item_table),
          E_sigma(num_items + 1, d, ParamRole::item_table),
          P_mu(maxlen, d, ParamRole::position_table),
          P_sigma(maxlen, d, ParamRole::position_table),
          ln(d, ln_eps),
          dropout(p) {}

    /// ids: the packed compact windows' items (each L <= n, in slots n-L..n-1). Writes x_mu,
    /// x_sigma (rows x d).
    void forward(const ItemId* ids, PackRows pack, Buffer<T>& x_mu, Buffer<T>& x_sigma, Cache& c,
                 Rng* rng) const {
        stream(ids, pack, E_mu, P_mu, c.pre_mu, c.mask_mu, c.ln_mu, x_mu, T(0), c, rng);
        stream(ids, pack, E_sigma, P_sigma, c.pre_sigma, c.mask_sigma, c.ln_sigma, x_sigma, T(1), c,
               rng);
    }
    void forward(const std::vector<ItemId>& ids, Buffer<T>& x_mu, Buffer<T>& x_sigma, Cache& c,
                 Rng* rng) const {
        forward(ids.data(), OneWindow(Index(ids.size())), x_mu, x_sigma, c, rng);
    }
    /// From dx_mu, dx_sigma (rows x d): scatter-adds into the tables and ADDS the norm's grads.
    void backward(const ConstRef<T>& dx_mu, const ConstRef<T>& dx_sigma, const ItemId* ids,
                  PackRows pack, Cache& c, StochasticEmbedding& grad) const {
        stream_back(ids, pack, dx_mu, c.pre_mu, c.mask_mu, c.ln_mu, grad, grad.E_mu, grad.P_mu, c);
        stream_back(ids, pack, dx_sigma, c.pre_sigma, c.mask_sigma, c.ln_sigma, grad, grad.E_sigma,
                    grad.P_sigma, c);
    }
    void backward(const ConstRef<T>& dx_mu, const ConstRef<T>& dx_sigma,
                  const std::vector<ItemId>& ids, Cache& c, StochasticEmbedding& grad) const {
        backward(dx_mu, dx_sigma, ids.data(), OneWindow(Index(ids.size())), c, grad);
    }
    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        f(prefix + "item_mu", E_mu);
        f(prefix + "item_sigma", E_sigma);
        f(prefix + "position_mu", P_mu);
        f(prefix + "position_sigma", P_sigma);
        ln.for_each_param(prefix + "ln.", f);
    }

private:
    void stream(const ItemId* ids, PackRows pack, const Param<T>& E, const Param<T>& P,
                Buffer<T>& pre, Buffer<T>& mask, typename LayerNorm<T>::Cache& lnc, Buffer<T>& x,
                T shift, Cache& c, Rng* rng) const {
        packed_lookup(E, &P, T(1), P.rows(), ids, pack, c.tmp);
        ln.forward(c.tmp, pre, &lnc);
        dropout_forward(pre, mask, dropout, rng);
        x = pre.unaryExpr([shift](T v) { return elu(v) + shift; });
    }
    void stream_back(const ItemId* ids, PackRows pack, const ConstRef<T>& dx, const Buffer<T>& pre,
                     const Buffer<T>& mask, const typename LayerNorm<T>::Cache& lnc,
                     StochasticEmbedding& grad, Param<T>& gE, Param<T>& gP, Cache& c) const {
        c.dpre = dx.cwiseProduct(pre.unaryExpr([](T v) { return elu_grad(v); }));
        dropout_backward(c.dpre, mask);
        c.da.setZero(dx.rows(), dx.cols());
        ln.backward(c.dpre, lnc, grad.ln, c.da);
        packed_lookup_backward(c.da, T(1), ids, pack, gE, &gP);
    }
};

}  // namespace seqrec
