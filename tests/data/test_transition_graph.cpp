// The item-transition graph (MODELS.md 6.1, 7.3): counts, window and symmetric options.
#include <doctest/doctest.h>

#include <seqrec/data/transition_graph.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;

TEST_CASE("transition graph counts, window and symmetric options") {
    const std::vector<std::vector<ItemId>> train = {{1, 2, 3, 2}, {2, 3}, {4}};
    const auto C = build_transition_graph(train, 4);
    CHECK(C.coeff(0, 1) == 1);  // 1 -> 2
    CHECK(C.coeff(1, 2) == 2);  // 2 -> 3 twice
    CHECK(C.coeff(2, 1) == 1);  // 3 -> 2
    CHECK(C.nonZeros() == 3);
    TransitionGraphOptions o;
    o.time_span = 2;
    CHECK(build_transition_graph(train, 4, o).coeff(0, 2) == 1);  // 1 -> 3 at distance 2
    o = {};
    o.window = 2;  // last two items only: (3,2) and (2,3)
    CHECK(build_transition_graph(train, 4, o).coeff(0, 1) == 0);
    o = {};
    o.symmetric = true;
    CHECK(build_transition_graph(train, 4, o).coeff(1, 0) == 1);
}
