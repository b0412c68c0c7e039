// Training: determinism across thread counts, and that training learns (Adam: optim/).
#include <doctest/doctest.h>

#include <cmath>
#include <seqrec/data/synthetic.hpp>
#include <seqrec/models/sasrec.hpp>
#include <seqrec/train/trainer.hpp>

#include "support/fixtures.hpp"

using namespace seqrec;

namespace {
SASRec<float> fresh_model(Index num_items) {
    SASRec<float> m(test::make_config<SASRecConfig>(
        {{"num_items", num_items}, {"maxlen", 20}, {"dim", 16}, {"heads", 2}, {"dropout", 0.2}}));
    Rng rng(9);
    m.init(rng);
    return m;
}

}  // namespace

TEST_CASE("same seed gives bit-identical weights and metrics for 1 and 2 threads") {
    const Split split = test::synthetic_split(120, 60, 8, 40, 4);
    TrainOptions o;
    o.epochs = 2;
    o.batch = 32;
    std::vector<Matrix<float>> weights[2];
    double ndcg[2];
    for (int run = 0; run < 2; ++run) {
        set_threads(run + 1);
        auto model = fresh_model(split.num_items);
        for (LossKind loss : {LossKind::bce, LossKind::ce}) {
            o.loss = loss;
            Trainer<SASRec<float>>(o).fit(model, split);
        }
        for (const auto& p : param_list<float>(model)) weights[run].push_back(*p.value);
        ndcg[run] = evaluate(model, split, true).get("NDCG@10");
    }
    set_threads(2);
    REQUIRE(weights[0].size() == weights[1].size());
    for (std::size_t i = 0; i < weights[0].size(); ++i) CHECK(weights[0][i] == weights[1][i]);
    CHECK(ndcg[0] == ndcg[1]);
}

TEST_CASE("training on sequential data beats an untrained model by a wide margin") {
    const Split split = test::synthetic_split(400, 80, 8, 40, 4);
    auto model = fresh_model(split.num_items);
    const double before = evaluate(model, split, false).get("NDCG@10");
    TrainOptions o;
    o.epochs = 15;
    o.batch = 64;
    o.loss = LossKind::ce;
    o.adam.lr = 3e-3;
    const TrainResult r = Trainer<SASRec<float>>(o).fit(model, split);
    const double after = evaluate(model, split, false).get("NDCG@10");
    CHECK(r.best_valid.get("NDCG@10") == doctest::Approx(after));  // best weights restored
    CHECK(after > before + 0.1);
    CHECK(r.log.size() == std::size_t(r.epochs_run));
}

namespace {
/// Sees each step's gradient between the local reduction and the optimiser step.
struct RecordingReducer final : GradientReducer<float> {
    long calls = 0;
    Index n = 0;
    float scale = 1.0f;
    double norms = 0.0;  // sum over steps of the L2 norm it hands on
    void sum(float* data, Index count) override {
        ++calls;
        n = count;
        double sq = 0.0;
        for (Index i = 0; i < count; ++i) {
            data[i] *= scale;
            sq += double(data[i]) * double(data[i]);
        }
        norms += std::sqrt(sq);
    }
    int rank() const override { return 0; }
    int world() const override { return 1; }
};
}  // namespace

TEST_CASE("the gradient reducer runs once per step on the flat gradient, before Adam") {
    set_threads(2);
    const Split split = test::synthetic_split(64, 40);
    TrainOptions o;
    o.epochs = 1;
    o.batch = 16;
    o.patience = 0;
    std::vector<EpochLog> seen;
    RecordingReducer reducer;
    TrainHooks hooks;
    hooks.reducer = &reducer;
    hooks.on_epoch = [&](const EpochLog& e) { seen.push_back(e); };
    auto model = fresh_model(split.num_items);
    auto plain = model;
    Trainer<SASRec<float>>(o).fit(model, split, hooks);
    Index trainable = 0;
    for (const auto& s : split.train) trainable += s.size() >= 2 ? 1 : 0;
    CHECK(reducer.calls == (trainable + 15) / 16);
    CHECK(reducer.n == model.params().size());
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].validated);
    CHECK(seen[0].valid.users > 0);
    // The epoch's gradient norm is the mean over its steps of the norm after the reducer.
    CHECK(seen[0].grad_norm > 0.0);
    CHECK(seen[0].grad_norm ==
          doctest::Approx(reducer.norms / double(reducer.calls)).epsilon(1e-5));

    // A reducer that zeroes the gradient leaves the weights where they were (Adam on g = 0
    // with no decay does not move): it sits between the reduction and the step.
    reducer.scale = 0.0f;
    auto frozen = plain;
    Trainer<SASRec<float>>(o).fit(frozen, split, hooks);
    const auto& a = frozen.params();
    const auto& b = plain.params();
    CHECK(Eigen::Map<const Vector<float>>(a.data(), a.size()) ==
          Eigen::Map<const Vector<float>>(b.data(), b.size()));
}
