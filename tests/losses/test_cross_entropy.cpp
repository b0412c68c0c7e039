// Full-softmax CE (MODELS.md 1.5): the row-chunked path with a chunk smaller than the rows and
// not dividing them, against central differences and against the one-chunk result; dE adds.
#include <doctest/doctest.h>

#include <seqrec/losses/cross_entropy.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("cross entropy: multi-chunk path matches central differences and one chunk") {
    std::mt19937_64 rng(77);
    const Index L = 8, d = 5, N = 11;
    Mat H(L, d), E(N + 1, d);
    fill_uniform(H, rng);
    fill_uniform(E, rng);
    E.row(0).setZero();
    const std::vector<ItemId> pos = {3, 0, 11, 1, 7, 7, 0, 2};  // 6 targets, 2 skipped rows
    const double scale = 0.25;
    for (Index chunk : {Index(4), Index(256)}) {  // 4 does not divide 6 targets
        INFO("chunk " << chunk);
        auto loss = [&] {
            CrossEntropyWorkspace<double> w;
            Buffer<double> dH;
            return cross_entropy_loss<double>(H, E, pos, scale, dH, nullptr, w, chunk);
        };
        CrossEntropyWorkspace<double> ws;
        Buffer<double> dH;
        Param<double> dE(N + 1, d, ParamRole::item_table);
        const double value = cross_entropy_loss<double>(H, E, pos, scale, dH, &dE, ws, chunk);
        CHECK(value == doctest::Approx(loss()).epsilon(1e-14));
        CHECK(relative_error(dH, numeric_gradient(H, loss)) < 1e-6);
        CHECK(relative_error(dE, numeric_gradient(E, loss)) < 1e-6);
        CHECK(dH.row(1).isZero(0.0));  // skipped rows get no gradient
        CHECK(dE.row(0).isZero(0.0));  // padding is not a candidate
        // A second call adds into dE (accumulating over windows), and dH is rewritten.
        const Mat once = dE;
        cross_entropy_loss<double>(H, E, pos, scale, dH, &dE, ws, chunk);
        CHECK(relative_error(dE, 2.0 * once) < 1e-14);
        CHECK(relative_error(dH, numeric_gradient(H, loss)) < 1e-6);
    }
}
