// Wasserstein self-attention (MODELS.md 3.5-3.10, B.6-B.8) with every refinement, through the
// layer harness.
#include <doctest/doctest.h>

#include <seqrec/layers/wasserstein_attention.hpp>

#include "support/layer_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("Wasserstein attention: backward matches (every refinement, dropout off/on)") {
    for (Refinement m : {Refinement::none, Refinement::simple, Refinement::value,
                         Refinement::additive, Refinement::stochastic}) {
        for (double p : {0.0, 0.3}) {
            for (Index heads : {1, 2}) {
                INFO("refine " << to_string(m) << " p " << p << " heads " << heads);
                std::mt19937_64 rng(61);
                WassersteinAttention<double> attn(4, heads, p);
                attn.refine = AttentionRefinement<double>(m, 7);
                randomize(attn, rng, 0.5);
                const Index L = 6;
                Mat xm(L, 4), xs(L, 4);
                fill_uniform(xm, rng);
                fill_uniform(xs, rng, 0.5, 1.5);  // covariances away from 0
                WassersteinAttention<double>::Cache c;
                Buf Cm, Cs;
                check_layer_gradients(
                    attn, {&xm, &xs},
                    [&](const WassersteinAttention<double>& a, Rng* drop) {
                        a.forward(xm, xs, Cm, Cs, c, drop);
                        return hcat(Cm, Cs);
                    },
                    [&](const WassersteinAttention<double>& a, const Mat& r,
                        WassersteinAttention<double>& g, std::vector<Buf>& d) {
                        a.backward(r.leftCols(4), r.rightCols(4), xm, xs, c, g, d[0], d[1]);
                    },
                    3);
            }
        }
    }
}
