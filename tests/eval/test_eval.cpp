// Metrics, pessimistic ties and the evaluator (MODELS.md §9, invariant 9).
#include <doctest/doctest.h>

#include <seqrec/eval/evaluator.hpp>

using namespace seqrec;

namespace {
/// A model whose scores are a fixed table, for testing the evaluator itself.
struct TableModel {
    using Scalar = double;
    struct Cache {};
    Vector<double> table;
    Index maxlen() const { return 1; }
    void score_next(const std::vector<ItemId>&, Vector<double>& s, Cache&) const { s = table; }
};
}  // namespace

TEST_CASE("metrics from ranks") {
    const Metrics m = metrics_from_ranks({0, 1, kMissRank, 25});
    CHECK(m.get("HR@1") == doctest::Approx(0.25));
    CHECK(m.get("HR@5") == doctest::Approx(0.5));
    CHECK(m.get("HR@20") == doctest::Approx(0.5));
    CHECK(m.get("NDCG@5") == doctest::Approx((1.0 + 1.0 / std::log2(3.0)) / 4));
    CHECK(m.get("MRR") == doctest::Approx((1.0 + 0.5 + 1.0 / 26) / 4));
    CHECK(m.users == 4);
}

TEST_CASE("full ranking: history excluded, ties against the target") {
    Vector<double> s(6);
    s << 0, 0.5, 0.9, 0.5, 0.1, 0.7;  // items 1..5
    Vector<double> c = s;
    CHECK(full_rank(c, 3, {}) == 3);  // 2 (0.9), 5 (0.7) higher, 1 ties
    c = s;
    CHECK(full_rank(c, 3, {2}) == 2);
    c = s;
    CHECK(full_rank(c, 3, {3}) == kMissRank);  // target in history: cannot be hit
    Vector<double> flat = Vector<double>::Constant(6, 1.0);
    CHECK(full_rank(flat, 4, {}) == 4);  // constant scores rank last (invariant 9)
}

TEST_CASE("evaluator: perfect and constant models") {
    Split split;
    split.num_items = 30;
    split.train = {{1, 2, 3}, {4, 5, 6}};
    split.valid = {7, 7};
    split.test = {8, 8};
    TableModel perfect;
    perfect.table = Vector<double>::Zero(31);
    perfect.table(8) = 1.0;
    const Metrics m = evaluate(perfect, split, true);
    CHECK(m.get("HR@1") == 1.0);
    CHECK(m.get("NDCG@5") == 1.0);
    CHECK(m.get("MRR") == 1.0);
    TableModel constant;
    constant.table = Vector<double>::Ones(31);
    CHECK(evaluate(constant, split, true).get("HR@20") == 0.0);
    EvalOptions sampled;
    sampled.sampled = true;
    const Metrics ms = evaluate(constant, split, true, sampled);
    CHECK(ms.get("HR@10") == 0.0);
    CHECK(evaluate(perfect, split, true, sampled).get("HR@1") == 1.0);
    // Sampled negatives: distinct, outside history and target.
    Rng rng(3);
    const auto neg = sample_eval_negatives({1, 2, 3}, 8, 30, 100, rng);
    CHECK(neg.size() == 26);
    CHECK(sorted_unique(neg).size() == 26);
}
