/// \file core/pack.hpp
/// Windows packed row-wise into one matrix (issue #10): the row-wise layers (embedding lookup,
/// projections, FFN, layer norm, dropout, residuals) run once over every window's real rows as
/// large products, and attention runs per window on its slice. A single window is the pack of one.
#pragma once

#include <vector>

#include "seqrec/core/types.hpp"

namespace seqrec {

/// Row ranges of the packed windows: window w holds rows begin(w) .. begin(w) + length(w) - 1.
/// A view; the offsets (windows + 1 entries) belong to the caller. Rows count from offsets[0],
/// so windows lo .. hi-1 of a pack are the view {offsets + lo, hi - lo} without copying.
struct PackRows {
    const Index* offsets = nullptr;
    Index windows = 0;

    Index begin(Index w) const { return offsets[w] - offsets[0]; }
    Index length(Index w) const { return offsets[w + 1] - offsets[w]; }
    Index rows() const { return offsets[windows] - offsets[0]; }
    /// Windows lo .. hi-1; their ids start at ids + first_row() of the whole pack's ids.
    PackRows sub(Index lo, Index hi) const { return {offsets + lo, hi - lo}; }
    Index first_row() const { return offsets[0]; }
};

/// One window of L rows as a pack, without allocating.
struct OneWindow {
    Index offsets[2];
    explicit OneWindow(Index L) : offsets{0, L} {}
    operator PackRows() const { return {offsets, 1}; }
};

/// A pack that owns its windows' item ids and row offsets. clear() keeps the capacity, so a pack
/// reused across batches allocates nothing once it has held the largest.
struct WindowPack {
    std::vector<ItemId> ids;
    std::vector<Index> offsets{0};

    void clear() {
        ids.clear();
        offsets.assign(1, 0);
    }
    void add(const ItemId* first, Index length) {
        ids.insert(ids.end(), first, first + length);
        offsets.push_back(offsets.back() + length);
    }
    Index windows() const { return Index(offsets.size()) - 1; }
    Index rows() const { return offsets.back(); }
    PackRows view() const { return {offsets.data(), windows()}; }
};

}  // namespace seqrec
