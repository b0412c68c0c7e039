/// \file train/gradient_exchange.hpp
/// Chunk gradients on the wire between processes (core/process_group.hpp). A chunk's gradient
/// is mostly zero where the item table is large: only the rows of items its windows touched are
/// non-zero. It travels as its non-zero blocks of kGradientBlock values (block ids + values) when
/// that is smaller than the dense vector, else dense; decoding restores it bit for bit, since an
/// untouched entry is exactly 0.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/types.hpp"

namespace seqrec {

inline constexpr Index kGradientBlock = 16;  // 64 bytes of float: about a quarter of a row

namespace detail {
template <typename V>
void put(std::vector<char>& out, const V* v, std::size_t count) {
    const std::size_t at = out.size();
    out.resize(at + count * sizeof(V));
    if (count) std::memcpy(out.data() + at, v, count * sizeof(V));
}
template <typename V>
void take(const char*& p, const char* end, V* v, std::size_t count) {
    SEQREC_CHECK(std::size_t(end - p) >= count * sizeof(V), DataError,
                 "gradient exchange: a message ends early");
    if (count) std::memcpy(v, p, count * sizeof(V));
    p += count * sizeof(V);
}
}  // namespace detail

/// Appends g[0, n) to `out`; `blocks` is scratch for the ids of non-zero blocks.
template <typename T>
void encode_gradient(const T* g, Index n, std::vector<char>& out,
                     std::vector<std::uint32_t>& blocks) {
    blocks.clear();
    const Index nb = (n + kGradientBlock - 1) / kGradientBlock;
    for (Index b = 0; b < nb; ++b) {
        const Index lo = b * kGradientBlock, hi = std::min(n, lo + kGradientBlock);
        for (Index i = lo; i < hi; ++i)
            if (g[i] != T(0)) {
                blocks.push_back(std::uint32_t(b));
                break;
            }
    }
    const auto sparse_bytes = blocks.size() * (sizeof(std::uint32_t) + kGradientBlock * sizeof(T));
    const std::int64_t kind = sparse_bytes < std::size_t(n) * sizeof(T) ? 1 : 0;
    const std::int64_t count = kind ? std::int64_t(blocks.size()) : std::int64_t(n);
    detail::put(out, &kind, 1);
    detail::put(out, &count, 1);
    if (!kind) {
        detail::put(out, g, std::size_t(n));
        return;
    }
    detail::put(out, blocks.data(), blocks.size());
    for (std::uint32_t b : blocks) {
        const Index lo = Index(b) * kGradientBlock, hi = std::min(n, lo + kGradientBlock);
        T block[kGradientBlock] = {};
        for (Index i = lo; i < hi; ++i) block[i - lo] = g[i];
        detail::put(out, block, std::size_t(kGradientBlock));
    }
}

/// Reads one encoded gradient from p into g[0, n) (overwriting it); advances p.
template <typename T>
void decode_gradient(const char*& p, const char* end, T* g, Index n,
                     std::vector<std::uint32_t>& blocks) {
    std::int64_t kind = 0, count = 0;
    detail::take(p, end, &kind, 1);
    detail::take(p, end, &count, 1);
    if (kind == 0) {
        SEQREC_CHECK(count == n, DataError, "gradient exchange: a dense gradient of another size");
        detail::take(p, end, g, std::size_t(n));
        return;
    }
    const Index nb = (n + kGradientBlock - 1) / kGradientBlock;
    SEQREC_CHECK(kind == 1 && count >= 0 && count <= nb, DataError,
                 "gradient exchange: a malformed message");
    blocks.resize(std::size_t(count));
    detail::take(p, end, blocks.data(), blocks.size());
    std::fill(g, g + n, T(0));
    for (std::uint32_t b : blocks) {
        SEQREC_CHECK(Index(b) < nb, DataError, "gradient exchange: a block id out of range");
        T block[kGradientBlock];
        detail::take(p, end, block, std::size_t(kGradientBlock));
        const Index lo = Index(b) * kGradientBlock, hi = std::min(n, lo + kGradientBlock);
        for (Index i = lo; i < hi; ++i) g[i] = block[i - lo];
    }
}

}  // namespace seqrec
