// Gradient checks for the attention variants: relative-position attention (RPESA, B.16-B.17) and
// the L-query block (MQSA, B.14).
#include <doctest/doctest.h>

#include <seqrec/core/param.hpp>
#include <seqrec/layers/multi_head_attention.hpp>
#include <seqrec/layers/transformer_block.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;
using Mat = Matrix<double>;
using Buf = Buffer<double>;

namespace {}  // namespace

TEST_CASE("relative-position attention: backward matches central differences") {
    for (Index k_max : {0, 2, 10}) {
        for (bool in_value : {true, false}) {
            for (double p : {0.0, 0.4}) {
                for (Index heads : {1, 2}) {
                    CAPTURE(k_max);
                    CAPTURE(in_value);
                    CAPTURE(p);
                    CAPTURE(heads);
                    std::mt19937_64 rng(31);
                    MultiHeadAttention<double> attn(4, heads, p, k_max, in_value);
                    attn.for_each_param("",
                                        [&](const std::string&, auto& m) { fill_uniform(m, rng); });
                    MultiHeadAttention<double> g = attn;
                    zero_params<double>(g);
                    const Index L = 6;
                    Mat Z(L, 4), X(L, 4), r(L, 4);
                    fill_uniform(Z, rng);
                    fill_uniform(X, rng);
                    fill_uniform(r, rng);
                    auto loss = [&] {
                        Rng drop(5);
                        MultiHeadAttention<double>::Cache c;
                        Buf O;
                        attn.forward(Z, X, O, c, &drop);
                        return (O.array() * r.array()).sum();
                    };
                    Rng drop(5);
                    MultiHeadAttention<double>::Cache c;
                    Buf O;
                    attn.forward(Z, X, O, c, &drop);
                    Buf dZ(Mat::Zero(L, 4)), dX(Mat::Zero(L, 4));
                    attn.backward(r, Z, X, c, g, dZ, dX);
                    CHECK(relative_error(dZ, numeric_gradient(Z, loss)) < 1e-6);
                    CHECK(relative_error(dX, numeric_gradient(X, loss)) < 1e-6);
                    check_param_gradients(attn, g, loss);
                    CHECK(g.rel_k.norm() > 0);
                }
            }
        }
    }
}

TEST_CASE("relative-position attention: zero tables give plain attention exactly; last row") {
    std::mt19937_64 rng(32);
    MultiHeadAttention<double> plain(4, 2, 0.0), rel(4, 2, 0.0, 3, true);
    plain.for_each_param("", [&](const std::string&, auto& m) { fill_uniform(m, rng); });
    rel.wq = plain.wq;
    rel.wk = plain.wk;
    rel.wv = plain.wv;
    Mat Z(7, 4), X(7, 4);
    Buf O1, O2;
    fill_uniform(Z, rng);
    fill_uniform(X, rng);
    MultiHeadAttention<double>::Cache c;
    plain.forward(Z, X, O1, c, nullptr);
    rel.forward(Z, X, O2, c, nullptr);
    CHECK(O1 == O2);
    // With non-zero tables the last-row inference path equals the full forward's last row.
    fill_uniform(rel.rel_k, rng);
    fill_uniform(rel.rel_v, rng);
    rel.forward(Z, X, O2, c, nullptr);
    Buf o;
    rel.forward_last(Z.bottomRows(1), X, o, c);
    CHECK(relative_error(o.row(0), O2.row(6)) < 1e-12);
}

TEST_CASE("L-query block: backward matches central differences; last row matches") {
    for (Index Lq : {2, 3}) {
        for (double p : {0.0, 0.3}) {
            CAPTURE(Lq);
            CAPTURE(p);
            std::mt19937_64 rng(33);
            TransformerBlock<double> block(4, 1, p, Activation::relu, 1e-8, Lq);
            block.for_each_param("", [&](const std::string& name, auto& m) {
                if (name.find("gamma") != std::string::npos)
                    fill_uniform(m, rng, 0.5, 1.5);
                else
                    fill_uniform(m, rng);
            });
            TransformerBlock<double> g = block;
            zero_params<double>(g);
            Mat X(5, 4), r(5, 4);
            fill_uniform(X, rng);
            fill_uniform(r, rng);
            auto loss = [&] {
                Rng drop(21);
                TransformerBlock<double>::Cache c;
                Buf out;
                block.forward(X, out, c, &drop);
                return (out.array() * r.array()).sum();
            };
            Rng drop(21);
            TransformerBlock<double>::Cache c;
            Buf out, dX;
            block.forward(X, out, c, &drop);
            REQUIRE(c.ffn.pre.cwiseAbs().minCoeff() > 1e-4);
            Buf dout(r);
            block.backward(dout, X, c, g, dX);
            CHECK(relative_error(dX, numeric_gradient(X, loss)) < 1e-6);
            check_param_gradients(block, g, loss);
            if (p == 0.0) {
                Buf last;
                block.forward_last(X, last, c);
                CHECK(relative_error(last.row(0), out.row(4)) < 1e-12);
            }
        }
    }
}
