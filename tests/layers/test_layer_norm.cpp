// LayerNorm (MODELS.md 8.2) through the layer harness.
#include <doctest/doctest.h>

#include <seqrec/layers/layer_norm.hpp>

#include "support/layer_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("LayerNorm: backward matches central differences") {
    // d 6: the row sums' rest only; d 37: two groups of 16 lanes and a rest of 5.
    for (Index d : {6, 37}) {
        CAPTURE(d);
        std::mt19937_64 rng(9);
        LayerNorm<double> ln(d);
        randomize(ln, rng);
        Mat x(5, d);
        fill_uniform(x, rng, -2, 2);
        LayerNorm<double>::Cache c;
        Buf y;
        ln.forward(x, y, &c);
        CHECK(std::abs(
                  ((y.row(0).array() - ln.beta.row(0).array()) / ln.gamma.row(0).array()).mean()) <
              1e-9);
        check_layer_gradients(
            ln, {&x},
            [&](const LayerNorm<double>& l, Rng*) {
                l.forward(x, y, &c);
                return Mat(y);
            },
            [&](const LayerNorm<double>& l, const Mat& r, LayerNorm<double>& g,
                std::vector<Buf>& dx) { l.backward(r, c, g, dx[0]); },
            9);
    }
}
