/// \file data/dataset.hpp
/// In-memory interaction data: one chronologically ordered item sequence per user (MODELS.md 1.1).
#pragma once

#include <string>
#include <vector>

#include "seqrec/data/id_map.hpp"

namespace seqrec {

/// sequences[u] lists internal item ids (1..N), oldest first; users are in order of first
/// appearance in the source, `users` maps them back.
struct Dataset {
    std::string name;
    IdMap users, items;
    std::vector<std::vector<ItemId>> sequences;

    Index num_items() const { return items.size(); }
    Index num_users() const { return Index(sequences.size()); }
    Index num_interactions() const {
        Index n = 0;
        for (const auto& s : sequences) n += Index(s.size());
        return n;
    }
};

}  // namespace seqrec
