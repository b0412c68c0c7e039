/// \file data/id_map.hpp
/// Maps external (file) ids to dense internal ids 1..N in order of first appearance
/// (MODELS.md 1.1).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "seqrec/core/types.hpp"

namespace seqrec {

/// External ids are positive 64-bit integers; internal ids are 1..size(), 0 means "absent".
class IdMap {
public:
    /// Internal id of `external`, adding it if new.
    std::int32_t add(std::int64_t external) {
        auto it = to_internal_.find(external);
        if (it != to_internal_.end()) return it->second;
        to_external_.push_back(external);
        const auto id = std::int32_t(to_external_.size());
        to_internal_.emplace(external, id);
        return id;
    }
    /// Internal id or 0 when unknown.
    std::int32_t find(std::int64_t external) const {
        auto it = to_internal_.find(external);
        return it == to_internal_.end() ? 0 : it->second;
    }
    /// External id of internal id `id` (1..size()).
    std::int64_t external(std::int32_t id) const { return to_external_[std::size_t(id) - 1]; }
    Index size() const { return Index(to_external_.size()); }
    /// External ids in internal order (index 0 = internal id 1).
    const std::vector<std::int64_t>& externals() const { return to_external_; }
    /// Rebuilds from a saved list of external ids (internal id i+1 = list[i]).
    static IdMap from_externals(const std::vector<std::int64_t>& ids) {
        IdMap m;
        for (auto e : ids) m.add(e);
        return m;
    }

private:
    std::unordered_map<std::int64_t, std::int32_t> to_internal_;
    std::vector<std::int64_t> to_external_;
};

}  // namespace seqrec
