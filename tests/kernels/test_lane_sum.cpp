// lane_sum: the fixed-lane row sum under LayerNorm and the softmax backward.
#include <doctest/doctest.h>

#include <cmath>
#include <seqrec/kernels/lane_sum.hpp>
#include <vector>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("lane_sum: every length, lanes and rest, equals the plain sum") {
    std::mt19937_64 rng(21);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> x(80);
    for (double& v : x) v = u(rng);
    for (Index n : {0, 1, 5, 15, 16, 17, 32, 37, 50, 64, 80}) {  // rest only, lanes only, both
        CAPTURE(n);
        double plain = 0;
        for (Index j = 0; j < n; ++j) plain += x[std::size_t(j)];
        const double got = lane_sum<double>(n, [&](Index j) { return x[std::size_t(j)]; });
        CHECK(std::abs(got - plain) < 1e-13);
    }
    // Integers sum exactly in any order: every element is counted once.
    const double count = lane_sum<double>(37, [](Index j) { return double(j + 1); });
    CHECK(count == 37.0 * 38.0 / 2.0);
}
