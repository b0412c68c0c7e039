// Causal softmax (MODELS.md 2.4, B.2): normalisation on the allowed set and its backward.
#include <doctest/doctest.h>

#include <seqrec/kernels/causal_softmax.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

namespace {
constexpr double kTol = 1e-6;
}  // namespace

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
