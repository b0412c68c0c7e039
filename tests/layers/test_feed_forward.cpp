// Position-wise feed-forward (MODELS.md 2.5) through the layer harness, dropout off and on.
#include <doctest/doctest.h>

#include <seqrec/layers/feed_forward.hpp>

#include "support/layer_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

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
                [&](const FeedForward<double>& f, const Mat& r, FeedForward<double>& g,
                    std::vector<Buf>& d) { f.backward(r, Y, c, g, d[0]); },
                11);
        }
    }
}
