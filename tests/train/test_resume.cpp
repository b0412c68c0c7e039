// Resume: a run stopped after k epochs and continued from its saved training state ends with
// exactly (bitwise) the model, Adam state and early-stopping state of an uninterrupted run.
#include <doctest/doctest.h>

#include <seqrec/io/train_state_file.hpp>
#include <seqrec/models/sasrec.hpp>
#include <seqrec/models/stosa.hpp>
#include <seqrec/train/trainer.hpp>

#include "support/fixtures.hpp"

using namespace seqrec;

namespace {

bool same(const Vector<float>& a, const Vector<float>& b) {
    return a.size() == b.size() && (a.array() == b.array()).all();
}

/// Straight: `epochs` in one fit. Resumed: 2 epochs, the state through its bytes, then a fresh
/// Trainer on a model initialised from another seed (so nothing but the state carries over).
template <typename M, typename Config>
void check_resume(const Config& cfg, TrainOptions o, const Split& split) {
    o.epochs = 6;
    M straight(cfg);
    Rng r1(11);
    straight.init(r1);
    TrainState<float> s_straight;
    const TrainResult a = Trainer<M>(o).fit(straight, split, {}, &s_straight);

    TrainOptions first = o;
    first.epochs = 2;
    M part(cfg);
    Rng r2(11);
    part.init(r2);
    TrainState<float> s_part;
    Trainer<M>(first).fit(part, split, {}, &s_part);
    CHECK(s_part.epoch == 2);
    const TrainState<float> loaded =
        parse_train_state<float>(serialize_train_state(s_part), "state.bin");

    M resumed(cfg);
    Rng r3(99);
    resumed.init(r3);
    TrainState<float> s_resumed = loaded;
    std::vector<Index> epochs_seen;
    TrainHooks hooks;
    hooks.on_epoch = [&](const EpochLog& e) { epochs_seen.push_back(e.epoch); };
    const TrainResult b = Trainer<M>(o).fit(resumed, split, hooks, &s_resumed);

    CHECK(epochs_seen.front() == 3);  // the first two are not run again
    CHECK(b.epochs_run == a.epochs_run);
    CHECK(b.best_epoch == a.best_epoch);
    CHECK(b.best_valid.values == a.best_valid.values);
    CHECK(same(resumed.params().values(), straight.params().values()));  // the best weights
    CHECK(same(s_resumed.params, s_straight.params));                    // the last ones
    CHECK(same(s_resumed.adam.m, s_straight.adam.m));
    CHECK(same(s_resumed.adam.v, s_straight.adam.v));
    CHECK(s_resumed.adam.step == s_straight.adam.step);
    CHECK(s_resumed.stopping.since_best == s_straight.stopping.since_best);
    CHECK(s_resumed.stopping.best_score == s_straight.stopping.best_score);
}

}  // namespace

TEST_CASE("resuming after 2 epochs gives the uninterrupted run's model bitwise") {
    const Split split = test::synthetic_split(80, 40, 6, 20, 4);
    TrainOptions o;
    o.batch = 16;
    o.patience = 2;
    SUBCASE("SASRec, full-softmax CE") {
        o.loss = LossKind::ce;
        check_resume<SASRec<float>>(
            test::make_config<SASRecConfig>(
                {{"num_items", split.num_items}, {"maxlen", 12}, {"dim", 8}, {"heads", 2}}),
            o, split);
    }
    SUBCASE("MQSA-TED") {
        o.loss = LossKind::ce;
        o.distill = true;
        check_resume<SASRec<float>>(test::make_config<SASRecConfig>({{"num_items", split.num_items},
                                                                     {"maxlen", 12},
                                                                     {"dim", 8},
                                                                     {"multi_query", true}}),
                                    o, split);
    }
    SUBCASE("STOSA, BPR") {
        o.loss = LossKind::bpr;
        check_resume<Stosa<float>>(test::make_config<StosaConfig>({{"num_items", split.num_items},
                                                                   {"maxlen", 12},
                                                                   {"dim", 8},
                                                                   {"layers", 1},
                                                                   {"heads", 2}}),
                                   o, split);
    }
}

TEST_CASE("a damaged training state is refused in our words") {
    TrainState<float> s;
    s.epoch = 3;
    s.stopping.best_epoch = 2;
    s.params = Vector<float>::Ones(10);
    s.best_valid.values = {{"NDCG@10", 0.25}};
    const std::string good = serialize_train_state(s);
    const auto back = parse_train_state<float>(good, "s.bin");
    CHECK(back.epoch == 3);
    CHECK(back.best_valid.values == s.best_valid.values);
    CHECK((back.params.array() == 1.0f).all());
    auto error = [](const std::string& bytes) {
        try {
            parse_train_state<float>(bytes, "s.bin");
        } catch (const IoError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(error(good.substr(0, good.size() - 3)).find("s.bin: truncated at byte") == 0);
    CHECK(error(good + "x") == "s.bin: trailing bytes after the training state");
    CHECK(error("SEQRECW1" + good.substr(8)) == "s.bin: not a seqrec training state (bad magic)");
    CHECK(error(serialize_train_state(TrainState<double>{})).find("64-bit scalars") !=
          std::string::npos);
    std::string inconsistent = good;
    inconsistent[12] = char(0xff);  // epoch < 0
    for (int i = 13; i < 20; ++i) inconsistent[std::size_t(i)] = char(0xff);
    CHECK(error(inconsistent) == "s.bin: inconsistent epoch counters");
}
