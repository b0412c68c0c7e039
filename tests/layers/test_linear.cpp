// Linear (MODELS.md 8.1) through the layer harness, and the harness itself: a wrong backward fails.
#include <doctest/doctest.h>

#include <seqrec/layers/linear.hpp>

#include "support/layer_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

namespace {
constexpr double kTol = 1e-6;
}  // namespace

TEST_CASE("Linear: backward matches central differences") {
    std::mt19937_64 rng(7);
    Linear<double> fc(5, 3);
    randomize(fc, rng);
    Mat x(7, 5);
    fill_uniform(x, rng);
    Buf y;
    fc.forward(x, y);
    CHECK(y.rows() == 7);
    CHECK(y.cols() == 3);
    check_layer_gradients(
        fc, {&x},
        [&](const Linear<double>& l, Rng*) {
            l.forward(x, y);
            return Mat(y);
        },
        [&](const Linear<double>& l, const Mat& r, Linear<double>& g, std::vector<Buf>& d) {
            l.backward(x, r, g, &d[0]);
        },
        7);
}

TEST_CASE("gradient check detects a wrong backward") {
    std::mt19937_64 rng(8);
    Linear<double> fc(4, 3), g(4, 3);
    fill_uniform(fc.W, rng);
    Mat x(5, 4), r(5, 3);
    fill_uniform(x, rng);
    fill_uniform(r, rng);
    auto loss = [&] {
        Buf out;
        fc.forward(x, out);
        return (out.array() * r.array()).sum();
    };
    fc.backward(x, r, g, nullptr);
    Mat broken = g.W;
    broken(1, 2) *= 1.001;  // a 0.1% error in one entry
    CHECK(relative_error(g.W, numeric_gradient(fc.W, loss)) < kTol);
    CHECK(relative_error(broken, numeric_gradient(fc.W, loss)) > kTol);
    CHECK_FALSE(gradients_match(broken, numeric_gradient(fc.W, loss)));
    Mat transposed_bug = r * fc.W.transpose() * 0.5;  // e.g. a forgotten factor
    Buf dx(Mat::Zero(5, 4));
    fc.backward(x, r, g, &dx);
    CHECK(relative_error(transposed_bug, numeric_gradient(x, loss)) > kTol);
}
