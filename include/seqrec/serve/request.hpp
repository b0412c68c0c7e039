/// \file serve/request.hpp
/// A recommendation request and its answer, on external item ids (the ids of the user's files).
#pragma once

#include <cstdint>
#include <vector>

#include "seqrec/core/types.hpp"

namespace seqrec {

/// One recommended item (external id) and its score.
struct Recommendation {
    std::int64_t item;
    double score;
};

struct RecommendRequest {
    std::vector<std::int64_t> history;  ///< oldest first
    Index k = 10;                       ///< at most k items; k <= 0 gives an empty answer
    bool exclude_history = true;        ///< never recommend an item of the (clipped) history
    std::vector<std::int64_t> exclude;  ///< never recommend these either
    /// When not empty, only these items are ranked (an allow-list); all items otherwise.
    std::vector<std::int64_t> candidates;
    /// When > 0, only the last max_history items of `history` are used (and excluded). The model
    /// itself reads at most its window (maxlen) of them.
    Index max_history = 0;
};

struct RecommendResponse {
    /// Best first; ties broken by the lower internal id, so answers are deterministic.
    std::vector<Recommendation> items;
    /// Ids of the request (history, exclude, candidates, in that order) that the model does not
    /// know; they are otherwise ignored. A history with no known item gives no items.
    std::vector<std::int64_t> unknown;
};

}  // namespace seqrec
