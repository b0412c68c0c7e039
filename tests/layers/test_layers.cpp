// Gradient checks for every layer (MODELS.md §8.11): input and parameter gradients against central
// differences in double precision, with dropout off and on (masks frozen by re-seeding the stream).
#include <doctest/doctest.h>

#include <seqrec/core/param.hpp>
#include <seqrec/kernels/causal_softmax.hpp>
#include <seqrec/layers/embedding.hpp>
#include <seqrec/layers/feed_forward.hpp>
#include <seqrec/layers/layer_norm.hpp>
#include <seqrec/layers/linear.hpp>
#include <seqrec/layers/multi_head_attention.hpp>
#include <seqrec/layers/transformer_block.hpp>

#include "support/attention_check.hpp"

using namespace seqrec;
using namespace seqrec::test;
using Mat = Matrix<double>;
using Buf = Buffer<double>;

namespace {
constexpr double kTol = 1e-6;
}  // namespace

TEST_CASE("Linear: backward matches central differences") {
    std::mt19937_64 rng(7);
    Linear<double> fc(5, 3);
    randomize(fc, rng);
    Mat x(7, 5);
    fill_uniform(x, rng);
    Buf y;
    fc.forward(x, y);
    CHECK(y.rows() == 7);
    CHECK(y.cols() == 3);
    check_layer_gradients(
        fc, {&x},
        [&](const Linear<double>& l, Rng*) {
            l.forward(x, y);
            return Mat(y);
        },
        [&](const Linear<double>& l, const Mat& r, Linear<double>& g) {
            Buf dx;
            l.backward(x, r, g, &dx);
            return std::vector<Mat>{dx};
        },
        7);
}

TEST_CASE("gradient check detects a wrong backward") {
    std::mt19937_64 rng(8);
    Linear<double> fc(4, 3), g(4, 3);
    fill_uniform(fc.W, rng);
    Mat x(5, 4), r(5, 3);
    fill_uniform(x, rng);
    fill_uniform(r, rng);
    auto loss = [&] {
        Buf out;
        fc.forward(x, out);
        return (out.array() * r.array()).sum();
    };
    fc.backward(x, r, g, nullptr);
    Mat broken = g.W;
    broken(1, 2) *= 1.001;  // a 0.1% error in one entry
    CHECK(relative_error(g.W, numeric_gradient(fc.W, loss)) < kTol);
    CHECK(relative_error(broken, numeric_gradient(fc.W, loss)) > kTol);
    CHECK_FALSE(gradients_match(broken, numeric_gradient(fc.W, loss)));
    Mat transposed_bug = r * fc.W.transpose() * 0.5;  // e.g. a forgotten factor
    Buf dx;
    fc.backward(x, r, g, &dx);
    CHECK(relative_error(transposed_bug, numeric_gradient(x, loss)) > kTol);
}

TEST_CASE("LayerNorm: backward matches central differences") {
    std::mt19937_64 rng(9);
    LayerNorm<double> ln(6);
    randomize(ln, rng);
    Mat x(5, 6);
    fill_uniform(x, rng, -2, 2);
    LayerNorm<double>::Cache c;
    Buf y;
    ln.forward(x, y, &c);
    CHECK(std::abs(((y.row(0).array() - ln.beta.row(0).array()) / ln.gamma.row(0).array()).mean()) <
          1e-9);
    check_layer_gradients(
        ln, {&x},
        [&](const LayerNorm<double>& l, Rng*) {
            l.forward(x, y, &c);
            return Mat(y);
        },
        [&](const LayerNorm<double>& l, const Mat& r, LayerNorm<double>& g) {
            Buf dx;
            l.backward(r, c, g, dx);
            return std::vector<Mat>{dx};
        },
        9);
}

TEST_CASE("causal softmax: rows sum to 1 on the allowed set and backward matches") {
    std::mt19937_64 rng(10);
    Mat S(6, 6), r(6, 6);
    fill_uniform(S, rng, -3, 3);
    fill_uniform(r, rng);
    auto loss = [&] {
        Mat P = S;
        causal_softmax(P);
        return (P.array() * r.array()).sum();
    };
    Mat P = S;
    causal_softmax(P);
    for (Index t = 0; t < 6; ++t) {
        CHECK(P.row(t).sum() == doctest::Approx(1.0));
        for (Index j = t + 1; j < 6; ++j) CHECK(P(t, j) == 0.0);
    }
    Mat dS = r;
    causal_softmax_backward(P, dS);
    CHECK(relative_error(dS, numeric_gradient(S, loss)) < kTol);
}

