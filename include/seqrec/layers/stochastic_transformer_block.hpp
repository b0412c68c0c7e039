/// \file layers/stochastic_transformer_block.hpp
/// One STOSA layer (MODELS.md 3.10-3.14): Wasserstein attention, output projections with a shared
/// LN_1, a mean FFN (d -> 4d -> d, ELU, LN_2) and a covariance FFN (LN_3, then ELU + 1).
/// With `mean_passthrough` (the released code's behaviour, MODELS.md §3.2) the mean output is the
/// mean input: only the covariance stream is carried through.
#pragma once

#include <string>

#include "seqrec/layers/layer_norm.hpp"
#include "seqrec/layers/wasserstein_attention.hpp"

namespace seqrec {

template <typename T>
struct StochasticTransformerBlock {
    struct Cache {
        typename WassersteinAttention<T>::Cache attn;
        Buffer<T> C_mu, C_sigma, mu1, sigma1;  // attention outputs; mu', sigma'
        Buffer<T> m1, m2, m3, m4;              // dropout masks
        Buffer<T> f1, e1, f3, e3, l3;          // FFN pre-activations / hidden
        typename LayerNorm<T>::Cache ln1_mu, ln1_sigma, ln2, ln3;
        Buffer<T> d1, d2, d3, d4, dmu1, dsigma1;        // backward scratch
        Buffer<T> de1, de3, dC_mu, dC_sigma, dy, dres;  // backward scratch, reused
    };
    WassersteinAttention<T> attn;
    Linear<T> o_mu, o_sigma;
    LayerNorm<T> ln1;  ///< shared by both streams [C-STOSA]
    Linear<T> w1, w2;  ///< mean FFN
    LayerNorm<T> ln2;
    Linear<T> w3, w4;  ///< covariance FFN
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
          w1(d, 4 * d),
          w2(4 * d, d),
          ln2(d, ln_eps),
          w3(d, 4 * d),
          w4(4 * d, d),
          ln3(d, ln_eps),
          dropout(p_hidden),
          mean_passthrough(passthrough) {}

    /// (x_mu, x_sigma) -> (y_mu, y_sigma), all L x d.
    void forward(const ConstRef<T>& x_mu, const ConstRef<T>& x_sigma, Buffer<T>& y_mu,
                 Buffer<T>& y_sigma, Cache& c, Rng* rng) const {
        attn.forward(x_mu, x_sigma, c.C_mu, c.C_sigma, c.attn, rng);
        auto elu_ = [](T v) { return elu(v); };
        // (3.11) sigma' = LN1(Drop(C_sigma W + b) + x_sigma)
        o_sigma.forward(c.C_sigma, c.d2);
        dropout_forward(c.d2, c.m2, dropout, rng);
        c.d2 += x_sigma;
        ln1.forward(c.d2, c.sigma1, &c.ln1_sigma);
        // (3.13) sigma'' = ELU(LN3(Drop(ELU(sigma' W3 + b3) W4 + b4) + sigma')) + 1
        w3.forward(c.sigma1, c.f3);
        c.e3 = c.f3.unaryExpr(elu_);
        w4.forward(c.e3, c.d4);
        dropout_forward(c.d4, c.m4, dropout, rng);
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
        w1.forward(c.mu1, c.f1);
        c.e1 = c.f1.unaryExpr(elu_);
        w2.forward(c.e1, c.d3);
        dropout_forward(c.d3, c.m3, dropout, rng);
        c.d3 += c.mu1;
        ln2.forward(c.d3, y_mu, &c.ln2);
    }

    /// ADDS parameter grads into `grad` and dL/dx_mu, dL/dx_sigma into dx_mu, dx_sigma.
    void backward(const ConstRef<T>& dy_mu, const ConstRef<T>& dy_sigma, const ConstRef<T>& x_mu,
                  const ConstRef<T>& x_sigma, Cache& c, StochasticTransformerBlock& grad,
                  Buffer<T>& dx_mu, Buffer<T>& dx_sigma) const {
        const Index L = x_mu.rows(), d = x_mu.cols();
        auto elu_d = [](T v) { return elu_grad(v); };
        // covariance stream
        c.dy = dy_sigma.cwiseProduct(c.l3.unaryExpr(elu_d));
        c.dsigma1.setZero(L, d);
        ln3.backward(c.dy, c.ln3, grad.ln3, c.dsigma1);  // d(sigma') from the residual
        Buffer<T>& dh = c.d4;
        dh = c.dsigma1;
        dropout_backward(dh, c.m4);
        Buffer<T>& de3 = c.de3;
        de3.setZero(L, c.e3.cols());
        w4.backward(c.e3, dh, grad.w4, &de3);
        de3.array() *= c.f3.unaryExpr(elu_d).array();
        w3.backward(c.sigma1, de3, grad.w3, &c.dsigma1);
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
            Buffer<T>& dg = c.d3;
            dg = c.dmu1;
            dropout_backward(dg, c.m3);
            Buffer<T>& de1 = c.de1;
            de1.setZero(L, c.e1.cols());
            w2.backward(c.e1, dg, grad.w2, &de1);
            de1.array() *= c.f1.unaryExpr(elu_d).array();
            w1.backward(c.mu1, de1, grad.w1, &c.dmu1);
            c.dres.setZero(L, d);
            ln1.backward(c.dmu1, c.ln1_mu, grad.ln1, c.dres);
            dx_mu += c.dres;
            c.dmu1 = c.dres;
            dropout_backward(c.dmu1, c.m1);
            o_mu.backward(c.C_mu, c.dmu1, grad.o_mu, &dC_mu);
        }
        attn.backward(dC_mu, dC_sigma, x_mu, x_sigma, c.attn, grad.attn, dx_mu, dx_sigma);
    }

    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        attn.for_each_param(prefix + "attn.", f);
        o_mu.for_each_param(prefix + "o_mu.", f);
        o_sigma.for_each_param(prefix + "o_sigma.", f);
        ln1.for_each_param(prefix + "ln1.", f);
        w1.for_each_param(prefix + "ffn_mu.fc1.", f);
        w2.for_each_param(prefix + "ffn_mu.fc2.", f);
        ln2.for_each_param(prefix + "ln2.", f);
        w3.for_each_param(prefix + "ffn_sigma.fc1.", f);
        w4.for_each_param(prefix + "ffn_sigma.fc2.", f);
        ln3.for_each_param(prefix + "ln3.", f);
    }
};

}  // namespace seqrec
