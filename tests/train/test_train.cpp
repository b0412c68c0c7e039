// Training: determinism across thread counts, and that training learns (Adam: optim/).
#include <doctest/doctest.h>

#include <cmath>
#include <seqrec/data/synthetic.hpp>
#include <seqrec/models/sasrec.hpp>
#include <seqrec/train/trainer.hpp>

#include "support/fixtures.hpp"
#include "support/thread_process_group.hpp"

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
        for (LossKind loss : {LossKind::bce, LossKind::ce, LossKind::sampled_ce}) {
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

TEST_CASE("data-parallel training over 2 and 3 processes gives one process's weights and metrics") {
    // Processes are threads here (support/thread_process_group.hpp); tests/cli/mpi_train.sh runs
    // the same under mpirun. Batches of 16 users in 8 chunks: 3 processes own 2, 3 and 3 chunks,
    // and the last batch, smaller than 8, leaves some processes without a chunk. 400 items: a
    // chunk's touched rows travel as a row list (BCE, sampled CE), full CE's as the whole table.
    const Split split = test::synthetic_split(70, 400);
    for (LossKind loss : {LossKind::bce, LossKind::ce, LossKind::sampled_ce}) {
        CAPTURE(to_string(loss));
        TrainOptions o;
        o.epochs = 2;
        o.batch = 16;
        o.patience = 0;
        o.loss = loss;
        o.negatives = 7;
        o.sampler = NegativeSampler::popularity;
        o.distill = loss == LossKind::ce;  // the distillation heads travel in the chunks too
        o.adam.lazy = loss == LossKind::sampled_ce;  // Adam on the fold's row list
        set_threads(1);
        auto alone = fresh_model(split.num_items);
        std::vector<EpochLog> alone_log;
        TrainHooks h;
        h.on_epoch = [&](const EpochLog& e) { alone_log.push_back(e); };
        Trainer<SASRec<float>>(o).fit(alone, split, h);
        const Metrics test_alone = evaluate(alone, split, true);
        const auto& want = alone.params();
        CHECK(alone_log.back().sent_bytes == 0.0);
        for (int world : {2, 3}) {
            CAPTURE(world);
            std::vector<SASRec<float>> models(static_cast<std::size_t>(world),
                                              fresh_model(split.num_items));
            std::vector<std::vector<EpochLog>> logs(static_cast<std::size_t>(world));
            std::vector<Metrics> tests(static_cast<std::size_t>(world));
            test::ThreadWorld::run(world, [&](ProcessGroup& g) {
                const auto r = std::size_t(g.rank());
                TrainHooks hooks;
                hooks.group = &g;
                hooks.on_epoch = [&logs, r](const EpochLog& e) { logs[r].push_back(e); };
                Trainer<SASRec<float>>(o).fit(models[r], split, hooks);
                tests[r] = evaluate(models[r], split, true, {}, &g);
            });
            for (int r = 0; r < world; ++r) {
                const auto& got = models[std::size_t(r)].params();
                CHECK(Eigen::Map<const Vector<float>>(got.data(), got.size()) ==
                      Eigen::Map<const Vector<float>>(want.data(), want.size()));
                const auto& log = logs[std::size_t(r)];
                REQUIRE(log.size() == alone_log.size());
                for (std::size_t e = 0; e < log.size(); ++e) {
                    CHECK(log[e].loss == alone_log[e].loss);
                    CHECK(log[e].grad_norm == alone_log[e].grad_norm);
                    CHECK(log[e].valid.to_json() == alone_log[e].valid.to_json());
                    CHECK(log[e].sent_bytes > 0.0);
                    CHECK(log[e].received_bytes > 0.0);
                }
                CHECK(tests[std::size_t(r)].to_json() == test_alone.to_json());
            }
        }
    }
}

TEST_CASE("sharded evaluation equals one process's, sampled or full, for any number of shards") {
    const Split split = test::synthetic_split(150, 50);  // 3 blocks of 64 users: 4 shards idle one
    auto model = fresh_model(split.num_items);
    for (bool sampled : {false, true}) {
        EvalOptions e;
        e.sampled = sampled;
        e.negatives = 20;
        const Metrics want = evaluate(model, split, false, e);
        for (int world : {2, 3, 4}) {
            std::vector<Metrics> got(static_cast<std::size_t>(world));
            test::ThreadWorld::run(world, [&](ProcessGroup& g) {
                got[std::size_t(g.rank())] = evaluate(model, split, false, e, &g);
            });
            for (const auto& m : got) CHECK(m.to_json() == want.to_json());
        }
    }
}
