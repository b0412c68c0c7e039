/// \file eval/significance.hpp
/// Paired comparison of two models over seeds: Student's t on the per-seed differences of a
/// metric. Runs of one seed share initial weights and batch order across recipes, so their
/// validation curves move together; pairing by seed removes that shared noise (REPRODUCTION.md).
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"

namespace seqrec {

namespace detail {

/// Continued fraction of the regularised incomplete beta function I_x(a, b) (modified Lentz),
/// for x < (a + 1) / (a + b + 2), where it converges fast.
inline double incomplete_beta_fraction(double a, double b, double x) {
    constexpr double tiny = 1e-300, eps = 1e-15;
    const auto guard = [&](double v) { return std::abs(v) < tiny ? tiny : v; };
    double c = 1.0, d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0)), f = d;
    for (int m = 1; m <= 500; ++m) {
        // Even step: m (b - m) x / ((a + 2m - 1)(a + 2m)); odd step: -(a + m)(a + b + m) x / ...
        const double even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        f *= c * d;
        const double odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        const double step = c * d;
        f *= step;
        if (std::abs(step - 1.0) < eps) break;
    }
    return f;
}

}  // namespace detail

/// The regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1.
inline double regularized_incomplete_beta(double a, double b, double x) {
    SEQREC_CHECK(a > 0 && b > 0 && x >= 0 && x <= 1, ConfigError,
                 "incomplete beta needs a, b > 0 and x in [0, 1]");
    if (x == 0 || x == 1) return x;
    const double log_front =
        std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
    const double front = std::exp(log_front);
    if (x < (a + 1) / (a + b + 2)) return front * detail::incomplete_beta_fraction(a, b, x) / a;
    return 1.0 - front * detail::incomplete_beta_fraction(b, a, 1.0 - x) / b;  // symmetry
}

/// Two-sided p-value of Student's t with `df` degrees of freedom: P(|T| >= |t|).
inline double student_t_two_sided_p(double t, double df) {
    SEQREC_CHECK(df > 0, ConfigError, "Student's t needs df > 0");
    if (std::isinf(t)) return 0.0;
    return regularized_incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

/// Mean and sample sd (n - 1; 0 for fewer than two values) of `v`.
struct MeanSd {
    double mean = 0, sd = 0;
};
inline MeanSd mean_and_sd(const std::vector<double>& v) {
    MeanSd r;
    if (v.empty()) return r;
    for (double x : v) r.mean += x;
    r.mean /= double(v.size());
    if (v.size() < 2) return r;
    double ss = 0;
    for (double x : v) ss += (x - r.mean) * (x - r.mean);
    r.sd = std::sqrt(ss / double(v.size() - 1));
    return r;
}

/// Paired t-test of b against a (differences b_i - a_i).
struct PairedTest {
    std::vector<double> differences;
    double mean = 0, sd = 0;  ///< of the differences; sd is the sample sd (n - 1)
    double t = 0, p = 1;      ///< t = mean / (sd / sqrt(n)); p two-sided, n - 1 df
    /// n < 2: no test (t, p are NaN). Differences all equal: sd 0, t infinite (p 0) unless the
    /// mean is 0 too (t 0, p 1).
    bool tested() const { return differences.size() >= 2; }
};

inline PairedTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b) {
    SEQREC_CHECK(
        a.size() == b.size(), ConfigError,
        "paired test: " + std::to_string(a.size()) + " values against " + std::to_string(b.size()));
    PairedTest r;
    const std::size_t n = a.size();
    for (std::size_t i = 0; i < n; ++i) r.differences.push_back(b[i] - a[i]);
    const MeanSd m = mean_and_sd(r.differences);
    r.mean = m.mean;
    r.sd = m.sd;
    if (n < 2) {
        r.t = r.p = std::numeric_limits<double>::quiet_NaN();
        return r;
    }
    if (r.sd == 0) {
        r.t = r.mean == 0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), r.mean);
    } else {
        r.t = r.mean / (r.sd / std::sqrt(double(n)));
    }
    r.p = student_t_two_sided_p(r.t, double(n - 1));
    return r;
}

}  // namespace seqrec
