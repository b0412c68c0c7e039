// Gradient checks for the attention variants: relative-position attention (RPESA, B.16-B.17) and
// the L-query block (MQSA, B.14).
#include <doctest/doctest.h>

#include <seqrec/core/param.hpp>
#include <seqrec/layers/multi_head_attention.hpp>
#include <seqrec/layers/transformer_block.hpp>

#include "support/attention_check.hpp"

using namespace seqrec;
using namespace seqrec::test;
using Mat = Matrix<double>;
using Buf = Buffer<double>;

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
                    randomize(attn, rng);
                    Mat Z = random_input(6, 4, rng), X = random_input(6, 4, rng);
                    check_attention_gradients(attn, Z, X);
                }
            }
        }
    }
}

TEST_CASE("L-query block: backward matches central differences; last row matches") {
    for (Index Lq : {2, 3}) {
        for (double p : {0.0, 0.3}) {
            CAPTURE(Lq);
            CAPTURE(p);
            std::mt19937_64 rng(33);
            TransformerBlock<double> block(4, 1, p, Activation::relu, 1e-8, Lq);
            randomize(block, rng);
            Mat X = random_input(5, 4, rng);
            const Mat out = check_block_gradients(block, X);
            if (p == 0.0) {
                TransformerBlock<double>::Cache c;
                Buf last;
                block.forward_last(X, last, c);
                CHECK(relative_error(last.row(0), out.row(4)) < 1e-12);
            }
        }
    }
}
