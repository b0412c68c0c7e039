// Metrics, pessimistic ties and the evaluator (MODELS.md §9, invariant 9).
#include <doctest/doctest.h>

#include <seqrec/eval/evaluator.hpp>
#include <seqrec/models/sasrec.hpp>
#include <seqrec/models/stosa.hpp>

#include "support/fixtures.hpp"

using namespace seqrec;

namespace {
/// A model whose scores are a fixed table, for testing the evaluator itself.
struct TableModel {
    using Scalar = double;
    struct Cache {};
    Vector<double> table;
    Index maxlen() const { return 1; }
    Index query_dim() const { return 1; }
    template <typename Row>
    void query(const std::vector<ItemId>&, Row&& q, Cache&) const {
        q(0) = 1.0;
    }
    void score_queries(const ConstRef<double>& Q, Index lo, Index width, Buffer<double>& S,
                       Cache&) const {
        S.resize(Q.rows(), width + 1);
        for (Index r = 0; r < Q.rows(); ++r) {
            S(r, 0) = 0.0;
            S.row(r).tail(width) = table.segment(lo + 1, width).transpose();
        }
    }
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

namespace {
/// Per-user ranks through score_next (a one-user block), the reference for batched evaluation.
template <typename Model>
Metrics one_by_one(const Model& model, const Split& split) {
    typename Model::Cache c;
    Vector<float> scores;
    std::vector<long> ranks;
    for (Index u : evaluation_users(split, {})) {
        std::vector<ItemId> h = split.train[std::size_t(u)];
        h.push_back(split.valid[std::size_t(u)]);
        model.score_next(h, scores, c);
        ranks.push_back(full_rank(scores, split.test[std::size_t(u)], h));
    }
    return metrics_from_ranks(ranks);
}

template <typename Model>
void check_batched(const Model& model, const Split& split) {
    const Metrics ref = one_by_one(model, split);
    for (int threads : {1, 2}) {
        CAPTURE(threads);
        set_threads(threads);
        const Metrics m = evaluate(model, split, true);
        CHECK(m.users == ref.users);
        CHECK(m.values == ref.values);  // the same bits, user by user
        // The catalogue streamed in item chunks (each size rounds up to a 48-item panel: chunks
        // of 48 and 12 items): the same ranks, for the full and the sampled protocol.
        EvalOptions sampled;
        sampled.sampled = true;
        sampled.negatives = 20;
        const Metrics ref_sampled = evaluate(model, split, false, sampled);
        for (Index chunk : {4, 44}) {
            CAPTURE(chunk);
            EvalOptions o;
            o.item_chunk = chunk;
            CHECK(evaluate(model, split, true, o).values == ref.values);
            sampled.item_chunk = chunk;
            CHECK(evaluate(model, split, false, sampled).values == ref_sampled.values);
            sampled.item_chunk = EvalOptions{}.item_chunk;
        }
    }
}
}  // namespace

TEST_CASE("batched evaluation equals per-user scoring exactly, any thread count") {
    const Split split = test::synthetic_split(150, 60);  // blocks of 64, 64 and 22 users
    REQUIRE(evaluation_users(split, {}).size() == 150);
    SASRec<float> sasrec(test::make_config<SASRecConfig>(
        {{"num_items", 60}, {"maxlen", 12}, {"dim", 8}, {"heads", 2}}));
    Rng r(4);
    sasrec.init(r);
    check_batched(sasrec, split);
    Stosa<float> stosa(test::make_config<StosaConfig>(
        {{"num_items", 60}, {"maxlen", 12}, {"dim", 8}, {"heads", 2}}));
    stosa.init(r);
    check_batched(stosa, split);
    set_threads(2);
}
