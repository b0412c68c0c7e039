// Full-softmax CE (MODELS.md 1.5) on packed rows through the streaming kernel: row blocks and item
// chunks smaller than the data and dividing neither, with pass 1's logits kept or recomputed,
// against central differences, against the dense log-softmax, and against the one-block
// one-chunk result; dE and dH add.
#include <doctest/doctest.h>

#include <seqrec/losses/cross_entropy.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("cross entropy: every row block x item chunk path matches central differences") {
    std::mt19937_64 rng(77);
    const Index R = 8, d = 5, N = 11;
    Mat H(R, d), E(N + 1, d);
    fill_uniform(H, rng);
    fill_uniform(E, rng);
    E *= 2.0;  // spread the logits so a wrong chunk max or lse shows
    E.row(0).setZero();
    const std::vector<ItemId> pos = {3, 11, 11, 1, 7, 4, 5, 2};  // first, last, both chunk edges
    const double scale = 0.25;
    // Dense reference: scale * sum_r (logsumexp_j z_rj - z_ry).
    double ref = 0;
    for (Index r = 0; r < R; ++r) {
        const Eigen::VectorXd z = E.bottomRows(N) * H.row(r).transpose();
        ref += std::log((z.array() - z.maxCoeff()).exp().sum()) + z.maxCoeff() - z(pos[r] - 1);
    }
    ref *= scale;
    Buffer<double> dH_one;
    Param<double> dE_one(N + 1, d, ParamRole::item_table);
    // keep_bytes 0: pass 2 recomputes the logits instead of reading the ones pass 1 kept.
    for (SoftmaxChunks c :
         {SoftmaxChunks{256, 1024}, SoftmaxChunks{3, 4}, SoftmaxChunks{1, 1}, SoftmaxChunks{5, 10},
          SoftmaxChunks{3, 4, 0}, SoftmaxChunks{5, 10, 0}}) {
        INFO("row block " << c.row_block << ", item chunk " << c.item_chunk << ", keep "
                          << c.keep_bytes);
        auto loss = [&] {
            CrossEntropyWorkspace<double> w;
            Buffer<double> g;
            return cross_entropy_loss<double>(H, E, pos, scale, g, nullptr, w, c);
        };
        CrossEntropyWorkspace<double> ws;
        Buffer<double> dH;
        Param<double> dE(N + 1, d, ParamRole::item_table);
        const double value = cross_entropy_loss<double>(H, E, pos, scale, dH, &dE, ws, c);
        CHECK(value == doctest::Approx(ref).epsilon(1e-13));
        CHECK(relative_error(dH, numeric_gradient(H, loss)) < 1e-6);
        CHECK(relative_error(dE, numeric_gradient(E, loss)) < 1e-6);
        CHECK(dE.row(0).isZero(0.0));  // padding is not a candidate
        if (c.row_block == 256) {
            dH_one = dH;
            dE_one = dE;
        } else {  // the chunking changes the summation order only
            CHECK(relative_error(dH, dH_one) < 1e-13);
            CHECK(relative_error(dE, dE_one) < 1e-13);
        }
        // A second call adds into dE (accumulating over packs), and dH is rewritten.
        const Mat once = dE;
        cross_entropy_loss<double>(H, E, pos, scale, dH, &dE, ws, c);
        CHECK(relative_error(dE, 2.0 * once) < 1e-14);
        CHECK(relative_error(dH, numeric_gradient(H, loss)) < 1e-6);
    }
}

TEST_CASE("cross entropy: kept and recomputed logits give the same bits, in float") {
    std::mt19937_64 rng(5);
    const Index R = 37, d = 16, N = 301;
    Matrix<float> H = Matrix<float>::Zero(R, d), E = Matrix<float>::Zero(N + 1, d);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (Index i = 0; i < H.size(); ++i) H.data()[i] = u(rng);
    for (Index i = d; i < E.size(); ++i) E.data()[i] = u(rng);
    std::vector<ItemId> pos(static_cast<std::size_t>(R));
    for (Index r = 0; r < R; ++r) pos[std::size_t(r)] = ItemId(1 + (r * 97) % N);
    // Blocks of 16, 16 and 5 rows. Budget 16 x N floats: every block keeps its logits; 10 x N:
    // the 16-row blocks recompute and the 5-row block keeps, two paths within one call.
    for (std::size_t budget : {std::size_t(0), std::size_t(16 * N * 4), std::size_t(10 * N * 4)}) {
        CAPTURE(budget);
        SoftmaxChunks kept{16, 64}, recomputed{16, 64, 0};
        kept.keep_bytes = budget;
        CrossEntropyWorkspace<float> w1, w2;
        Buffer<float> dH1, dH2;
        Param<float> dE1(N + 1, d, ParamRole::item_table), dE2(N + 1, d, ParamRole::item_table);
        const double l1 = cross_entropy_loss<float>(H, E, pos, 0.5f, dH1, &dE1, w1, kept);
        const double l2 = cross_entropy_loss<float>(H, E, pos, 0.5f, dH2, &dE2, w2, recomputed);
        CHECK(l1 == l2);
        CHECK(dH1 == dH2);
        CHECK(dE1 == dE2);
    }
}

TEST_CASE("cross entropy: targets outside 1..N are rejected") {
    Mat H = Mat::Ones(2, 3), E = Mat::Ones(5, 3);
    CrossEntropyWorkspace<double> ws;
    Buffer<double> dH;
    const auto bad = [&](std::vector<ItemId> pos) {
        return cross_entropy_loss<double>(H, E, pos, 1.0, dH, nullptr, ws);
    };
    CHECK_THROWS_AS(bad({1, 0}), ShapeError);
    CHECK_THROWS_AS(bad({1, 5}), ShapeError);
    CHECK_THROWS_AS(bad({1}), ShapeError);
}
