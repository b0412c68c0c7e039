/// \file train/chunk_gradients.hpp
/// The fixed per-chunk gradient buffers of a training step (train/trainer.hpp), each a gradient
/// twin of the model, with the item-table rows its windows may have written. With a large
/// catalogue a chunk touches a few thousand of a million item rows; zeroing, the in-order fold,
/// the norm and the exchange between processes then cost what those rows cost, not the table.
/// A chunk whose loss writes every row (full CE, distillation) is marked whole and takes the
/// whole-table path. The sums are the whole-arena sums: a row that no chunk touched is 0 in all.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/parallel.hpp"
#include "seqrec/core/param_arena.hpp"
#include "seqrec/core/types.hpp"

namespace seqrec {

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

template <typename Model>
class ChunkGradients {
public:
    using T = typename Model::Scalar;

    /// `count` zeroed gradient twins of `model`, no rows touched. Allocates everything a step
    /// needs (row lists at the catalogue's size).
    void reset(const Model& model, std::size_t count) {
        grads_.assign(count, model.zeros_like());
        tables_.clear();
        dense_.clear();
        const ParamArena<T>& arena = grads_[0].params();
        Index at = 0, rows = 0;
        for (const ParamInfo& p : arena.table()) {
            if (p.role != ParamRole::item_table) continue;
            SEQREC_CHECK(rows == 0 || p.rows == rows, ShapeError,
                         "item tables of different row counts");
            rows = p.rows;
            if (p.offset > at) dense_.push_back({at, p.offset});
            tables_.push_back(p);
            at = p.offset + p.size();
        }
        if (arena.size() > at) dense_.push_back({at, arena.size()});
        rows_.assign(count, {});
        marks_.assign(count, std::vector<unsigned char>(std::size_t(rows), 0));
        whole_.assign(count, 0);
        for (auto& r : rows_) r.reserve(std::size_t(rows));
    }

    std::size_t size() const { return grads_.size(); }
    Model& operator[](std::size_t c) { return grads_[c]; }
    const Model& operator[](std::size_t c) const { return grads_[c]; }

    /// Zeroes every buffer entirely (after writes the row lists do not record).
    void zero_all() {
        for (std::size_t c = 0; c < grads_.size(); ++c) {
            grads_[c].params().set_zero();
            forget_rows(c);
        }
    }

    /// Zeroes chunk c wherever it may be non-zero and forgets its rows.
    void clear(std::size_t c) {
        T* g = grads_[c].params().data();
        for (const auto& r : dense_) std::fill(g + r.first, g + r.second, T(0));
        for (const ParamInfo& t : tables_) {
            if (whole_[c]) {
                std::fill(g + t.offset, g + t.offset + t.size(), T(0));
                continue;
            }
            for (std::uint32_t row : rows_[c]) {
                T* x = g + t.offset + Index(row) * t.cols;
                std::fill(x, x + t.cols, T(0));
            }
        }
        forget_rows(c);
    }

    /// Chunk c may write the rows `ids` of every item table.
    template <typename Ids>
    void touch(std::size_t c, const Ids& ids) {
        if (whole_[c] || tables_.empty()) return;
        auto& mark = marks_[c];
        auto& list = rows_[c];
        for (ItemId i : ids) {
            auto& m = mark[std::size_t(i)];
            if (!m) {
                m = 1;
                list.push_back(std::uint32_t(i));
            }
        }
    }
    /// Chunk c may write any row.
    void touch_all(std::size_t c) { whole_[c] = 1; }

    /// Chunk 0 += chunk c for c = 1.., element by element in chunk order; chunk 0 then holds the
    /// step's gradient and the rows of every chunk.
    void fold() {
        const std::size_t C = grads_.size();
        auto sum_at = [&](std::ptrdiff_t i) {
            T* dst = grads_[0].params().data();
            T acc = dst[i];
            for (std::size_t c = 1; c < C; ++c) acc += grads_[c].params().data()[i];
            dst[i] = acc;
        };
        for (const auto& r : dense_)
            parallel_elementwise(r.second - r.first, 65536,
                                 [&](std::ptrdiff_t j) { sum_at(r.first + j); });
        bool whole = false;
        for (char w : whole_) whole = whole || w;
        if (whole) {
            whole_[0] = 1;
            for (const ParamInfo& t : tables_)
                parallel_elementwise(std::ptrdiff_t(t.size()), 65536,
                                     [&](std::ptrdiff_t j) { sum_at(t.offset + j); });
            return;
        }
        for (std::size_t c = 1; c < C; ++c) touch(0, rows_[c]);
        const auto& rows = rows_[0];
        for (const ParamInfo& t : tables_)
            parallel_for(std::ptrdiff_t(rows.size()), 256, [&](std::ptrdiff_t k) {
                const Index at = t.offset + Index(rows[std::size_t(k)]) * t.cols;
                for (Index j = 0; j < t.cols; ++j) sum_at(at + j);
            });
    }

