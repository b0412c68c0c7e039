/// \file layers/layer_norm.hpp
/// Layer normalisation over the last dimension, biased variance (MODELS.md §0, B.1).
#pragma once

#include <cmath>
#include <string>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/lane_sum.hpp"

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
        const T* g = gamma.data();
        const T* b = beta.data();
        for (Index r = 0; r < rows; ++r) {
            const T* xr = x.row(r).data();
            T* yr = y.row(r).data();
            const T mean = lane_sum<T>(d, [&](Index j) { return xr[j]; }) / T(d);
            const T var =
                lane_sum<T>(d, [&](Index j) { return (xr[j] - mean) * (xr[j] - mean); }) / T(d);
            const T rstd = T(1) / std::sqrt(var + T(eps));
            T* xhat = cache ? cache->xhat.row(r).data() : yr;  // without a cache y holds x̂ first
            for (Index j = 0; j < d; ++j) xhat[j] = (xr[j] - mean) * rstd;
            for (Index j = 0; j < d; ++j) yr[j] = xhat[j] * g[j] + b[j];
            if (cache) cache->rstd(r, 0) = rstd;
        }
    }
    /// (B.1). ADDS dgamma, dbeta into grad and dL/dx into dx (sized rows x d).
    void backward(const ConstRef<T>& dy, const Cache& cache, LayerNorm& grad, Buffer<T>& dx) const {
        const Index rows = dy.rows();
        grad.gamma += dy.cwiseProduct(cache.xhat).colwise().sum();
        grad.beta += dy.colwise().sum();
        const T* gam = gamma.data();
        const Index d = dy.cols();
        for (Index r = 0; r < rows; ++r) {
            const T* dyr = dy.row(r).data();
            const T* xh = cache.xhat.row(r).data();
            T* dxr = dx.row(r).data();
            const T mg = lane_sum<T>(d, [&](Index j) { return dyr[j] * gam[j]; }) / T(d);
            const T mgx = lane_sum<T>(d, [&](Index j) { return dyr[j] * gam[j] * xh[j]; }) / T(d);
            const T rstd = cache.rstd(r, 0);
            for (Index j = 0; j < d; ++j) dxr[j] += rstd * (dyr[j] * gam[j] - mg - xh[j] * mgx);
        }
    }
    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        f(prefix + "gamma", gamma);
        f(prefix + "beta", beta);
    }
};

}  // namespace seqrec
