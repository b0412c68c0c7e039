// STOSA and AWRSR-on-STOSA as whole models: every parameter gradient (MODELS.md §8.11) and
// invariants 1, 6 and 7 of §11. Its layers and loss have their own files under layers/, losses/.
#include <doctest/doctest.h>

#include <seqrec/models/stosa.hpp>
#include <seqrec/train/objective.hpp>

#include "support/fixtures.hpp"
#include "support/layer_check.hpp"
#include "support/objective_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("STOSA (+AWRSR M1-M4) whole model: every parameter gradient matches") {
    const std::vector<std::vector<ItemId>> seqs = {
        {1, 2, 3, 4, 5, 6, 7, 8, 9}, {4, 2}, {9, 3, 7, 1}, {2, 5, 8, 1, 6}};
    for (Refinement m : {Refinement::none, Refinement::simple, Refinement::value,
                         Refinement::additive, Refinement::stochastic}) {
        for (bool pass : {false, true}) {
            INFO("refine " << std::string(to_string(m)) << " passthrough " << pass);
            const auto cfg = make_config<StosaConfig>({{"num_items", 10},
                                                       {"maxlen", 6},
                                                       {"dim", 4},
                                                       {"layers", 2},
                                                       {"heads", 2},
                                                       {"dropout", 0.2},
                                                       {"attn_dropout", 0.1},
                                                       {"pvn_weight", 0.3},
                                                       {"mean_passthrough", pass},
                                                       {"refine", to_string(m)}});
            Stosa<double> model(cfg);
            Rng init(5);
            model.init(init);
            // Larger, non-degenerate weights than the 0.02-std init, so that attention parameters
            // get gradients well above the finite-difference noise floor (MODELS.md §8.11).
            std::mt19937_64 g(7);
            model.for_each_param("", [&](const std::string& name, auto& w) {
                if (name.find("gamma") != std::string::npos)
                    fill_uniform(w, g, 0.6, 1.4);
                else if (name.find(".attn.") != std::string::npos)
                    fill_uniform(w, g, -1.5, 1.5);
                else
                    fill_uniform(w, g, -0.5, 0.5);
            });
            model.embedding.E_mu.row(0).setZero();
            model.embedding.E_sigma.row(0).setZero();
            std::vector<TrainSample> batch;
            Rng nr(2);
            for (const auto& s : seqs) {
                TrainSample t;
                make_train_sample(s, 6, t);
                sample_negatives(sorted_unique(s), 10, t.target.size(), t.negative, nr);
                batch.push_back(t);
            }
            auto run = [&](Stosa<double>* grad) {
                // Packs of 2: the 4 windows (6, 1, 3, 4 rows) run as 2 packs.
                return packed_loss(model, batch, small_chunks(LossKind::bpr), 1.0 / 19, grad, 9);
            };
            Stosa<double> grad = model.zeros_like();
            run(&grad);
            auto params = param_list<double>(model);
            auto grads = param_list<double>(grad);
            for (std::size_t i = 0; i < params.size(); ++i) {
                INFO("parameter " << params[i].name);
                const Mat num = numeric_gradient(*params[i].value, [&] { return run(nullptr); });
                INFO("rel " << relative_error(*grads[i].value, num) << " |a| "
                            << grads[i].value->norm() << " |n| " << num.norm());
                CHECK(gradients_match(*grads[i].value, num));
            }
            if (pass) CHECK(grad.blocks[0].ffn_mu.fc2.W.isZero());
        }
    }
}

TEST_CASE("STOSA: a pack of windows computes what each window computes alone") {
    for (Refinement m : {Refinement::none, Refinement::stochastic}) {
        for (bool pass : {false, true}) {
            INFO("refine " << std::string(to_string(m)) << " passthrough " << pass);
            Stosa<double> model(make_config<StosaConfig>({{"num_items", 10},
                                                          {"maxlen", 6},
                                                          {"dim", 4},
                                                          {"layers", 2},
                                                          {"heads", 2},
                                                          {"dropout", 0.0},
                                                          {"mean_passthrough", pass},
                                                          {"refine", to_string(m)}}));
            Rng init(6);
            model.init(init);
            std::mt19937_64 g(8);
            model.for_each_param("", [&](const std::string&, auto& w) { fill_uniform(w, g); });
            const std::vector<std::vector<ItemId>> windows = {
                {1, 2, 3, 4, 5, 6}, {4}, {9, 3, 7}, {2, 5, 8, 1}};
            WindowPack pack;
            for (const auto& w : windows) pack.add(w.data(), Index(w.size()));
            Stosa<double>::Cache packed, alone;
            model.forward(pack.ids.data(), pack.view(), packed, nullptr);
            const Mat mu = packed.mus.back(), sigma = packed.sigmas.back();
            REQUIRE(mu.rows() == 14);
            const Mat dmu = Mat::Random(14, 4), dsigma = Mat::Random(14, 4);
            Stosa<double> g_pack = model.zeros_like(), g_alone = model.zeros_like();
            model.backward(dmu, dsigma, pack.ids.data(), pack.view(), packed, g_pack);
            for (std::size_t w = 0; w < windows.size(); ++w) {
                const Index o = pack.offsets[w], L = Index(windows[w].size());
                model.forward(windows[w], alone, nullptr);
                CHECK(relative_error(alone.mus.back(), mu.middleRows(o, L)) < 1e-13);
                CHECK(relative_error(alone.sigmas.back(), sigma.middleRows(o, L)) < 1e-13);
                model.backward(dmu.middleRows(o, L), dsigma.middleRows(o, L), windows[w], alone,
                               g_alone);
            }
            CHECK(relative_error(g_pack.params().values(), g_alone.params().values()) < 1e-12);
            // Backward adds: a second call doubles every gradient.
            model.backward(dmu, dsigma, pack.ids.data(), pack.view(), packed, g_pack);
            CHECK(relative_error(g_pack.params().values(), 2.0 * g_alone.params().values()) <
                  1e-12);
        }
    }
}

