/// \file support/attention_check.hpp
/// The layer harness applied to self-attention (Z, X -> O) and to transformer blocks (X -> Y),
/// shared by the tests of every attention variant and refinement.
#pragma once

#include <seqrec/layers/multi_head_attention.hpp>
#include <seqrec/layers/transformer_block.hpp>

#include "support/layer_check.hpp"

namespace seqrec::test {

/// Gradients of O = attention(Z, X) w.r.t. Z, X and every parameter. Returns O with dropout
/// stream `seed`.
inline Mat check_attention_gradients(MultiHeadAttention<double>& attn, Mat& Z, Mat& X,
                                     std::uint64_t seed = 5) {
    MultiHeadAttention<double>::Cache c;
    Buffer<double> O;
    auto forward = [&](const MultiHeadAttention<double>& a, Rng* drop) {
        a.forward(Z, X, O, c, drop);
        return Mat(O);
    };
    Rng drop(seed);
    const Mat out = forward(attn, &drop);
    check_layer_gradients(
        attn, {&Z, &X}, forward,
        [&](const MultiHeadAttention<double>& a, const Mat& r, MultiHeadAttention<double>& g,
            std::vector<Buf>& dIn) { a.backward(r, Z, X, c, g, dIn[0], dIn[1]); },
        seed);
    return out;
}

/// Gradients of the block output w.r.t. X and every parameter. Returns the output with dropout
/// stream `seed`.
inline Mat check_block_gradients(TransformerBlock<double>& block, Mat& X, std::uint64_t seed = 21) {
    TransformerBlock<double>::Cache c;
    Buffer<double> out;
    auto forward = [&](const TransformerBlock<double>& b, Rng* drop) {
        b.forward(X, out, c, drop);
        return Mat(out);
    };
    Rng drop(seed);
    const Mat y = forward(block, &drop);
    REQUIRE(c.ffn.pre.cwiseAbs().minCoeff() > 1e-4);  // away from the ReLU kink (§8.11)
    check_layer_gradients(
        block, {&X}, forward,
        [&](const TransformerBlock<double>& b, const Mat& r, TransformerBlock<double>& g,
            std::vector<Buf>& d) { b.backward(r, X, c, g, d[0]); },
        seed);
    return y;
}

/// A block of width d with `heads` heads, dropout p, activation `act`, LN eps 1e-8.
inline BlockConfig block_config(Index d, Index heads, double p, Activation act) {
    BlockConfig c;
    c.dim = d;
    c.heads = heads;
    c.dropout = p;
    c.activation = act;
    return c;
}

/// Random inputs of `rows` x `cols` in [-1, 1].
inline Mat random_input(Index rows, Index cols, std::mt19937_64& rng) {
    Mat X(rows, cols);
    fill_uniform(X, rng);
    return X;
}

}  // namespace seqrec::test
