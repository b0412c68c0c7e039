// Sampled-softmax CE (losses/sampled_softmax.hpp): gradients against central differences with
// the log-Q correction of popularity sampling, a negative equal to a target, and a repeated
// negative; equal to full CE when the negatives are the whole catalogue; dE adds; the samplers
// draw from the distribution their log Q describes.
#include <doctest/doctest.h>

#include <seqrec/losses/cross_entropy.hpp>
#include <seqrec/losses/sampled_softmax.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("sampled softmax: gradients match central differences, with the log-Q correction") {
    std::mt19937_64 rng(5);
    const Index R = 7, d = 4, N = 9;
    Mat H(R, d), E(N + 1, d);
    fill_uniform(H, rng);
    fill_uniform(E, rng);
    E *= 2.0;
    E.row(0).setZero();
    const std::vector<ItemId> pos = {3, 9, 1, 3, 7, 2, 5};
    // 3 is row 0's and row 3's target (left out of those rows); 6 is drawn twice.
    const std::vector<ItemId> neg = {6, 3, 8, 6, 1};
    const std::vector<Index> counts = {0, 5, 0, 2, 9, 1, 1, 3, 0, 4};
    for (NegativeSampler kind : {NegativeSampler::uniform, NegativeSampler::popularity}) {
        CAPTURE(to_string(kind));
        const NegativeSampling sampling(kind, Index(neg.size()), counts);
        const auto& log_q = sampling.log_q();
        const double scale = 0.3;
        auto loss = [&] {
            SampledSoftmaxWorkspace<double> w;
            Buffer<double> g;
            return sampled_softmax_loss<double>(H, E, pos, neg, log_q, scale, g, nullptr, w);
        };
        // Reference, row by row with plain loops.
        double ref = 0.0;
        for (Index r = 0; r < R; ++r) {
            const double zt = H.row(r).dot(E.row(pos[r])) - log_q[pos[r]];
            double sum = std::exp(zt);
            for (ItemId n : neg)
                if (n != pos[r]) sum += std::exp(H.row(r).dot(E.row(n)) - log_q[n]);
            ref += std::log(sum) - zt;
        }
        SampledSoftmaxWorkspace<double> ws;
        Buffer<double> dH;
        Param<double> dE(N + 1, d, ParamRole::item_table);
        const double value =
            sampled_softmax_loss<double>(H, E, pos, neg, log_q, scale, dH, &dE, ws);
        CHECK(value == doctest::Approx(scale * ref).epsilon(1e-13));
        CHECK(relative_error(dH, numeric_gradient(H, loss)) < 1e-6);
        CHECK(relative_error(dE, numeric_gradient(E, loss)) < 1e-6);
        CHECK(dE.row(4).isZero(0.0));  // neither a target nor a negative
        CHECK(dE.row(0).isZero(0.0));
        const Mat once = dE;  // a second call adds into dE and rewrites dH
        sampled_softmax_loss<double>(H, E, pos, neg, log_q, scale, dH, &dE, ws);
        CHECK(relative_error(dE, 2.0 * once) < 1e-14);
        CHECK(relative_error(dH, numeric_gradient(H, loss)) < 1e-6);
    }
}

TEST_CASE("sampled softmax over the whole catalogue, uniform, is full CE") {
    std::mt19937_64 rng(6);
    const Index R = 5, d = 3, N = 8;
    Mat H(R, d), E(N + 1, d);
    fill_uniform(H, rng);
    fill_uniform(E, rng);
    const std::vector<ItemId> pos = {1, 8, 4, 4, 2};
    std::vector<ItemId> all;
    for (ItemId i = 1; i <= ItemId(N); ++i) all.push_back(i);
    const NegativeSampling uniform(NegativeSampler::uniform, N, std::vector<Index>(N + 1, 0));
    Buffer<double> dH1, dH2;
    Param<double> dE1(N + 1, d, ParamRole::item_table), dE2(N + 1, d, ParamRole::item_table);
    SampledSoftmaxWorkspace<double> ws1;
    CrossEntropyWorkspace<double> ws2;
    const double sampled =
        sampled_softmax_loss<double>(H, E, pos, all, uniform.log_q(), 0.5, dH1, &dE1, ws1);
    const double full = cross_entropy_loss<double>(H, E, pos, 0.5, dH2, &dE2, ws2);
    CHECK(sampled == doctest::Approx(full).epsilon(1e-13));
    CHECK(relative_error(dH1, dH2) < 1e-12);
    CHECK(relative_error(dE1, dE2) < 1e-12);
}

TEST_CASE("negative samplers draw what their log Q says, with replacement") {
    const std::vector<Index> counts = {0, 0, 9, 29, 1};  // popularity = count + 1: 1, 10, 30, 2
    const NegativeSampling pop(NegativeSampler::popularity, 1000, counts);
    Rng rng(3);
    std::vector<ItemId> draws;
    std::vector<double> seen(5, 0.0);
    for (int rep = 0; rep < 40; ++rep) {
        pop.draw(rng, draws);
        REQUIRE(draws.size() == 1000);
        for (ItemId i : draws) {
            REQUIRE((i >= 1 && i <= 4));
            seen[std::size_t(i)] += 1.0 / 40.0;  // mean draws per batch of 1000
        }
    }
    for (ItemId i = 1; i <= 4; ++i) {  // K q(i) = exp(log Q(i)); 5 sd of a binomial mean
        const double expected = std::exp(pop.log_q()[std::size_t(i)]);
        CHECK(std::abs(seen[std::size_t(i)] - expected) < 5.0 * std::sqrt(expected / 40.0) + 0.1);
    }
    CHECK(std::exp(pop.log_q()[3]) == doctest::Approx(1000.0 * 30.0 / 43.0));
    const NegativeSampling uni(NegativeSampler::uniform, 3, counts);
    CHECK(std::exp(uni.log_q()[1]) == doctest::Approx(3.0 / 4.0));
    Rng a(9), b(9);
    std::vector<ItemId> x, y;
    uni.draw(a, x);
    uni.draw(b, y);
    CHECK(x == y);  // the same stream, the same negatives
    CHECK_THROWS_AS(NegativeSampling(NegativeSampler::uniform, 0, counts), ConfigError);
}
