// Whole-model gradient checks for SASRec + BCE, + CE and + sampled CE (MODELS.md §8.11) and the
// §11 invariants that concern SASRec (causality, padding, last-slot inference).
#include <doctest/doctest.h>

#include <seqrec/models/sasrec.hpp>
#include <seqrec/train/objective.hpp>

#include "support/fixtures.hpp"
#include "support/gradient_check.hpp"
#include "support/objective_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

namespace {

SASRec<double> small_model(double dropout, std::uint64_t seed) {
    SASRec<double> m(make_config<SASRecConfig>(
        {{"num_items", 9}, {"maxlen", 6}, {"dim", 4}, {"heads", 2}, {"dropout", dropout}}));
    Rng rng(seed);
    m.init(rng);
    perturb_constants(m, seed, 0.2);
    return m;
}

/// Windows of random lengths, including a full window (6) and a length-1 window, with repeats.
std::vector<TrainSample> batch_of_windows() {
    std::vector<std::vector<ItemId>> seqs = {
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 2},  // longer than n: full window
        {4, 4},                          // length-1 window, repeated id
        {9, 3, 7, 3},
        {6, 1, 6},  // length 2
        {2, 5, 8, 1, 5}};
    std::vector<TrainSample> out;
    Rng rng(77);
    for (const auto& s : seqs) {
        TrainSample t;
        make_train_sample(s, 6, t);
        sample_negatives(sorted_unique(s), 9, t.target.size(), t.negative, rng);
        out.push_back(t);
    }
    return out;
}

/// Sampled CE's shared negatives for the 9-item model: a repeat (7), targets of several rows
/// (2, 3), popularity log Q.
const std::vector<ItemId> kNegatives = {7, 2, 7, 3, 9};
const NegativeSampling kSampling(NegativeSampler::popularity, 5, {0, 4, 1, 0, 7, 2, 2, 9, 0, 3});

/// The batch's windows in packs of `per_pack` (dropout frozen: the same masks on every call).
double batch_loss(const SASRec<double>& m, const std::vector<TrainSample>& batch, LossKind kind,
                  SASRec<double>* grad, Index per_pack = 2) {
    double targets = 0;
    for (const auto& s : batch) targets += double(s.target.size());
    ObjectiveSpec spec = small_chunks(kind);
    spec.pack_windows = per_pack;
    spec.negatives = &kNegatives;
    spec.log_q = &kSampling.log_q();
    return packed_loss(m, batch, spec, 1.0 / targets, grad, 5);
}

}  // namespace

TEST_CASE("SASRec + loss: every parameter gradient matches central differences") {
    // Packs of 2 split the 5 windows (6, 1, 3, 2, 4 rows) into 3 packs; the default packs them
    // all in one.
    for (LossKind kind : {LossKind::bce, LossKind::ce, LossKind::sampled_ce})
        for (Index per_pack : {Index(2), Index(0)})
            for (double p : {0.0, 0.3}) {
                INFO("loss " << to_string(kind));
                CAPTURE(per_pack);
                CAPTURE(p);
                SASRec<double> model = small_model(p, 3);
                const auto batch = batch_of_windows();
                CHECK(batch[0].input.size() == 6);
                CHECK(batch[1].input.size() == 1);
                SASRec<double> grad = model.zeros_like();
                batch_loss(model, batch, kind, &grad, per_pack);
                auto loss = [&] { return batch_loss(model, batch, kind, nullptr, per_pack); };
                auto params = param_list<double>(model);
                auto grads = param_list<double>(grad);
                REQUIRE(params.size() == 2 + 2 * 14 + 2);  // E, P; 14 per block; LN_out
                for (std::size_t i = 0; i < params.size(); ++i) {
                    INFO("parameter " << params[i].name);
                    CHECK(
                        gradients_match(*grads[i].value, numeric_gradient(*params[i].value, loss)));
                }
                CHECK(grad.embedding.E.row(0).isZero());  // padding row gets nothing
            }
}

