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

/// Total number of scalars in a module.
template <typename T, typename Module>
Index param_count(Module& module) {
    Index n = 0;
    module.for_each_param("", [&](const std::string&, Matrix<T>& m) { n += m.size(); });
    return n;
}

}  // namespace seqrec
