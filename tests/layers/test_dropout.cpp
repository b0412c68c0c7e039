// Dropout masks (layers/dropout.hpp): values, rate, determinism, and the counter property that
// lets attention draw only its causal half.
#include <doctest/doctest.h>

#include <cmath>

#include "seqrec/layers/dropout.hpp"

using namespace seqrec;

TEST_CASE("dropout mask: 0 or 1/(1-p) at rate p, the same for the same stream") {
    const double p = 0.3;
    Buffer<float> a, b;
    Rng r1(7), r2(7);
    draw_dropout_mask(a, 301, 37, p, r1);  // odd width: the last column takes half a word
    draw_dropout_mask(b, 301, 37, p, r2);
    CHECK(a == b);
    CHECK(r1() == r2());  // one draw from the caller's stream, whatever the mask's size
    const float keep = float(1.0 / (1.0 - p));
    Index zeros = 0;
    for (Index i = 0; i < a.size(); ++i) {
        REQUIRE((a.data()[i] == 0.0f || a.data()[i] == keep));
        zeros += a.data()[i] == 0.0f;
    }
    // 11,137 Bernoulli(0.3) draws: sd of the rate 0.0043, so 5 sd is 0.022.
    CHECK(std::abs(double(zeros) / double(a.size()) - p) < 0.022);
    Rng r3(8);
    draw_dropout_mask(b, 301, 37, p, r3);
    CHECK(a != b);
}

TEST_CASE("dropout mask: the lower-triangle draw is the full draw's lower triangle") {
    for (Index L : {1, 2, 7, 64}) {
        Buffer<double> full, lower;
        Rng r1(3), r2(3);
        draw_dropout_mask(full, L, L, 0.5, r1);
        draw_dropout_mask(lower, L, L, 0.5, r2, true);
        for (Index i = 0; i < L; ++i)
            for (Index j = 0; j < L; ++j) CHECK(lower(i, j) == (j <= i ? full(i, j) : 0.0));
    }
}
