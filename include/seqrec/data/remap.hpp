/// \file data/remap.hpp
/// Re-expresses a dataset in another item-id map (a trained model's), so that the model can
/// evaluate it. Items the map does not know cannot be scored and are dropped.
#pragma once

#include <vector>

#include "seqrec/data/dataset.hpp"

namespace seqrec {

/// Rewrites every sequence in `items`' internal ids; returns the number of interactions dropped.
inline Index remap_items(Dataset& ds, const IdMap& items) {
    Index dropped = 0;
    for (auto& seq : ds.sequences) {
        std::vector<ItemId> mapped;
        mapped.reserve(seq.size());
        for (ItemId i : seq) {
            if (const auto m = items.find(ds.items.external(i)))
                mapped.push_back(m);
            else
                ++dropped;
        }
        seq = std::move(mapped);
    }
    ds.items = items;
    return dropped;
}

}  // namespace seqrec
