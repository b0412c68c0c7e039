/// \file support/fixtures.hpp
/// Small models and data for tests, stated in one line each: configs from JSON fields (the run
/// config schema, io/config.hpp; unknown fields fail), synthetic splits, and non-degenerate
/// gains and biases after init.
#pragma once

#include <random>
#include <seqrec/data/split.hpp>
#include <seqrec/data/synthetic.hpp>
#include <seqrec/io/config.hpp>
#include <string>

#include "support/gradient_check.hpp"

namespace seqrec::test {

/// A model config with the given fields (others at their defaults), checked.
template <typename Config>
Config make_config(const nlohmann::json& fields) {
    return config_from_json<Config>(fields, "test config");
}

/// Leave-one-out split of the built-in synthetic generator (defaults: SyntheticOptions').
inline Split synthetic_split(Index users, Index items, Index min_len = 8, Index max_len = 40,
                             Index topics = 8) {
    SyntheticOptions o;
    o.users = users;
    o.items = items;
    o.min_len = min_len;
    o.max_len = max_len;
    o.topics = topics;
    return leave_one_out(synthetic_dataset(o));
}

/// Init sets gains to 1 and biases (and RPESA's tables) to 0, where a gradient check cannot
/// see a wrong term; this draws gains in [1 - spread, 1 + spread] and the others in +-spread.
template <typename Model>
void perturb_constants(Model& m, std::uint64_t seed, double spread = 0.3) {
    std::mt19937_64 g(seed);
    m.for_each_param("", [&](const std::string&, auto& p) {
        if (p.role() == ParamRole::norm_gain)
            fill_uniform(p, g, 1.0 - spread, 1.0 + spread);
        else if (p.role() == ParamRole::bias || p.role() == ParamRole::norm_bias ||
                 p.role() == ParamRole::relative_table)
            fill_uniform(p, g, -spread, spread);
    });
}

}  // namespace seqrec::test
