// Transformer block (MODELS.md 2.1-2.6) and the L-query block of MQSA (5.3, B.14).
#include <doctest/doctest.h>

#include <seqrec/layers/transformer_block.hpp>

#include "support/attention_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("TransformerBlock: backward matches central differences") {
    for (double p : {0.0, 0.3}) {
        CAPTURE(p);
        std::mt19937_64 rng(14);
        TransformerBlock<double> block(block_config(4, 2, p, Activation::gelu));
        randomize(block, rng);
        Mat X = random_input(5, 4, rng);
        check_block_gradients(block, X);
    }
}

TEST_CASE("L-query block: backward matches central differences, last row matches") {
    for (Index Lq : {2, 3}) {
        for (double p : {0.0, 0.3}) {
            CAPTURE(Lq);
            CAPTURE(p);
            std::mt19937_64 rng(33);
            BlockConfig bc = block_config(4, 1, p, Activation::relu);
            bc.query_window = Lq;
            TransformerBlock<double> block(bc);
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
