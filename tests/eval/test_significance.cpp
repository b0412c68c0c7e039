// Paired t-test over seeds (eval/significance.hpp) against closed forms and tabled quantiles.
#include <doctest/doctest.h>

#include <cmath>
#include <seqrec/eval/significance.hpp>

using namespace seqrec;

TEST_CASE("incomplete beta matches its closed forms on both sides of the switch point") {
    for (double x : {0.01, 0.2, 0.5, 0.7, 0.99}) {
        CAPTURE(x);
        CHECK(regularized_incomplete_beta(1, 1, x) == doctest::Approx(x).epsilon(1e-13));
        CHECK(regularized_incomplete_beta(3.5, 1, x) ==
              doctest::Approx(std::pow(x, 3.5)).epsilon(1e-12));
        CHECK(regularized_incomplete_beta(1, 2.5, x) ==
              doctest::Approx(1 - std::pow(1 - x, 2.5)).epsilon(1e-12));
    }
    CHECK(regularized_incomplete_beta(2, 3, 0) == 0.0);
    CHECK(regularized_incomplete_beta(2, 3, 1) == 1.0);
    CHECK_THROWS_AS(regularized_incomplete_beta(0, 1, 0.5), ConfigError);
    CHECK_THROWS_AS(regularized_incomplete_beta(1, 1, 1.5), ConfigError);
}

TEST_CASE("Student's t two-sided p: closed forms for 1 and 2 df, tabled 5% quantiles") {
    const double pi = std::acos(-1.0);
    for (double t : {0.0, 0.3, 1.0, 2.5, -4.0, 40.0}) {
        CAPTURE(t);
        CHECK(student_t_two_sided_p(t, 1) ==
              doctest::Approx(1 - 2 / pi * std::atan(std::abs(t))).epsilon(1e-12));
        CHECK(student_t_two_sided_p(t, 2) ==
              doctest::Approx(1 - std::abs(t) / std::sqrt(2 + t * t)).epsilon(1e-12));
    }
    // 97.5% quantiles of t with 4, 10 and 30 df; the normal's for a very large df.
    CHECK(student_t_two_sided_p(2.7764451052, 4) == doctest::Approx(0.05).epsilon(1e-8));
    CHECK(student_t_two_sided_p(2.2281388520, 10) == doctest::Approx(0.05).epsilon(1e-8));
    CHECK(student_t_two_sided_p(-2.0422724563, 30) == doctest::Approx(0.05).epsilon(1e-8));
    CHECK(student_t_two_sided_p(1.9599639845, 1e7) == doctest::Approx(0.05).epsilon(1e-5));
    CHECK(student_t_two_sided_p(INFINITY, 3) == 0.0);
}

TEST_CASE("paired t-test on per-seed differences") {
    // RPESA against SASRec-CE on Beauty, NDCG@5 of three seeds (REPRODUCTION.md): t 5.0.
    const PairedTest r = paired_t_test({0.0510, 0.0486, 0.0503}, {0.0514, 0.0490, 0.0505});
    REQUIRE(r.tested());
    REQUIRE(r.differences.size() == 3);
    CHECK(r.differences[2] == doctest::Approx(0.0002));
    CHECK(r.mean == doctest::Approx(0.001 / 3));
    CHECK(r.sd == doctest::Approx(0.0002 / std::sqrt(3.0)));
    CHECK(r.t == doctest::Approx(5.0));
    CHECK(r.p == doctest::Approx(1 - 5 / std::sqrt(27.0)));

    const PairedTest flip = paired_t_test({0.0514, 0.0490, 0.0505}, {0.0510, 0.0486, 0.0503});
    CHECK(flip.t == doctest::Approx(-5.0));
    CHECK(flip.p == doctest::Approx(r.p));

    const PairedTest same_gap = paired_t_test({1, 2}, {1.5, 2.5});
    CHECK(same_gap.sd == 0.0);
    CHECK(std::isinf(same_gap.t));
    CHECK(same_gap.p == 0.0);
    const PairedTest equal = paired_t_test({1, 2}, {1, 2});
    CHECK(equal.t == 0.0);
    CHECK(equal.p == 1.0);

    const MeanSd ms = mean_and_sd({2, 4, 9});
    CHECK(ms.mean == doctest::Approx(5.0));
    CHECK(ms.sd == doctest::Approx(std::sqrt(13.0)));
    CHECK(mean_and_sd({7}).sd == 0.0);

    const PairedTest none = paired_t_test({}, {});
    CHECK_FALSE(none.tested());
    CHECK(std::isnan(none.p));

    const PairedTest one = paired_t_test({0.1}, {0.2});
    CHECK_FALSE(one.tested());
    CHECK(one.mean == doctest::Approx(0.1));
    CHECK(std::isnan(one.p));
    CHECK_THROWS_AS(paired_t_test({1, 2}, {1}), ConfigError);
}
