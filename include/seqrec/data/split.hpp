/// \file data/split.hpp
/// Leave-one-out split (MODELS.md 1.2): test = last item, validation = second last, training = the
/// rest; users with fewer than 3 items keep everything in training and are not evaluated.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/data/dataset.hpp"

namespace seqrec {

struct Split {
    std::vector<std::vector<ItemId>> train;  ///< per user, oldest first
    std::vector<ItemId> valid, test;         ///< per user; 0 = user not evaluated
    Index num_items = 0;

    Index num_users() const { return Index(train.size()); }
    /// History that precedes the validation (false) or test (true) target.
    std::vector<ItemId> history(Index u, bool for_test) const {
        std::vector<ItemId> h = train[std::size_t(u)];
        if (for_test) h.push_back(valid[std::size_t(u)]);
        return h;
    }
};

inline Split leave_one_out(const Dataset& ds) {
    Split s;
    s.num_items = ds.num_items();
    const std::size_t U = ds.sequences.size();
    s.train.resize(U);
    s.valid.assign(U, 0);
    s.test.assign(U, 0);
    for (std::size_t u = 0; u < U; ++u) {
        const auto& seq = ds.sequences[u];
        if (seq.size() < 3) {
            s.train[u] = seq;
            continue;
        }
        s.train[u].assign(seq.begin(), seq.end() - 2);
        s.valid[u] = seq[seq.size() - 2];
        s.test[u] = seq.back();
    }
    return s;
}

/// Users with a validation and test target (3 or more interactions).
inline Index evaluable_users(const Split& s) {
    Index n = 0;
    for (const ItemId t : s.test) n += t != 0 ? 1 : 0;
    return n;
}

/// DataError when no user can be validated or tested: metrics over zero users would print as
/// zeros and look like a (very bad) result.
inline void require_evaluable(const Split& s, const std::string& source) {
    if (evaluable_users(s) == 0)
        throw DataError(source +
                        ": no user has 3 or more interactions, so none can be validated "
                        "or tested (leave-one-out holds out each user's last two)");
}

}  // namespace seqrec
