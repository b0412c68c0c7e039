// BPR + pvn on Wasserstein distances (MODELS.md 3.15-3.18, B.9).
#include <doctest/doctest.h>

#include <seqrec/losses/bpr.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("BPR + pvn loss: gradients w.r.t. sequence Gaussians and both item tables") {
    std::mt19937_64 rng(63);
    Mat mu(4, 3), sigma(4, 3), Em(7, 3), Es(7, 3);
    fill_uniform(mu, rng);
    fill_uniform(sigma, rng, 0.5, 2.0);
    fill_uniform(Em, rng);
    fill_uniform(Es, rng);
    const std::vector<ItemId> pos = {1, 2, 5, 0}, neg = {3, 6, 4, 2};
    for (double lambda : {0.0, 0.7}) {
        auto loss = [&] {
            Buf a, b;
            BprWorkspace<double> w;
            return bpr_pvn_loss(mu, sigma, Em, Es, pos, neg, lambda, 0.5, a, b,
                                static_cast<Param<double>*>(nullptr),
                                static_cast<Param<double>*>(nullptr), w);
        };
        Buf dmu, dsigma;
        Param<double> dEm(7, 3, ParamRole::item_table), dEs(7, 3, ParamRole::item_table);
        BprWorkspace<double> w;
        bpr_pvn_loss(mu, sigma, Em, Es, pos, neg, lambda, 0.5, dmu, dsigma, &dEm, &dEs, w);
        CHECK(relative_error(dmu, numeric_gradient(mu, loss)) < 1e-6);
        CHECK(relative_error(dsigma, numeric_gradient(sigma, loss)) < 1e-6);
        CHECK(relative_error(dEm, numeric_gradient(Em, loss)) < 1e-6);
        CHECK(relative_error(dEs, numeric_gradient(Es, loss)) < 1e-6);
        CHECK(dmu.row(3).isZero());  // pos 0 = no target
    }
}
