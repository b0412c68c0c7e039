/// \file core/param.hpp
/// Parameters. A layer holds its weights as `Param`s: row-major matrix views that own their
/// storage while the layer stands alone, and are re-seated into one flat arena when a model binds
/// them (core/param_arena.hpp), so that a model's weights, its gradient and the optimiser's moments
/// are each one contiguous vector. Every module exposes `for_each_param(prefix, f)` calling
/// f(name, Param&) in a fixed order; each Param declares its role (init and decay rules read it).
/// Gradients live in a second module of the same type and shapes (a "gradient twin").
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "seqrec/core/types.hpp"

namespace seqrec {

/// What a parameter tensor is: initialisation and regularisation rules are stated per role.
enum class ParamRole {
    item_table,      ///< (N+1) x d item embeddings (row 0 = padding)
    position_table,  ///< n x d absolute positions
    weight,          ///< a projection matrix
    bias,            ///< 1 x d
    norm_gain,       ///< layer-norm gamma
    norm_bias,       ///< layer-norm beta
    relative_table,  ///< RPESA's R^K, R^V
    refinement,      ///< AWRSR's n x n matrices
    preset,          ///< set by its layer's constructor (ALiBi's slopes); init() keeps it
};

/// A parameter tensor: an Eigen row-major matrix view (use it as a matrix), over its own storage
/// or over a slice of a model's arena. Copies own their storage (a model re-binds its copy).
/// Assigning a Param of the same shape copies values (a bound view stays where it is); a
/// different shape makes this Param an owning copy, which the model must re-bind.
template <typename T>
class Param : public Eigen::Map<Matrix<T>> {
public:
    using Base = Eigen::Map<Matrix<T>>;

    Param() : Base(nullptr, 0, 0) {}
    Param(Index rows, Index cols, ParamRole role)
        : Base(nullptr, 0, 0), own_(Vector<T>::Zero(rows * cols)), role_(role) {
        seat(own_.data(), rows, cols);
    }
    Param(const Param& o) : Base(nullptr, 0, 0), own_(o.size()), role_(o.role_) {
        seat(own_.data(), o.rows(), o.cols());
        Base::operator=(o);
    }
    Param(Param&& o) noexcept
        : Base(nullptr, 0, 0), own_(std::move(o.own_)), role_(o.role_), bound_(o.bound_) {
        seat(o.data(), o.rows(), o.cols());  // a moved Vector keeps its heap block
        o.seat(nullptr, 0, 0);
    }
    Param& operator=(const Param& o) {
        if (this == &o) return *this;
        if (this->rows() != o.rows() || this->cols() != o.cols()) {
            *this = Param(o);
            return *this;
        }
        role_ = o.role_;
        Base::operator=(o);
        return *this;
    }
    /// Takes over `o`'s storage (own or arena). A model re-binds after assigning layers.
    Param& operator=(Param&& o) noexcept {
        own_ = std::move(o.own_);
        role_ = o.role_;
        bound_ = o.bound_;
        seat(o.data(), o.rows(), o.cols());
        o.seat(nullptr, 0, 0);
        return *this;
    }
    /// Coefficient assignment from any expression of the same shape.
    template <typename Derived>
    Param& operator=(const Eigen::DenseBase<Derived>& e) {
        Base::operator=(e.derived());
        return *this;
    }

    ParamRole role() const { return role_; }
    bool bound() const { return bound_; }
    /// Re-seats the view over `data` (size() scalars), copying the current values there first.
    void bind(T* data) {
        Eigen::Map<Vector<T>>(data, this->size()) =
            Eigen::Map<const Vector<T>>(this->data(), this->size());
        seat(data, this->rows(), this->cols());
        own_ = Vector<T>();
        bound_ = true;
    }

private:
    void seat(T* data, Index rows, Index cols) {
        new (static_cast<Base*>(this)) Base(data, rows, cols);
    }
    Vector<T> own_;
    ParamRole role_ = ParamRole::weight;
    bool bound_ = false;
};

/// One named parameter tensor (a view into a module).
template <typename T>
struct NamedParam {
    std::string name;
    Param<T>* value;
};

/// Flattens a module's parameters into a list, in its fixed visiting order.
template <typename T, typename Module>
std::vector<NamedParam<T>> param_list(Module& module) {
    std::vector<NamedParam<T>> out;
    module.for_each_param("", [&](const std::string& name, Param<T>& m) {
        out.push_back({name, &m});
    });
    return out;
}

/// Sets every parameter of a module to zero (used on gradient twins).
template <typename T, typename Module>
void zero_params(Module& module) {
    module.for_each_param("", [](const std::string&, Param<T>& m) { m.setZero(); });
}

/// Visits a module's parameters read-only: f(name, const Param&). Modules expose one
/// (non-const) visitor; this is the one place that calls it on a const module.
template <typename T, typename Module, typename F>
void for_each_param_const(const Module& module, F&& f) {
    const_cast<Module&>(module).for_each_param(
        "", [&](const std::string& name, Param<T>& m) { f(name, std::as_const(m)); });
}

/// Total number of scalars in a module.
template <typename T, typename Module>
Index param_count(const Module& module) {
    Index n = 0;
    for_each_param_const<T>(module, [&](const std::string&, const Param<T>& m) { n += m.size(); });
    return n;
}

}  // namespace seqrec
