// Causal multi-head attention (MODELS.md 2.2-2.6, B.3), plain and relative-position aware
// (RPESA, B.16-B.17), through the layer harness; causality.
#include <doctest/doctest.h>

#include <seqrec/layers/multi_head_attention.hpp>

#include "support/attention_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

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
                    MultiHeadAttention<double> attn(4, heads, p,
                                                    {AttentionKind::relative, k_max, in_value});
                    randomize(attn, rng);
                    Mat Z = random_input(6, 4, rng), X = random_input(6, 4, rng);
                    check_attention_gradients(attn, Z, X);
                }
            }
        }
    }
}
