// No heap allocation in steady state (design/PERF-NOTES.md §0): after a warm-up, a training
// step, an evaluation pass and a recommendation allocate nothing, for every model family and
// loss. Counted by interposing malloc in this binary (alloc_counter.cpp); run with 2 threads so
// that the parallel paths and the thread-to-window assignment are exercised.
#include <doctest/doctest.h>

#include <seqrec/seqrec.hpp>

#include "alloc/alloc_counter.hpp"
#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace seqrec;
using seqrec::test::count_allocations;

namespace {

const Split& data() {
    static const Split split = test::synthetic_split(160, 120, 3, 45);  // > maxlen: clipped
    return split;
}

SASRecConfig sasrec_config() {
    return test::make_config<SASRecConfig>({{"num_items", data().num_items},
                                            {"maxlen", 30},
                                            {"dim", 16},
                                            {"heads", 2},
                                            {"dropout", 0.2}});
}

StosaConfig stosa_config() {
    return test::make_config<StosaConfig>({{"num_items", data().num_items},
                                           {"maxlen", 30},
                                           {"dim", 16},
                                           {"heads", 2},
                                           {"attn_dropout", 0.1}});
}

/// Two batches of different users (and window lengths); returns them in `a`, `b`.
void two_batches(std::vector<Index>& a, std::vector<Index>& b) {
    for (Index u = 0; u < data().num_users(); ++u) {
        if (data().train[std::size_t(u)].size() < 2) continue;
        (a.size() < 40 ? a : b).push_back(u);
        if (b.size() == 40) break;
    }
}

template <typename Model>
void check_steady_state(Model model, TrainOptions t) {
    set_threads(2);
    using T = typename Model::Scalar;
    Rng init(3);
    model.init(init);
    Trainer<Model> trainer(t);
    Adam<T> adam(t.adam);
    std::vector<Index> a, b;
    two_batches(a, b);
    trainer.prepare(model, data());
    trainer.train_step(model, data(), 1, a.data(), a.size(), adam);  // warm-up (Adam state)
    const long second =
        count_allocations([&] { trainer.train_step(model, data(), 1, a.data(), a.size(), adam); });
    CHECK(second == 0);
    const long other =
        count_allocations([&] { trainer.train_step(model, data(), 2, b.data(), b.size(), adam); });
    CHECK(other == 0);

    for (bool sampled : {false, true}) {
        INFO("sampled evaluation " << sampled);
        EvalOptions e;
        e.sampled = sampled;
        EvalWorkspace<Model> ws;
        const Metrics first = evaluate(model, data(), false, e, ws);
        long again = count_allocations([&] { evaluate(model, data(), false, e, ws); });
        CHECK(again == 0);
        CHECK(ws.metrics.get("NDCG@10") == first.get("NDCG@10"));
        again = count_allocations([&] { evaluate(model, data(), true, e, ws); });
        CHECK(again == 0);
    }

    IdMap items;
    for (Index i = 1; i <= model.num_items(); ++i) items.add(1000 + i);
    Recommender<Model> rec(model, items);
    typename Recommender<Model>::Workspace ws;
    RecommendResponse out;
    RecommendRequest request;
    request.history = {1001, 1005, 1009, 1002, 1003, 77};  // 77 is unknown
    request.exclude = {1004};
    rec.recommend(request, ws, out);
    const auto first = out.items.size();
    CHECK(count_allocations([&] { rec.recommend(request, ws, out); }) == 0);
    CHECK(out.items.size() == first);
    CHECK(out.unknown == std::vector<std::int64_t>{77});
    request.candidates = {1001, 1006, 1007, 1008, 1006};
    rec.recommend(request, ws, out);
    CHECK(count_allocations([&] { rec.recommend(request, ws, out); }) == 0);
    CHECK(out.items.size() == 3);
    std::vector<RecommendRequest> many(130);  // three blocks, the last one short
    for (std::size_t u = 0; u < many.size(); ++u)
        for (ItemId i : data().train[u % std::size_t(data().num_users())])
            many[u].history.push_back(1000 + i);
    std::vector<RecommendResponse> answers;
    std::vector<typename Recommender<Model>::Workspace> pool;
    rec.recommend_many(many, answers, pool);
    CHECK(count_allocations([&] { rec.recommend_many(many, answers, pool); }) == 0);
    CHECK(answers.size() == many.size());

    // The type-erased handle, with its own pool.
    test::TempDir dir("alloc_served");
    save_checkpoint(dir.path, model, items);
    const auto served = load_served_model(dir.path);
    served->recommend(request, out);
    CHECK(count_allocations([&] { served->recommend(request, out); }) == 0);
    served->recommend_many(many, answers);
    CHECK(count_allocations([&] { served->recommend_many(many, answers); }) == 0);
}

}  // namespace

