// Transition graph, TED/CAD teacher and the distillation loss (MODELS.md §6, B.15, invariant 8).
#include <doctest/doctest.h>

#include <seqrec/data/transition_graph.hpp>
#include <seqrec/losses/distillation.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("teacher rows sum to 1, a single successor gets e^(1/tau) / (e^(1/tau) + N - 1)") {
    const std::vector<std::vector<ItemId>> train = {{1, 2, 3, 1, 2}, {5, 4}};
    const Index N = 6;
    const double tau = 0.2;
    TransitionTeacher teacher(build_transition_graph(train, N), tau);
    for (ItemId i = 1; i <= N; ++i) {
        double sum = 0;
        for (ItemId j = 1; j <= N; ++j) sum += teacher.prob(i, j);
        CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
    }
    const double e = std::exp(1 / tau);
    CHECK(teacher.prob(5, 4) == doctest::Approx(e / (e + N - 1)).epsilon(1e-12));
    CHECK(teacher.prob(6, 3) == doctest::Approx(1.0 / N).epsilon(1e-12));  // no successors
}

TEST_CASE("distillation loss equals the dense soft-label CE and its gradient is exact") {
    const std::vector<std::vector<ItemId>> train = {{1, 2, 3, 1, 2, 4}, {5, 4, 2}, {3, 3, 6}};
    const Index N = 7, d = 3;
    DistillationOptions o;
    o.tau = 0.5;
    o.lambda = 0.3;
    TransitionTeacher teacher(build_transition_graph(train, N), o.tau);
    std::mt19937_64 rng(41);
    Mat E(N + 1, d);
    fill_uniform(E, rng);
    E.row(0).setZero();
    const std::vector<ItemId> ids = {2, 4, 2, 7};  // repeated head item
    const double scale = 0.25;

    // Dense reference (p = 0): lambda * scale * sum_h sum_j -p^T log p^S.
    double ref = 0;
    for (ItemId i : ids) {
        Eigen::VectorXd z(N);
        for (Index j = 0; j < N; ++j)
            z(j) = std::sqrt(double(d)) * E.row(i).dot(E.row(j + 1)) / o.tau;
        const double lse = std::log((z.array() - z.maxCoeff()).exp().sum()) + z.maxCoeff();
        for (Index j = 0; j < N; ++j) ref -= teacher.prob(i, ItemId(j + 1)) * (z(j) - lse);
    }
    ref *= o.lambda * scale;
    // The heads as two windows of one pack, through every chunking.
    const std::vector<ItemId> w1(ids.begin(), ids.begin() + 1), w2(ids.begin() + 1, ids.end());
    // keep_bytes 0: pass 2 recomputes the logits instead of reading the ones pass 1 kept.
    for (SoftmaxChunks c : {SoftmaxChunks{256, 1024}, SoftmaxChunks{3, 2}, SoftmaxChunks{1, 5},
                            SoftmaxChunks{3, 2, 0}}) {
        INFO("row block " << c.row_block << ", item chunk " << c.item_chunk << ", keep "
                          << c.keep_bytes);
        auto run = [&](double p, Param<double>* dE) {
            Rng drop(9);
            DistillationWorkspace<double> w;
            w.clear(d);
            distillation_add_heads<double>(E, w1, p, &drop, w);
            distillation_add_heads<double>(E, w2, p, &drop, w);
            return distillation_loss<double>(E, teacher, o, scale, dE, w, c);
        };
        CHECK(run(0.0, nullptr) == doctest::Approx(ref).epsilon(1e-12));
        for (double p : {0.0, 0.4}) {
            CAPTURE(p);
            Param<double> dE(N + 1, d, ParamRole::item_table);
            run(p, &dE);
            CHECK(relative_error(dE, numeric_gradient(E, [&] { return run(p, nullptr); })) < 1e-6);
            CHECK(dE.row(0).isZero());
            const Mat once = dE;  // a second pack adds
            run(p, &dE);
            CHECK(relative_error(dE, 2.0 * once) < 1e-14);
        }
    }
}
