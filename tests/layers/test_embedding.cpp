// Item + position embedding (MODELS.md 1.1-1.2): scatter-add backward with repeated ids.
#include <doctest/doctest.h>

#include <seqrec/layers/embedding.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

namespace {
constexpr double kTol = 1e-6;
}  // namespace

TEST_CASE("ItemPositionEmbedding: scatter-add backward with repeated ids") {
    for (double p : {0.0, 0.5}) {
        std::mt19937_64 rng(15);
        ItemPositionEmbedding<double> emb(6, 5, 4, p);
        fill_uniform(emb.E, rng);
        fill_uniform(emb.P, rng);
        emb.E.row(0).setZero();
        ItemPositionEmbedding<double> g = emb;
        zero_params<double>(g);
        const std::vector<ItemId> ids = {3, 1, 3, 6};  // L = 4 of n = 5: slots 1..4
        Mat r(4, 4);
        fill_uniform(r, rng);
        auto loss = [&] {
            Rng drop(3);
            Buf X, mask;
            emb.forward(ids, X, mask, &drop);
            return (X.array() * r.array()).sum();
        };
        Rng drop(3);
        Buf X, mask;
        emb.forward(ids, X, mask, &drop);
        Buf scratch;
        emb.backward(r, ids, mask, g, scratch);
        CHECK(relative_error(g.E, numeric_gradient(emb.E, loss)) < kTol);
        CHECK(relative_error(g.P, numeric_gradient(emb.P, loss)) < kTol);
        CHECK(g.E.row(0).isZero());
        CHECK(g.P.row(0).isZero());  // slot 0 is padding for this window
    }
}
