/// \file core/param.hpp
/// Named parameters. Every module exposes `for_each_param(prefix, f)` calling f(name, Matrix&) in a
/// fixed order. Gradients live in a second module of the same type and shapes (a "gradient twin"),
/// so threads can each own one and the optimiser, checkpoints and gradient checks can zip the two
/// lists by position (STYLE.md: parameters named and enumerable; state keyed by name).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "seqrec/core/types.hpp"

namespace seqrec {

/// One named parameter tensor (a view into a module).
template <typename T>
struct NamedParam {
    std::string name;
    Matrix<T>* value;
};

/// Flattens a module's parameters into a list, in its fixed visiting order.
template <typename T, typename Module>
std::vector<NamedParam<T>> param_list(Module& module) {
    std::vector<NamedParam<T>> out;
    module.for_each_param("", [&](const std::string& name, Matrix<T>& m) {
        out.push_back({name, &m});
    });
    return out;
}

/// Sets every parameter of a module to zero (used on gradient twins).
template <typename T, typename Module>
void zero_params(Module& module) {
    module.for_each_param("", [](const std::string&, Matrix<T>& m) { m.setZero(); });
}

/// Visits a module's parameters read-only: f(name, const Matrix&). Modules expose one
/// (non-const) visitor; this is the one place that calls it on a const module.
template <typename T, typename Module, typename F>
void for_each_param_const(const Module& module, F&& f) {
    const_cast<Module&>(module).for_each_param(
        "", [&](const std::string& name, Matrix<T>& m) { f(name, std::as_const(m)); });
}

/// Total number of scalars in a module.
template <typename T, typename Module>
Index param_count(const Module& module) {
    Index n = 0;
    for_each_param_const<T>(module, [&](const std::string&, const Matrix<T>& m) { n += m.size(); });
    return n;
}

}  // namespace seqrec
