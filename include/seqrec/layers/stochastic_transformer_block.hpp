/// \file layers/stochastic_transformer_block.hpp
/// One STOSA layer (MODELS.md 3.10-3.14): Wasserstein attention, output projections with a shared
/// LN_1, a mean FFN (d -> 4d -> d, ELU, LN_2) and a covariance FFN (LN_3, then ELU + 1).
/// With `mean_passthrough` (the released code's behaviour, MODELS.md §3.2) the mean output is the
/// mean input: only the covariance stream is carried through.
#pragma once

#include <string>

#include "seqrec/layers/feed_forward.hpp"
#include "seqrec/layers/layer_norm.hpp"
#include "seqrec/layers/wasserstein_attention.hpp"

namespace seqrec {

template <typename T>
struct StochasticTransformerBlock {
    struct Cache {
        typename WassersteinAttention<T>::Cache attn;
        Buffer<T> C_mu, C_sigma, mu1, sigma1;  // attention outputs; mu', sigma'
        Buffer<T> m1, m2;                      // dropout masks of the output projections
        Buffer<T> l3;                          // LN3 output
        typename FeedForward<T>::Cache ffn_mu, ffn_sigma;
        typename LayerNorm<T>::Cache ln1_mu, ln1_sigma, ln2, ln3;
        Buffer<T> d1, d2, d3, d4, dmu1, dsigma1;  // backward scratch
        Buffer<T> dC_mu, dC_sigma, dy, dres;      // backward scratch, reused
    };
    WassersteinAttention<T> attn;
    Linear<T> o_mu, o_sigma;
    LayerNorm<T> ln1;       ///< shared by both streams [C-STOSA]
    FeedForward<T> ffn_mu;  ///< d -> 4d -> d, ELU, dropout on the output only
    LayerNorm<T> ln2;
    FeedForward<T> ffn_sigma;
    LayerNorm<T> ln3;
    double dropout = 0.0;
    bool mean_passthrough = false;

    StochasticTransformerBlock() = default;
    StochasticTransformerBlock(Index d, Index heads, double p_hidden, double p_attn, double ln_eps,
                               bool passthrough)
        : attn(d, heads, p_attn),
          o_mu(d, d),
          o_sigma(d, d),
          ln1(d, ln_eps),
          ffn_mu(d, 4 * d, Activation::elu, p_hidden, /*on_hidden=*/false),
          ln2(d, ln_eps),
          ffn_sigma(d, 4 * d, Activation::elu, p_hidden, /*on_hidden=*/false),
          ln3(d, ln_eps),
          dropout(p_hidden),
          mean_passthrough(passthrough) {}

    /// (x_mu, x_sigma) -> (y_mu, y_sigma), all rows x d over packed windows (core/pack.hpp):
    /// attention per window, everything else row-wise over the pack.
    void forward(const ConstRef<T>& x_mu, const ConstRef<T>& x_sigma, PackRows pack,
                 Buffer<T>& y_mu, Buffer<T>& y_sigma, Cache& c, Rng* rng) const {
        attn.forward(x_mu, x_sigma, pack, c.C_mu, c.C_sigma, c.attn, rng);
        // (3.11) sigma' = LN1(Drop(C_sigma W + b) + x_sigma)
        o_sigma.forward(c.C_sigma, c.d2);
        dropout_forward(c.d2, c.m2, dropout, rng);
        c.d2 += x_sigma;
        ln1.forward(c.d2, c.sigma1, &c.ln1_sigma);
        // (3.13) sigma'' = ELU(LN3(Drop(ELU(sigma' W3 + b3) W4 + b4) + sigma')) + 1
        ffn_sigma.forward(c.sigma1, c.d4, c.ffn_sigma, rng);
        c.d4 += c.sigma1;
        ln3.forward(c.d4, c.l3, &c.ln3);
        y_sigma = c.l3.unaryExpr([](T v) { return elu(v) + T(1); });
        if (mean_passthrough) {
            y_mu = x_mu;
            return;
        }
        // (3.10) mu' = LN1(Drop(C_mu W + b) + x_mu)
        o_mu.forward(c.C_mu, c.d1);
        dropout_forward(c.d1, c.m1, dropout, rng);
        c.d1 += x_mu;
        ln1.forward(c.d1, c.mu1, &c.ln1_mu);
        // (3.12) mu'' = LN2(Drop(ELU(mu' W1 + b1) W2 + b2) + mu')
        ffn_mu.forward(c.mu1, c.d3, c.ffn_mu, rng);
        c.d3 += c.mu1;
        ln2.forward(c.d3, y_mu, &c.ln2);
    }
    void forward(const ConstRef<T>& x_mu, const ConstRef<T>& x_sigma, Buffer<T>& y_mu,
                 Buffer<T>& y_sigma, Cache& c, Rng* rng) const {
        forward(x_mu, x_sigma, OneWindow(x_mu.rows()), y_mu, y_sigma, c, rng);
    }