TEST_CASE("SASRec: a pack of windows computes what each window computes alone") {
    for (const char* variant : {"sasrec", "mqsa", "rpesa"}) {
        CAPTURE(variant);
        SASRecConfig cfg = make_config<SASRecConfig>(
            {{"num_items", 9}, {"maxlen", 6}, {"dim", 4}, {"heads", 2}, {"dropout", 0.0}});
        if (std::string(variant) == "mqsa") cfg.multi_query = true;
        if (std::string(variant) == "rpesa") {
            cfg.attention = AttentionKind::relative;
            cfg.max_rel = 2;
        }
        SASRec<double> model(cfg);
        Rng init(5);
        model.init(init);
        perturb_constants(model, 5, 0.2);
        const auto batch = batch_of_windows();
        WindowPack pack;
        for (const auto& s : batch) pack.add(s.input.data(), Index(s.input.size()));
        SASRec<double>::Cache packed, alone;
        const Mat H = model.forward(pack.ids.data(), pack.view(), packed, nullptr);
        REQUIRE(H.rows() == 16);
        Mat dH = Mat::Random(H.rows(), H.cols());
        SASRec<double> g_pack = model.zeros_like(), g_alone = model.zeros_like();
        model.backward(dH, pack.ids.data(), pack.view(), packed, g_pack);
        for (std::size_t w = 0; w < batch.size(); ++w) {
            const Index o = pack.offsets[w], L = Index(batch[w].input.size());
            const Mat h = model.forward(batch[w].input, alone, nullptr);
            CHECK(relative_error(h, H.middleRows(o, L)) < 1e-13);
            model.backward(dH.middleRows(o, L), batch[w].input, alone, g_alone);
        }
        CHECK(relative_error(g_pack.params().values(), g_alone.params().values()) < 1e-12);
        // Backward adds: a second call doubles every gradient.
        model.backward(dH, pack.ids.data(), pack.view(), packed, g_pack);
        CHECK(relative_error(g_pack.params().values(), 2.0 * g_alone.params().values()) < 1e-12);
    }
}

TEST_CASE("SASRec: sampled check on a larger item table (>= 50 entries)") {
    SASRec<double> model(make_config<SASRecConfig>(
        {{"num_items", 300}, {"maxlen", 8}, {"dim", 6}, {"blocks", 1}, {"dropout", 0.2}}));
    Rng init(4);
    model.init(init);
    TrainSample s;
    make_train_sample({5, 17, 250, 3, 99, 5, 140, 299, 300, 1}, 8, s);
    Rng neg(1);
    sample_negatives(sorted_unique(s.input), 300, s.target.size(), s.negative, neg);
    for (LossKind kind : {LossKind::bce, LossKind::ce}) {
        SASRec<double> grad = model.zeros_like();
        ObjectiveWorkspace<SASRec<double>> ws;
        auto run = [&](SASRec<double>* g) {
            Rng drop(8);
            return window_objective(model, s, ObjectiveSpec{kind}, 0.125, g, ws, &drop);
        };
        run(&grad);
        CHECK(sampled_relative_error(
                  grad.embedding.E, model.embedding.E, [&] { return run(nullptr); }, 60, 1) < 1e-6);
    }
}

TEST_CASE("SASRec: causality, padding independence and last-slot inference") {
    SASRec<double> model = small_model(0.0, 11);
    SASRec<double>::Cache c;
    const std::vector<ItemId> a = {3, 1, 4, 1, 5};
    std::vector<ItemId> b = a;
    b[4] = 9;
    b[3] = 2;
    const Mat ha = model.forward(a, c, nullptr);
    const Mat hb = model.forward(b, c, nullptr);
    CHECK(ha.topRows(3) == hb.topRows(3));  // bit-identical (exact masking)
    CHECK(ha.row(4) != hb.row(4));

    // Padding: E[0] never influences the scores.
    Vector<double> s1, s2;
    model.score_next(a, s1, c);
    model.embedding.E.row(0).setConstant(5.0);
    model.score_next(a, s2, c);
    CHECK(s1.tail(9) == s2.tail(9));
    model.embedding.E.row(0).setZero();

    // Last-slot inference path equals the last row of the full forward.
    Buf h;
    model.encode_last(a, h, c);
    const Mat full = model.forward(a, c, nullptr);
    CHECK(relative_error(h.row(0), full.row(4)) < 1e-12);

    // Histories longer than n use their last n items.
    std::vector<ItemId> longer = {7, 7, 7, 3, 1, 4, 1, 5};
    std::vector<ItemId> last6 = {7, 3, 1, 4, 1, 5};
    Buf h1, h2;
    model.encode_last(longer, h1, c);
    model.encode_last(last6, h2, c);
    CHECK(h1 == h2);
}

TEST_CASE("SASRecConfig: invalid values are rejected with the rule") {
    SASRecConfig cfg;
    cfg.num_items = 10;
    cfg.dim = 50;
    cfg.heads = 3;
    CHECK_THROWS_WITH_AS(cfg.check(), "heads = 3 must divide dim = 50", ConfigError);
    cfg.heads = 1;
    cfg.dropout = 1.0;
    CHECK_THROWS_AS(cfg.check(), ConfigError);
}