TEST_CASE("STOSA: causality, scores are -W of the last slot, Wasserstein distance properties") {
    const auto cfg = make_config<StosaConfig>({{"num_items", 12},
                                               {"maxlen", 8},
                                               {"dim", 4},
                                               {"layers", 2},
                                               {"heads", 2},
                                               {"refine", "stochastic"}});
    Stosa<double> model(cfg);
    Rng init(3);
    model.init(init);
    std::mt19937_64 g(3);
    model.for_each_param("", [&](const std::string& name, auto& w) {
        if (name.find("gamma") == std::string::npos) fill_uniform(w, g, -0.5, 0.5);
    });
    Stosa<double>::Cache c;
    std::vector<ItemId> a = {3, 1, 4, 1, 5, 9}, b = a;
    b[5] = 2;
    model.forward(a, c, nullptr);
    const Mat mu_a = c.mus.back(), s_a = c.sigmas.back();
    model.forward(b, c, nullptr);
    CHECK(mu_a.topRows(5) == c.mus.back().topRows(5));
    CHECK(s_a.topRows(5) == c.sigmas.back().topRows(5));
    Vector<double> scores;
    model.score_next(a, scores, c);
    auto W = [&](const Mat& mu, const Mat& sg, Index t, ItemId i) {
        const Mat m = model.embedding.E_mu.row(i);
        const Mat cv =
            model.embedding.E_sigma.row(i).unaryExpr([](double e) { return elu(e) + 1; });
        return (mu.row(t) - m).squaredNorm() +
               (sg.row(t).cwiseSqrt() - cv.cwiseSqrt()).squaredNorm();
    };
    for (ItemId i = 1; i <= 12; ++i) CHECK(scores(i) == doctest::Approx(-W(mu_a, s_a, 5, i)));
    {  // item-side terms are cached per (model, cache): invalidate() after changing weights
        Stosa<double> changed = model;
        // Item 7 is not in the history: the query row stays the same bits, only its item-side
        // terms change (an item inside the history would move the query too).
        const Mat row7 = changed.embedding.E_sigma.row(7);
        changed.embedding.E_sigma.row(7).array() += 0.3;
        Stosa<double>::Cache fresh;
        Vector<double> s1, s2;
        changed.score_next(a, s1, fresh);
        CHECK(s1(7) != scores(7));
        changed.score_next(a, s2, c);  // another model object: recomputed
        CHECK(s1 == s2);
        changed.embedding.E_sigma.row(7) = row7;  // restored bit for bit
        changed.score_next(a, s2, c);
        CHECK(s1 == s2);  // stale until invalidated
        c.invalidate();
        changed.score_next(a, s2, c);
        CHECK(s2 == scores);
    }
    // Invariant 7 on the item distributions: symmetric, zero on itself, sqrt(W) a metric.
    auto Wi = [&](ItemId x, ItemId y) {
        const Mat cx =
            model.embedding.E_sigma.row(x).unaryExpr([](double e) { return elu(e) + 1; });
        const Mat cy =
            model.embedding.E_sigma.row(y).unaryExpr([](double e) { return elu(e) + 1; });
        return (model.embedding.E_mu.row(x) - model.embedding.E_mu.row(y)).squaredNorm() +
               (cx.cwiseSqrt() - cy.cwiseSqrt()).squaredNorm();
    };
    for (ItemId x = 1; x <= 12; ++x) {
        CHECK(Wi(x, x) == 0.0);
        for (ItemId y = 1; y <= 12; ++y) {
            CHECK(Wi(x, y) == doctest::Approx(Wi(y, x)));
            for (ItemId z = 1; z <= 12; ++z)
                CHECK(std::sqrt(Wi(x, z)) <= std::sqrt(Wi(x, y)) + std::sqrt(Wi(y, z)) + 1e-12);
        }
    }
}
