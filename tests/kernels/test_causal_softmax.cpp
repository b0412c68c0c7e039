// Causal softmax (MODELS.md 2.4, B.2): normalisation on the allowed set and its backward.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <seqrec/kernels/causal_softmax.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

namespace {
constexpr double kTol = 1e-6;
}  // namespace

TEST_CASE("causal softmax: rows sum to 1 on the allowed set and backward matches") {
    // L 6: short rows; L 20: the backward's dot product over a group of 16 lanes and a rest.
    for (Index L : {6, 20}) {
        CAPTURE(L);
        std::mt19937_64 rng(10);
        Mat S(L, L), r(L, L);
        fill_uniform(S, rng, -3, 3);
        fill_uniform(r, rng);
        auto loss = [&] {
            Mat P = S;
            causal_softmax(P);
            return (P.array() * r.array()).sum();
        };
        Mat P = S;
        causal_softmax(P);
        for (Index t = 0; t < L; ++t) {
            CHECK(P.row(t).sum() == doctest::Approx(1.0));
            for (Index j = t + 1; j < L; ++j) CHECK(P(t, j) == 0.0);
        }
        Mat dS = r;
        causal_softmax_backward(P, dS);
        CHECK(relative_error(dS, numeric_gradient(S, loss)) < kTol);
    }
}

TEST_CASE(
    "causal softmax: rows longer than the stack copy, and the tail, match the plain formula") {
    // 300 rows: rows past 256 are exponentiated in two pieces; every row length mod 16 occurs.
    const Index L = 300;
    std::mt19937_64 rng(11);
    Mat S(L, L), G(L, L);
    fill_uniform(S, rng, -4, 4);
    fill_uniform(G, rng);
    Mat P = S;
    causal_softmax(P);
    Mat dS = G;
    causal_softmax_backward(P, dS);
    double worst_p = 0, worst_g = 0;
    for (Index t = 0; t < L; ++t) {
        const double m = S.row(t).head(t + 1).maxCoeff();
        double z = 0, dot = 0;
        for (Index j = 0; j <= t; ++j) z += std::exp(S(t, j) - m);
        for (Index j = 0; j <= t; ++j) dot += std::exp(S(t, j) - m) / z * G(t, j);
        for (Index j = 0; j <= t; ++j) {
            const double p = std::exp(S(t, j) - m) / z;
            worst_p = std::max(worst_p, std::abs(P(t, j) - p) / p);
            worst_g = std::max(worst_g, std::abs(dS(t, j) - p * (G(t, j) - dot)));
        }
        for (Index j = t + 1; j < L; ++j) {
            CHECK(P(t, j) == 0.0);
            CHECK(dS(t, j) == 0.0);
        }
    }
    CHECK(worst_p < 1e-12);
    CHECK(worst_g < 1e-14);
}
