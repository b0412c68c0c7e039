// Flat parameters: a model's Params live in one arena; copies re-bind to their own arena;
// assignment copies values in place; the gradient twin has the same layout.
#include <doctest/doctest.h>

#include <seqrec/models/sasrec.hpp>
#include <seqrec/models/stosa.hpp>

#include "support/fixtures.hpp"

using namespace seqrec;

namespace {
SASRecConfig small() {
    return test::make_config<SASRecConfig>({{"num_items", 9},
                                            {"maxlen", 5},
                                            {"dim", 6},
                                            {"heads", 2},
                                            {"multi_query", true},
                                            {"max_rel", 3},
                                            {"refine", "value"}});
}
/// Every Param of `m` views its own arena, in table order, aligned as a Matrix would be.
template <typename M>
void check_bound(M& m) {
    const auto& arena = m.params();
    std::size_t i = 0;
    m.for_each_param("", [&](const std::string& name, Param<float>& p) {
        REQUIRE(i < arena.table().size());
        const ParamInfo& info = arena.table()[i++];
        CHECK(info.name == name);
        CHECK(p.bound());
        CHECK(p.data() == arena.data() + info.offset);
        CHECK(reinterpret_cast<std::uintptr_t>(p.data()) % EIGEN_MAX_ALIGN_BYTES ==
              0);  // as a Matrix
        CHECK(info.rows == p.rows());
        CHECK(info.cols == p.cols());
    });
    CHECK(i == arena.table().size());
}
}  // namespace

TEST_CASE("a model's parameters are one arena, with roles declared by the layers") {
    SASRec<float> m(small());
    check_bound(m);
    Index total = 0;
    for (const auto& p : m.params().table()) total += p.size();
    CHECK(total == param_count<float>(m));
    CHECK(m.params().size() >= total);
    auto role_of = [&](const std::string& name) {
        for (const auto& p : m.params().table())
            if (p.name == name) return p.role;
        FAIL("no parameter " << name);
        return ParamRole::weight;
    };
    CHECK(role_of("embedding.item") == ParamRole::item_table);
    CHECK(role_of("embedding.position") == ParamRole::position_table);
    CHECK(role_of("block0.attn.q.W") == ParamRole::weight);
    CHECK(role_of("block0.attn.q.b") == ParamRole::bias);
    CHECK(role_of("block0.ln_attn.gamma") == ParamRole::norm_gain);
    CHECK(role_of("block0.ln_attn.beta") == ParamRole::norm_bias);
    CHECK(role_of("block0.attn.rel_k") == ParamRole::relative_table);
    CHECK(role_of("long.block0.attn.refine.W_v") == ParamRole::refinement);
}

TEST_CASE("copies own a new arena, assignment copies values in place, moves keep the views") {
    SASRec<float> a(small());
    Rng rng(3);
    a.init(rng);
    SASRec<float> b = a;
    check_bound(b);
    CHECK(b.params().data() != a.params().data());
    CHECK(b.embedding.E == a.embedding.E);
    b.embedding.E(2, 1) += 1.0f;  // independent storage
    CHECK(b.embedding.E(2, 1) != a.embedding.E(2, 1));

    const float* where = b.params().data();
    b = a;  // same layout: values copied, views unchanged
    CHECK(b.params().data() == where);
    CHECK(b.embedding.E == a.embedding.E);
    check_bound(b);

    SASRec<float> c = std::move(b);
    check_bound(c);
    CHECK(c.params().data() == where);
    SASRec<float> d;
    d = std::move(c);
    check_bound(d);

    SASRecConfig other = small();
    other.dim = 4;
    SASRec<float> e(other);
    e = a;  // different layout: rebuilt
    check_bound(e);
    CHECK(e.params().same_layout(a.params()));

    const SASRec<float> g = a.zeros_like();
    CHECK(g.params().same_layout(a.params()));
    CHECK(Eigen::Map<const Vector<float>>(g.params().data(), g.params().size()).isZero(0.0f));
}

TEST_CASE("STOSA binds its arena too (vector of blocks)") {
    Stosa<float> s(test::make_config<StosaConfig>({{"num_items", 7},
                                                   {"maxlen", 4},
                                                   {"dim", 4},
                                                   {"heads", 2},
                                                   {"layers", 2},
                                                   {"refine", "stochastic"}}));
    check_bound(s);
    std::vector<Stosa<float>> many(3, s);  // copies, then growth moves them
    many.push_back(s);
    for (auto& m : many) check_bound(m);
}
