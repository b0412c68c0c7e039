/// \file eval/metrics.hpp
/// Ranking metrics from the 0-based pessimistic rank of the target (MODELS.md 9.1-9.2).
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "seqrec/core/error.hpp"

namespace seqrec {

/// Rank of a target that cannot be hit (excluded, NaN score): counts as a miss everywhere.
constexpr long kMissRank = -1;

/// The metric names every evaluation reports, in order.
inline const std::vector<std::string>& metric_names() {
    static const std::vector<std::string> names = {"HR@1",   "HR@5",    "HR@10",   "HR@20",
                                                   "NDCG@5", "NDCG@10", "NDCG@20", "MRR"};
    return names;
}

/// Throws ConfigError listing the valid names when `name` is not one of them.
inline void check_metric_name(const std::string& name) {
    std::string known;
    for (const auto& n : metric_names()) {
        if (n == name) return;
        known += (known.empty() ? "" : ", ") + n;
    }
    throw ConfigError("metric '" + name + "' is not one of " + known);
}

/// Averages of HR@{1,5,10,20}, NDCG@{5,10,20} and MRR over evaluated users, in a fixed order.
struct Metrics {
    std::vector<std::pair<std::string, double>> values;
    long users = 0;

    double get(const std::string& name) const {
        for (const auto& [k, v] : values)
            if (k == name) return v;
        return std::nan("");
    }
    nlohmann::ordered_json to_json() const {
        nlohmann::ordered_json j;
        for (const auto& [k, v] : values) j[k] = v;
        j["users"] = users;
        return j;
    }
};

/// Aggregates ranks (kMissRank = miss) in the given order, so sums are deterministic. Writes
/// into `m`, reusing its storage (names fit std::string's small buffer: no allocation once sized).
inline void metrics_from_ranks(const std::vector<long>& ranks, Metrics& m) {
    static const int hr_ks[] = {1, 5, 10, 20};
    static const int ndcg_ks[] = {5, 10, 20};
    double hr[4] = {0, 0, 0, 0}, ndcg[3] = {0, 0, 0};
    double mrr = 0.0;
    long n = 0;
    for (long r : ranks) {
        ++n;
        if (r < 0) continue;
        for (int i = 0; i < 4; ++i) hr[std::size_t(i)] += r < hr_ks[i] ? 1.0 : 0.0;
        for (int i = 0; i < 3; ++i)
            ndcg[std::size_t(i)] += r < ndcg_ks[i] ? 1.0 / std::log2(double(r) + 2.0) : 0.0;
        mrr += 1.0 / (double(r) + 1.0);
    }
    m.values.clear();
    m.users = n;
    const double inv = n > 0 ? 1.0 / double(n) : 0.0;
    for (int i = 0; i < 4; ++i)
        m.values.emplace_back("HR@" + std::to_string(hr_ks[i]), hr[std::size_t(i)] * inv);
    for (int i = 0; i < 3; ++i)
        m.values.emplace_back("NDCG@" + std::to_string(ndcg_ks[i]), ndcg[std::size_t(i)] * inv);
    m.values.emplace_back("MRR", mrr * inv);
}
inline Metrics metrics_from_ranks(const std::vector<long>& ranks) {
    Metrics m;
    metrics_from_ranks(ranks, m);
    return m;
}

}  // namespace seqrec
