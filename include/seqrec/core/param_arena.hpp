/// \file core/param_arena.hpp
/// One contiguous vector for all of a model's parameters, with a name/shape/role table. A model
/// binds its layers' Params into its arena when it is built or copied; its gradient twin (the
/// same type) has an arena of the same layout, so zeroing, reducing across chunks or processes,
/// and the optimiser step are single loops over flat memory (design/ARCHITECTURE-2.md, problem 3).
#pragma once

#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/param.hpp"

namespace seqrec {

struct ParamInfo {
    std::string name;
    Index rows = 0, cols = 0;
    Index offset = 0;  ///< into the arena, in scalars
    ParamRole role = ParamRole::weight;
    Index size() const { return rows * cols; }
};

template <typename T>
class ParamArena {
public:
    /// Each tensor starts on a 64-byte boundary, as a separately allocated Eigen matrix would:
    /// the vectorised loops (and their summation order) stay those of aligned storage.
    static constexpr Index kAlign = Index(64 / sizeof(T));

    /// Lays out every parameter of `module` (in its visiting order) in one new vector, copies the
    /// current values there and re-seats the Params over it. Padding between tensors stays 0.
    template <typename Module>
    void bind(Module& module) {
        std::vector<ParamInfo> table;
        Index n = 0;
        module.for_each_param("", [&](const std::string& name, Param<T>& p) {
            table.push_back({name, p.rows(), p.cols(), n, p.role()});
            n += (p.size() + kAlign - 1) / kAlign * kAlign;
        });
        Vector<T> values = Vector<T>::Zero(n);
        std::size_t i = 0;
        module.for_each_param("", [&](const std::string&, Param<T>& p) {
            p.bind(values.data() + table[i++].offset);
        });
        values_.swap(values);  // swaps heap blocks: the views stay valid
        table_ = std::move(table);
    }

    T* data() { return values_.data(); }
    const T* data() const { return values_.data(); }
    Index size() const { return values_.size(); }  ///< including alignment padding
    const std::vector<ParamInfo>& table() const { return table_; }
    void set_zero() { values_.setZero(); }
    /// Same tensors, names and shapes in the same places.
    bool same_layout(const ParamArena& o) const {
        if (table_.size() != o.table_.size() || size() != o.size()) return false;
        for (std::size_t i = 0; i < table_.size(); ++i) {
            const ParamInfo &a = table_[i], &b = o.table_[i];
            if (a.name != b.name || a.rows != b.rows || a.cols != b.cols || a.offset != b.offset)
                return false;
        }
        return true;
    }
    /// All values, padding included, as one vector (what a training state saves).
    const Vector<T>& values() const { return values_; }
    /// Sets all values from a vector saved by values() of the same layout (no allocation).
    void assign(const Vector<T>& v) {
        SEQREC_CHECK(v.size() == values_.size(), ShapeError,
                     "ParamArena: " + std::to_string(v.size()) + " values for an arena of " +
                         std::to_string(values_.size()));
        values_ = v;
    }
    /// Copies values from an arena of the same layout (no allocation).
    void copy_values(const ParamArena& o) {
        SEQREC_CHECK(same_layout(o), ShapeError, "ParamArena: copy between different layouts");
        values_ = o.values_;
    }

private:
    Vector<T> values_;
    std::vector<ParamInfo> table_;
};

}  // namespace seqrec
