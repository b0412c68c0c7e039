/// \file data/filters.hpp
/// The two clean-ups interaction logs usually need before training (RecBole's and SASRec's
/// preprocessing): dropping consecutive repeats of the same item, and k-core filtering.
#pragma once

#include <vector>

#include "seqrec/data/dataset.hpp"

namespace seqrec {

/// Drops every interaction whose item equals the user's previous one (a double click, a
/// re-rating logged twice). Returns how many were dropped.
inline Index drop_consecutive_repeats(Dataset& ds) {
    Index dropped = 0;
    for (auto& seq : ds.sequences) {
        std::size_t out = 0;
        for (std::size_t i = 0; i < seq.size(); ++i)
            if (out == 0 || seq[i] != seq[out - 1]) seq[out++] = seq[i];
        dropped += Index(seq.size() - out);
        seq.resize(out);
    }
    return dropped;
}

/// k-core: removes users and items with fewer than `k` interactions, repeating until none is
/// left (removing an item can push a user under k, and back). Surviving users and items keep
/// their order of first appearance and are renumbered densely. k <= 1 changes nothing.
inline void k_core(Dataset& ds, Index k) {
    if (k <= 1) return;
    bool changed = true;
    std::vector<Index> count;
    while (changed) {
        changed = false;
        count.assign(std::size_t(ds.num_items()) + 1, 0);
        for (const auto& seq : ds.sequences)
            for (ItemId i : seq) ++count[std::size_t(i)];
        for (auto& seq : ds.sequences) {
            if (seq.empty()) continue;
            std::size_t out = 0;
            for (ItemId i : seq)
                if (count[std::size_t(i)] >= k) seq[out++] = i;
            if (Index(out) < k) out = 0;  // the user goes
            if (out != seq.size()) changed = true;
            seq.resize(out);
        }
    }
    // Renumber: items in order of first appearance among the survivors' original ids; users
    // with an empty sequence go.
    std::vector<ItemId> new_id(std::size_t(ds.num_items()) + 1, 0);
    IdMap items, users;
    std::vector<std::vector<ItemId>> sequences;
    for (std::size_t u = 0; u < ds.sequences.size(); ++u) {
        if (ds.sequences[u].empty()) continue;
        if (ds.users.size() > Index(u)) users.add(ds.users.external(std::int32_t(u + 1)));
        sequences.push_back(std::move(ds.sequences[u]));
    }
    // First appearance in the original id order keeps the relative order of the ids.
    for (Index i = 1; i <= ds.num_items(); ++i)
        if (count[std::size_t(i)] >= k) new_id[std::size_t(i)] = items.add(ds.items.external(i));
    for (auto& seq : sequences)
        for (ItemId& i : seq) i = new_id[std::size_t(i)];
    ds.items = std::move(items);
    ds.users = std::move(users);
    ds.sequences = std::move(sequences);
}

}  // namespace seqrec