TEST_CASE("allocation counter sees std::vector and Eigen allocations") {
    CHECK(count_allocations([] { std::vector<int> v(1000); }) >= 1);
    CHECK(count_allocations([] { Matrix<float> m(64, 64); }) >= 1);
    CHECK(count_allocations([] {}) == 0);
}

TEST_CASE("no allocation in steady state: SASRec, BCE") {
    TrainOptions t;
    t.loss = LossKind::bce;
    check_steady_state(SASRec<float>(sasrec_config()), t);
}

TEST_CASE("no allocation in steady state: SASRec, full-softmax CE") {
    TrainOptions t;
    t.loss = LossKind::ce;
    check_steady_state(SASRec<float>(sasrec_config()), t);
}

TEST_CASE("no allocation in steady state: MQSA-TED") {
    SASRecConfig c = sasrec_config();
    c.blocks = 1;
    c.multi_query = true;
    c.query_window = 3;
    TrainOptions t;
    t.loss = LossKind::ce;
    t.distill = true;
    t.graph.window = c.maxlen;
    check_steady_state(SASRec<float>(c), t);
}

TEST_CASE("no allocation in steady state: RPESA-CAD") {
    SASRecConfig c = sasrec_config();
    c.attention = AttentionKind::relative;
    c.max_rel = 8;
    TrainOptions t;
    t.loss = LossKind::ce;
    t.distill = true;
    t.graph.symmetric = true;
    check_steady_state(SASRec<float>(c), t);
}

TEST_CASE("no allocation in steady state: SASRec + AWRSR (every mechanism)") {
    for (Refinement r : {Refinement::simple, Refinement::value, Refinement::additive}) {
        INFO(to_string(r));
        SASRecConfig c = sasrec_config();
        c.refine = r;
        check_steady_state(SASRec<float>(c), TrainOptions{});
    }
}

TEST_CASE("no allocation in steady state: STOSA (+ AWRSR M4)") {
    for (Refinement r : {Refinement::none, Refinement::stochastic}) {
        INFO(to_string(r));
        StosaConfig c = stosa_config();
        c.refine = r;
        TrainOptions t;
        t.loss = LossKind::bpr;
        check_steady_state(Stosa<float>(c), t);
    }
}

namespace {
/// Realistic shapes, where Eigen's GEMM packing blocks outgrow its 128 KiB stack limit.
Split shaped_split(Index items, Index min_len, Index max_len) {
    return test::synthetic_split(48, items, min_len, max_len);
}

template <typename Model>
void check_step_and_eval(Model model, TrainOptions t, const Split& split) {
    set_threads(2);
    Rng init(5);
    model.init(init);
    Trainer<Model> trainer(t);
    Adam<typename Model::Scalar> adam(t.adam);
    // 28 windows in 8 chunks of 3 or 4: at maxlen 200 a pack holds 3 windows, so a chunk of 4
    // runs a pack of 3, then one of 1, then the next chunk a pack of 3 again.
    std::vector<Index> batch;
    for (Index u = 0; u < split.num_users() && batch.size() < 28; ++u)
        if (split.train[std::size_t(u)].size() >= 2) batch.push_back(u);
    trainer.prepare(model, split);
    trainer.train_step(model, split, 1, batch.data(), batch.size(), adam);
    CHECK(count_allocations(
              [&] { trainer.train_step(model, split, 1, batch.data(), batch.size(), adam); }) == 0);
    EvalWorkspace<Model> ws;
    evaluate(model, split, true, EvalOptions{}, ws);
    CHECK(count_allocations([&] { evaluate(model, split, true, EvalOptions{}, ws); }) == 0);
}
}  // namespace

TEST_CASE("no allocation at ml-1m shape (maxlen 200, d 50, 3,416 items): BCE and CE") {
    const Split split = shaped_split(3416, 150, 260);
    const auto c = test::make_config<SASRecConfig>(
        {{"num_items", split.num_items}, {"maxlen", 200}, {"dim", 50}});
    for (LossKind loss : {LossKind::bce, LossKind::ce}) {
        INFO(to_string(loss));
        TrainOptions t;
        t.loss = loss;
        check_step_and_eval(SASRec<float>(c), t, split);
    }
}

TEST_CASE("no allocation at Yelp shape (maxlen 50, d 64, 20,033 items): CE + TED") {
    const Split split = shaped_split(20033, 20, 80);
    const auto c = test::make_config<SASRecConfig>({{"num_items", split.num_items},
                                                    {"maxlen", 50},
                                                    {"dim", 64},
                                                    {"blocks", 1},
                                                    {"multi_query", true}});
    TrainOptions t;
    t.loss = LossKind::ce;
    t.distill = true;
    check_step_and_eval(SASRec<float>(c), t, split);
}
