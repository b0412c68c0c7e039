// MQSA and RPESA as SASRec configurations: whole-model gradient checks with CE (+ distillation)
// and the MODELS.md §11 invariants 1-4.
#include <doctest/doctest.h>

#include <seqrec/models/sasrec.hpp>
#include <seqrec/train/objective.hpp>

#include "support/fixtures.hpp"
#include "support/gradient_check.hpp"
#include "support/objective_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

namespace {
SASRecConfig base_config() {
    return make_config<SASRecConfig>(
        {{"num_items", 9}, {"maxlen", 6}, {"dim", 4}, {"heads", 2}, {"dropout", 0.0}});
}

SASRec<double> random_model(const SASRecConfig& cfg, std::uint64_t seed) {
    SASRec<double> m(cfg);
    Rng r(seed);
    m.init(r);
    perturb_constants(m, seed);
    return m;
}

std::vector<TrainSample> windows() {
    std::vector<TrainSample> out;
    Rng rng(3);
    for (const auto& s : std::vector<std::vector<ItemId>>{
             {1, 2, 3, 4, 5, 6, 7, 8, 9}, {4, 4}, {9, 3, 7}, {2, 5, 8, 1, 5}}) {
        TrainSample t;
        make_train_sample(s, 6, t);
        sample_negatives(sorted_unique(s), 9, t.target.size(), t.negative, rng);
        out.push_back(t);
    }
    return out;
}

void check_model(SASRec<double>& model, LossKind kind, const Distillation* kd) {
    const auto batch = windows();
    auto run = [&](SASRec<double>* grad) {
        return packed_loss(model, batch, small_chunks(kind, kd), 1.0 / 19, grad, 7);
    };
    SASRec<double> grad = model.zeros_like();
    run(&grad);
    auto params = param_list<double>(model);
    auto grads = param_list<double>(grad);
    for (std::size_t i = 0; i < params.size(); ++i) {
        INFO("parameter " << params[i].name);
        CHECK(gradients_match(*grads[i].value,
                              numeric_gradient(*params[i].value, [&] { return run(nullptr); })));
    }
}
}  // namespace

TEST_CASE("MQSA (+TED) and RPESA (+CAD): every parameter gradient matches") {
    const std::vector<std::vector<ItemId>> train = {{1, 2, 3, 4, 5}, {4, 4, 2}, {9, 3, 7, 3}};
    DistillationOptions kdo;
    kdo.tau = 0.3;
    kdo.lambda = 0.2;
    TransitionTeacher teacher(build_transition_graph(train, 9), kdo.tau);
    for (double p : {0.0, 0.3}) {
        CAPTURE(p);
        const Distillation kd{&teacher, kdo, p};
        SASRecConfig mq = base_config();
        mq.dropout = p;
        mq.multi_query = true;
        mq.query_window = 3;
        mq.alpha = 0.3;
        SASRec<double> mqsa = random_model(mq, 1);
        CHECK(param_list<double>(mqsa).size() == 2 + 2 * (2 * 14 + 2));
        check_model(mqsa, LossKind::ce, &kd);
        SASRecConfig rp = base_config();
        rp.dropout = p;
        rp.attention = AttentionKind::relative;
        rp.max_rel = 2;
        SASRec<double> rpesa = random_model(rp, 2);
        check_model(rpesa, LossKind::ce, &kd);
        check_model(rpesa, LossKind::bce, nullptr);
        check_model(rpesa, LossKind::bce, &kd);  // row-local loss, packed distillation heads
        for (Refinement m : {Refinement::simple, Refinement::value, Refinement::additive}) {
            INFO("AWRSR " << to_string(m));
            SASRecConfig aw = base_config();
            aw.dropout = p;
            aw.refine = m;
            SASRec<double> awr = random_model(aw, 4);
            std::mt19937_64 g(9);
            awr.for_each_param("", [&](const std::string& name, auto& w) {
                if (name.find(".refine.") != std::string::npos) fill_uniform(w, g);
            });
            check_model(awr, LossKind::bce, nullptr);
        }
        rp.abs_pos = false;
        rp.rel_in_value = false;
        SASRec<double> rp2 = random_model(rp, 3);
        check_model(rp2, LossKind::ce, nullptr);
    }
}

TEST_CASE("invariants: MQSA L=1 copy, alpha=1, RPESA with zero tables, causality, last slot") {
    const std::vector<ItemId> seq = {3, 1, 4, 1, 5, 9};
    SASRec<double>::Cache c;

    // 2. L = 1 and the long tower copied from the short tower: Ĥ^L = Ĥ^S, so any alpha gives Ĥ^S.
    SASRecConfig mq = base_config();
    mq.multi_query = true;
    mq.query_window = 1;
    mq.alpha = 0.3;
    SASRec<double> m = random_model(mq, 5);
    m.towers[1] = m.towers[0];
    SASRecConfig plain_cfg = base_config();
    SASRec<double> plain(plain_cfg);
    plain.embedding = m.embedding;
    plain.towers[0] = m.towers[0];
    const Mat h_mq = m.forward(seq, c, nullptr);
    const Mat h_plain = plain.forward(seq, c, nullptr);
    CHECK(relative_error(h_mq, h_plain) < 1e-14);

    // 3. alpha = 1: logits equal SASRec's with the short tower's parameters, whatever L.
    mq.query_window = 3;
    mq.alpha = 1.0;
    SASRec<double> m1 = random_model(mq, 6);
    plain.embedding = m1.embedding;
    plain.towers[0] = m1.towers[0];
    CHECK(m1.forward(seq, c, nullptr) == plain.forward(seq, c, nullptr));

    // 4. RPESA with R^K = R^V = 0 is exactly SASRec.
    SASRecConfig rp = base_config();
    rp.attention = AttentionKind::relative;
    rp.max_rel = 5;
    SASRec<double> r(rp);
    Rng init(8);
    r.init(init);
    SASRec<double> s(base_config());
    s.embedding = r.embedding;
    for (std::size_t b = 0; b < 2; ++b) {
        s.towers[0].blocks[b].ln_a = r.towers[0].blocks[b].ln_a;
        s.towers[0].blocks[b].attn.wq = r.towers[0].blocks[b].attn.wq;
        s.towers[0].blocks[b].attn.wk = r.towers[0].blocks[b].attn.wk;
        s.towers[0].blocks[b].attn.wv = r.towers[0].blocks[b].attn.wv;
        s.towers[0].blocks[b].ln_f = r.towers[0].blocks[b].ln_f;
        s.towers[0].blocks[b].ffn = r.towers[0].blocks[b].ffn;
    }
    s.towers[0].ln_out = r.towers[0].ln_out;
    CHECK(r.forward(seq, c, nullptr) == s.forward(seq, c, nullptr));

    // 1. Causality for both variants, and last-slot inference equals the full forward.
    for (SASRec<double>* model : {&m1, &r}) {
        if (model == &r) {
            std::mt19937_64 g(1);
            for (auto& blk : r.towers[0].blocks) {
                auto& rel = std::get<RelativePositionScores<double>>(blk.attn.scores);
                fill_uniform(rel.rel_k, g);
                fill_uniform(rel.rel_v, g);
            }
        }
        m1.config.alpha = 0.4;
        std::vector<ItemId> changed = seq;
        changed[5] = 2;
        changed[4] = 7;
        const Mat a = model->forward(seq, c, nullptr);
        const Mat b = model->forward(changed, c, nullptr);
        CHECK(a.topRows(4) == b.topRows(4));
        Buf last;
        model->encode_last(seq, last, c);
        CHECK(relative_error(last.row(0), a.row(5)) < 1e-12);
    }
}
