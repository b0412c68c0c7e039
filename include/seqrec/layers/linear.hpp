/// \file layers/linear.hpp
/// Affine map over the last dimension: y = x W + b (MODELS.md §8.1).
#pragma once

#include <string>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/gemm.hpp"

namespace seqrec {

/// Shapes: x (rows x d_in), W (d_in x d_out), b (1 x d_out), y (rows x d_out).
/// The layer keeps no cache: backward takes the forward input x, which the caller owns.
template <typename T>
struct Linear {
    Param<T> W, b;

    Linear() = default;
    Linear(Index d_in, Index d_out)
        : W(d_in, d_out, ParamRole::weight), b(1, d_out, ParamRole::bias) {}

    /// y = x W + b. const: threads may share one layer.
    void forward(const ConstRef<T>& x, Buffer<T>& y) const {
        y.resize(x.rows(), W.cols());
        y.rowwise() = b.row(0);  // the product adds onto the bias: no zeroing, no second pass
        gemm_add(y, x, W);
    }
    /// ADDS dL/dW, dL/db into `grad` and dL/dx into *dx when given (sized rows x d_in).
    void backward(const ConstRef<T>& x, const ConstRef<T>& dy, Linear& grad, Buffer<T>* dx) const {
        gemm_add(grad.W, x.transpose(), dy);
        grad.b += dy.colwise().sum();
        if (dx) gemm_add(*dx, dy, W.transpose());
    }
    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        f(prefix + "W", W);
        f(prefix + "b", b);
    }
};

}  // namespace seqrec
