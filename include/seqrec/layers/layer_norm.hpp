/// \file layers/layer_norm.hpp
/// Layer normalisation over the last dimension, biased variance (MODELS.md §0, B.1).
#pragma once

#include <cmath>
#include <string>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/param.hpp"

namespace seqrec {

/// y = gamma * (x - mean) / sqrt(var + eps) + beta, per row. Shapes: x, y (rows x d); gamma, beta
/// (1 x d).
template <typename T>
struct LayerNorm {
    struct Cache {
        Buffer<T> xhat;  // normalised input (rows x d)
        Buffer<T> rstd;  // 1 / sqrt(var + eps) per row (rows x 1)
    };
    Param<T> gamma, beta;
    double eps = 1e-8;

    LayerNorm() = default;
    explicit LayerNorm(Index d, double epsilon = 1e-8)
        : gamma(1, d, ParamRole::norm_gain), beta(1, d, ParamRole::norm_bias), eps(epsilon) {
        gamma.setOnes();
    }

    void forward(const ConstRef<T>& x, Buffer<T>& y, Cache* cache = nullptr) const {
        const Index rows = x.rows(), d = x.cols();
        y.resize(rows, d);
        if (cache) {
            cache->xhat.resize(rows, d);
            cache->rstd.resize(rows, 1);
        }
        for (Index r = 0; r < rows; ++r) {
            const T mean = x.row(r).mean();
            const T var = (x.row(r).array() - mean).square().mean();
            const T rstd = T(1) / std::sqrt(var + T(eps));
            if (cache) {
                cache->xhat.row(r) = (x.row(r).array() - mean) * rstd;
                cache->rstd(r, 0) = rstd;
                y.row(r) = cache->xhat.row(r).cwiseProduct(gamma.row(0)) + beta.row(0);
            } else {
                y.row(r) = ((x.row(r).array() - mean) * rstd).matrix().cwiseProduct(gamma.row(0)) +
                           beta.row(0);
            }
        }
    }
    /// (B.1). ADDS dgamma, dbeta into grad and dL/dx into dx (sized rows x d).
    void backward(const ConstRef<T>& dy, const Cache& cache, LayerNorm& grad, Buffer<T>& dx) const {
        const Index rows = dy.rows();
        grad.gamma += dy.cwiseProduct(cache.xhat).colwise().sum();
        grad.beta += dy.colwise().sum();
        for (Index r = 0; r < rows; ++r) {
            const auto g = dy.row(r).cwiseProduct(gamma.row(0)).array();
            const T mg = g.mean();
            const T mgx = (g * cache.xhat.row(r).array()).mean();
            dx.row(r).array() += cache.rstd(r, 0) * (g - mg - cache.xhat.row(r).array() * mgx);
        }
    }
    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        f(prefix + "gamma", gamma);
        f(prefix + "beta", beta);
    }
};

}  // namespace seqrec