    /// ADDS parameter grads into `grad` and dL/dx_mu, dL/dx_sigma into dx_mu, dx_sigma.
    void backward(const ConstRef<T>& dy_mu, const ConstRef<T>& dy_sigma, const ConstRef<T>& x_mu,
                  const ConstRef<T>& x_sigma, PackRows pack, Cache& c,
                  StochasticTransformerBlock& grad, Buffer<T>& dx_mu, Buffer<T>& dx_sigma) const {
        const Index L = x_mu.rows(), d = x_mu.cols();  // L: every row of the pack
        auto elu_d = [](T v) { return elu_grad(v); };
        // covariance stream
        c.dy = dy_sigma.cwiseProduct(c.l3.unaryExpr(elu_d));
        c.dsigma1.setZero(L, d);
        ln3.backward(c.dy, c.ln3, grad.ln3, c.dsigma1);  // d(sigma') from the residual
        c.d4 = c.dsigma1;  // the FFN adds into dsigma1 what it reads from d4
        ffn_sigma.backward(c.d4, c.sigma1, c.ffn_sigma, grad.ffn_sigma, c.dsigma1);
        c.dres.setZero(L, d);
        ln1.backward(c.dsigma1, c.ln1_sigma, grad.ln1, c.dres);  // residual part of dx_sigma
        dx_sigma += c.dres;
        Buffer<T>& dC_sigma = c.dC_sigma;
        Buffer<T>& dC_mu = c.dC_mu;
        dC_mu.setZero(L, d);  // stays 0 with mean passthrough
        dC_sigma.setZero(L, d);
        c.dsigma1 = c.dres;
        dropout_backward(c.dsigma1, c.m2);
        o_sigma.backward(c.C_sigma, c.dsigma1, grad.o_sigma, &dC_sigma);
        if (mean_passthrough) {
            dx_mu += dy_mu;  // y_mu = x_mu
        } else {
            c.dmu1.setZero(L, d);
            ln2.backward(dy_mu, c.ln2, grad.ln2, c.dmu1);
            c.d3 = c.dmu1;
            ffn_mu.backward(c.d3, c.mu1, c.ffn_mu, grad.ffn_mu, c.dmu1);
            c.dres.setZero(L, d);
            ln1.backward(c.dmu1, c.ln1_mu, grad.ln1, c.dres);
            dx_mu += c.dres;
            c.dmu1 = c.dres;
            dropout_backward(c.dmu1, c.m1);
            o_mu.backward(c.C_mu, c.dmu1, grad.o_mu, &dC_mu);
        }
        attn.backward(dC_mu, dC_sigma, x_mu, x_sigma, pack, c.attn, grad.attn, dx_mu, dx_sigma);
    }
    void backward(const ConstRef<T>& dy_mu, const ConstRef<T>& dy_sigma, const ConstRef<T>& x_mu,
                  const ConstRef<T>& x_sigma, Cache& c, StochasticTransformerBlock& grad,
                  Buffer<T>& dx_mu, Buffer<T>& dx_sigma) const {
        backward(dy_mu, dy_sigma, x_mu, x_sigma, OneWindow(x_mu.rows()), c, grad, dx_mu, dx_sigma);
    }

    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        attn.for_each_param(prefix + "attn.", f);
        o_mu.for_each_param(prefix + "o_mu.", f);
        o_sigma.for_each_param(prefix + "o_sigma.", f);
        ln1.for_each_param(prefix + "ln1.", f);
        ffn_mu.for_each_param(prefix + "ffn_mu.", f);
        ln2.for_each_param(prefix + "ln2.", f);
        ffn_sigma.for_each_param(prefix + "ffn_sigma.", f);
        ln3.for_each_param(prefix + "ln3.", f);
    }
};

}  // namespace seqrec
