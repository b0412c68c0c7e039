/// \file layers/feed_forward.hpp
/// Point-wise feed-forward network (MODELS.md 1.2):
/// FFN(Y) = Drop(Drop(act(Y W1 + b1)) W2 + b2), inner size d as in SASRec.
#pragma once

#include <string>

#include "seqrec/kernels/activations.hpp"
#include "seqrec/layers/dropout.hpp"
#include "seqrec/layers/linear.hpp"

namespace seqrec {

/// Shapes: Y, F (rows x d); W1 (d x inner), W2 (inner x d).
template <typename T>
struct FeedForward {
    struct Cache {
        Buffer<T> pre;     // Y W1 + b1 (rows x inner)
        Buffer<T> hidden;  // Drop(act(pre)), the input of W2
        Buffer<T> mask1, mask2;
        Buffer<T> dout, dhidden;  // backward scratch, reused
    };
    Linear<T> fc1, fc2;
    Activation activation = Activation::relu;
    double dropout = 0.0;
    bool hidden_dropout = true;  ///< dropout on the hidden layer too (SASRec); STOSA: output only

    FeedForward() = default;
    FeedForward(Index d, Index inner, Activation act, double p, bool on_hidden = true)
        : fc1(d, inner), fc2(inner, d), activation(act), dropout(p), hidden_dropout(on_hidden) {}

    /// rng == nullptr: evaluation (no dropout).
    void forward(const ConstRef<T>& Y, Buffer<T>& F, Cache& c, Rng* rng) const {
        fc1.forward(Y, c.pre);
        c.hidden = c.pre.unaryExpr([this](T v) { return activate(activation, v); });
        dropout_forward(c.hidden, c.mask1, hidden_dropout ? dropout : 0.0, rng);
        fc2.forward(c.hidden, F);
        dropout_forward(F, c.mask2, dropout, rng);
    }
    /// ADDS parameter grads into `grad` and dL/dY into dY.
    void backward(const ConstRef<T>& dF, const ConstRef<T>& Y, Cache& c, FeedForward& grad,
                  Buffer<T>& dY) const {
        Buffer<T>& dh = c.dhidden;
        dh.setZero(dF.rows(), c.hidden.cols());
        if (c.mask2.size()) {
            c.dout = dF.cwiseProduct(c.mask2);
            fc2.backward(c.hidden, c.dout, grad.fc2, &dh);
        } else {
            fc2.backward(c.hidden, dF, grad.fc2, &dh);
        }
        dropout_backward(dh, c.mask1);
        dh.array() *= c.pre.unaryExpr([this](T v) { return activate_grad(activation, v); }).array();
        fc1.backward(Y, dh, grad.fc1, &dY);
    }
    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        fc1.for_each_param(prefix + "fc1.", f);
        fc2.for_each_param(prefix + "fc2.", f);
    }
};

}  // namespace seqrec