TEST_CASE("FeedForward: backward matches central differences (relu and gelu, dropout off/on)") {
    for (Activation act : {Activation::relu, Activation::gelu}) {
        for (double p : {0.0, 0.3}) {
            CAPTURE(int(act));
            CAPTURE(p);
            std::mt19937_64 rng(11);
            FeedForward<double> ffn(4, 5, act, p);
            randomize(ffn, rng);
            Mat Y(6, 4);
            fill_uniform(Y, rng);
            FeedForward<double>::Cache c;
            Buf F;
            auto forward = [&](const FeedForward<double>& f, Rng* drop) {
                f.forward(Y, F, c, drop);
                return Mat(F);
            };
            Rng drop(11);
            forward(ffn, &drop);
            REQUIRE(c.pre.cwiseAbs().minCoeff() > 1e-4);  // away from the ReLU kink (§8.11)
            if (p > 0) CHECK((c.mask1.array() == 0).any());
            check_layer_gradients(
                ffn, {&Y}, forward,
                [&](const FeedForward<double>& f, const Mat& r, FeedForward<double>& g) {
                    Buf dF(r), dY(Mat::Zero(6, 4));
                    f.backward(dF, Y, c, g, dY);
                    return std::vector<Mat>{dY};
                },
                11);
        }
    }
}

TEST_CASE("MultiHeadAttention: backward matches central differences") {
    for (Index heads : {1, 2}) {
        for (double p : {0.0, 0.4}) {
            for (Index L : {1, 7}) {
                CAPTURE(heads);
                CAPTURE(p);
                CAPTURE(L);
                std::mt19937_64 rng(12);
                MultiHeadAttention<double> attn(4, heads, p);
                randomize(attn, rng);
                Mat Z = random_input(L, 4, rng), X = random_input(L, 4, rng);
                check_attention_gradients(attn, Z, X);
            }
        }
    }
}

TEST_CASE("MultiHeadAttention: causal (later rows never change earlier outputs)") {
    std::mt19937_64 rng(13);
    MultiHeadAttention<double> attn(4, 2, 0.0);
    attn.for_each_param("", [&](const std::string&, auto& m) { fill_uniform(m, rng); });
    Mat Z(6, 4), X(6, 4);
    fill_uniform(Z, rng);
    fill_uniform(X, rng);
    MultiHeadAttention<double>::Cache c;
    Buf O1, O2;
    attn.forward(Z, X, O1, c, nullptr);
    Z.row(5).setConstant(3.0);
    X.row(4).setConstant(-2.0);
    attn.forward(Z, X, O2, c, nullptr);
    CHECK(O1.topRows(4) == O2.topRows(4));
    CHECK(O1.row(4) != O2.row(4));
}

TEST_CASE("TransformerBlock: backward matches central differences") {
    for (double p : {0.0, 0.3}) {
        CAPTURE(p);
        std::mt19937_64 rng(14);
        TransformerBlock<double> block(4, 2, p, Activation::gelu, 1e-8);
        randomize(block, rng);
        Mat X = random_input(5, 4, rng);
        check_block_gradients(block, X);
    }
}

TEST_CASE("ItemPositionEmbedding: scatter-add backward with repeated ids") {
    for (double p : {0.0, 0.5}) {
        std::mt19937_64 rng(15);
        ItemPositionEmbedding<double> emb(6, 5, 4, p);
        fill_uniform(emb.E, rng);
        fill_uniform(emb.P, rng);
        emb.E.row(0).setZero();
        ItemPositionEmbedding<double> g = emb;
        zero_params<double>(g);
        const std::vector<ItemId> ids = {3, 1, 3, 6};  // L = 4 of n = 5: slots 1..4
        Mat r(4, 4);
        fill_uniform(r, rng);
        auto loss = [&] {
            Rng drop(3);
            Buf X, mask;
            emb.forward(ids, X, mask, &drop);
            return (X.array() * r.array()).sum();
        };
        Rng drop(3);
        Buf X, mask;
        emb.forward(ids, X, mask, &drop);
        Buf dX(r);
        emb.backward(dX, ids, mask, g);
        CHECK(relative_error(g.E, numeric_gradient(emb.E, loss)) < kTol);
        CHECK(relative_error(g.P, numeric_gradient(emb.P, loss)) < kTol);
        CHECK(g.E.row(0).isZero());
        CHECK(g.P.row(0).isZero());  // slot 0 is padding for this window
    }
}