    /// Squared L2 norm of chunk 0 (after fold: the step's gradient), over what may be non-zero.
    double squared_norm() const {
        const T* g = grads_[0].params().data();
        double s = 0.0;
        auto add = [&](Index lo, Index n) {
            s += double(Eigen::Map<const Vector<T>>(g + lo, n).squaredNorm());
        };
        for (const auto& r : dense_) add(r.first, r.second - r.first);
        for (const ParamInfo& t : tables_) {
            if (whole_[0]) {
                add(t.offset, t.size());
                continue;
            }
            for (std::uint32_t row : rows_[0]) add(t.offset + Index(row) * t.cols, t.cols);
        }
        return s;
    }

    /// The item rows chunk 0 holds after fold() (every row when `whole()`).
    const std::vector<std::uint32_t>& rows() const { return rows_[0]; }
    bool whole() const { return whole_[0] != 0; }

    /// Appends chunk c to `out`: the tensors outside the item tables, then the item tables as
    /// touched rows (ids + values) or whole, whichever is smaller. Decodes bit for bit.
    void encode(std::size_t c, std::vector<char>& out) const {
        const T* g = grads_[c].params().data();
        Index table_values = 0, row_values = 0;
        for (const ParamInfo& t : tables_) {
            table_values += t.size();
            row_values += t.cols;
        }
        const std::size_t listed_bytes =
            rows_[c].size() * (sizeof(std::uint32_t) + std::size_t(row_values) * sizeof(T));
        const std::int64_t listed =
            !whole_[c] && listed_bytes < std::size_t(table_values) * sizeof(T) ? 1 : 0;
        detail::put(out, &listed, 1);
        for (const auto& r : dense_) detail::put(out, g + r.first, std::size_t(r.second - r.first));
        if (!listed) {
            for (const ParamInfo& t : tables_)
                detail::put(out, g + t.offset, std::size_t(t.size()));
            return;
        }
        const std::int64_t n = std::int64_t(rows_[c].size());
        detail::put(out, &n, 1);
        detail::put(out, rows_[c].data(), rows_[c].size());
        for (const ParamInfo& t : tables_)
            for (std::uint32_t row : rows_[c])
                detail::put(out, g + t.offset + Index(row) * t.cols, std::size_t(t.cols));
    }

    /// Reads one chunk written by encode() into chunk c (replacing it); advances p.
    void decode(std::size_t c, const char*& p, const char* end) {
        clear(c);
        T* g = grads_[c].params().data();
        std::int64_t listed = 0;
        detail::take(p, end, &listed, 1);
        SEQREC_CHECK(listed == 0 || listed == 1, DataError,
                     "gradient exchange: a malformed message");
        for (const auto& r : dense_)
            detail::take(p, end, g + r.first, std::size_t(r.second - r.first));
        if (!listed) {
            for (const ParamInfo& t : tables_)
                detail::take(p, end, g + t.offset, std::size_t(t.size()));
            whole_[c] = 1;
            return;
        }
        std::int64_t n = 0;
        detail::take(p, end, &n, 1);
        SEQREC_CHECK(n >= 0 && n <= table_rows(), DataError,
                     "gradient exchange: a malformed row count");
        auto& list = rows_[c];
        list.resize(std::size_t(n));  // within the capacity reset() reserved
        detail::take(p, end, list.data(), list.size());
        for (std::size_t k = 0; k < list.size(); ++k) {
            const std::uint32_t row = list[k];
            if (Index(row) >= table_rows() || marks_[c][row]) {
                list.resize(k);  // what clear() may zero: the rows already checked
                throw DataError("gradient exchange: a row id out of range or repeated");
            }
            marks_[c][row] = 1;
        }
        for (const ParamInfo& t : tables_)
            for (std::uint32_t row : list)
                detail::take(p, end, g + t.offset + Index(row) * t.cols, std::size_t(t.cols));
    }

private:
    Index table_rows() const { return tables_.empty() ? 0 : tables_[0].rows; }
    void forget_rows(std::size_t c) {
        for (std::uint32_t row : rows_[c]) marks_[c][row] = 0;
        rows_[c].clear();
        whole_[c] = 0;
    }

    std::vector<Model> grads_;
    std::vector<ParamInfo> tables_;                  // the item tables in the arena
    std::vector<std::pair<Index, Index>> dense_;     // [begin, end) of everything else
    std::vector<std::vector<std::uint32_t>> rows_;   // per chunk: rows that may be non-zero
    std::vector<std::vector<unsigned char>> marks_;  // per chunk: row -> listed
    std::vector<char> whole_;                        // per chunk: every row may be non-zero
};

}  // namespace seqrec
