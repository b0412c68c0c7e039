/// \file data/transition_graph.hpp
/// Global item-transition graph built from training sequences only (MODELS.md 6.1, 7.3):
/// C_ij = number of times j follows i within `time_span` steps, over all users. Sparse (CSR).
#pragma once

#include <Eigen/SparseCore>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/types.hpp"

namespace seqrec {

struct TransitionGraphOptions {
    Index time_span = 1;     ///< K: pairs (t, t+k) for k = 1..K
    Index window = 0;        ///< >0: count on the last `window` items of each sequence
                             ///< (MQSA-TED counts on the training window, I11); 0 = all;
                             ///< -1 = the model's window (the trainer substitutes maxlen)
    bool symmetric = false;  ///< C <- C + C^T ("cooccurrence" for CAD, I13)
};

/// Row-major sparse N x N counts; row/column i-1 is item i (padding has no row).
using TransitionGraph = Eigen::SparseMatrix<float, Eigen::RowMajor, std::int64_t>;

/// Builds C from `train` (per-user training sequences, never validation/test items).
inline TransitionGraph build_transition_graph(const std::vector<std::vector<ItemId>>& train,
                                              Index num_items,
                                              const TransitionGraphOptions& o = {}) {
    SEQREC_CHECK(o.time_span >= 1, ConfigError, "time_span must be >= 1");
    std::vector<Eigen::Triplet<float, std::int64_t>> trips;
    for (const auto& seq : train) {
        const std::size_t start = (o.window > 0 && seq.size() > std::size_t(o.window))
                                      ? seq.size() - std::size_t(o.window)
                                      : 0;
        for (std::size_t t = start; t < seq.size(); ++t)
            for (Index k = 1; k <= o.time_span && t + std::size_t(k) < seq.size(); ++k) {
                const ItemId a = seq[t], b = seq[t + std::size_t(k)];
                trips.emplace_back(a - 1, b - 1, 1.0f);
                if (o.symmetric) trips.emplace_back(b - 1, a - 1, 1.0f);
            }
    }
    TransitionGraph C(num_items, num_items);
    C.setFromTriplets(trips.begin(), trips.end());  // duplicates are summed
    C.makeCompressed();
    return C;
}

}  // namespace seqrec
