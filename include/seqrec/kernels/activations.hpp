/// \file kernels/activations.hpp
/// Element-wise activations with their derivatives (MODELS.md §8.1).
#pragma once

#include <cmath>
#include <string>

#include "seqrec/core/error.hpp"

namespace seqrec {

/// ELU with alpha = 1 (MODELS.md §0).
template <typename T>
T elu(T x) {
    return x > T(0) ? x : std::expm1(x);
}
/// ELU'(x) = 1 for x > 0, e^x otherwise.
template <typename T>
T elu_grad(T x) {
    return x > T(0) ? T(1) : std::exp(x);
}

/// Point-wise activation of the feed-forward network. SASRec uses ReLU (MODELS.md 1.2), STOSA ELU
/// (3.12)-(3.13).
enum class Activation { relu, gelu, elu };

inline const char* to_string(Activation a) {
    return a == Activation::relu ? "relu" : a == Activation::gelu ? "gelu" : "elu";
}
inline Activation parse_activation(const std::string& s) {
    for (Activation a : {Activation::relu, Activation::gelu, Activation::elu})
        if (s == to_string(a)) return a;
    throw ConfigError("activation must be relu, gelu or elu, got '" + s + "'");
}

/// f(x).
template <typename T>
T activate(Activation a, T x) {
    if (a == Activation::relu) return x > T(0) ? x : T(0);
    if (a == Activation::elu) return elu(x);
    return T(0.5) * x * (T(1) + std::erf(x * T(0.7071067811865476)));  // exact GELU
}

/// f'(x), evaluated at the pre-activation x.
template <typename T>
T activate_grad(Activation a, T x) {
    if (a == Activation::relu) return x > T(0) ? T(1) : T(0);
    if (a == Activation::elu) return elu_grad(x);
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(0.7071067811865476)));
    const T pdf = T(0.3989422804014327) * std::exp(T(-0.5) * x * x);
    return cdf + x * pdf;
}

/// Numerically stable softplus(x) = log(1 + e^x).
template <typename T>
T softplus(T x) {
    return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

/// Logistic sigmoid.
template <typename T>
T sigmoid(T x) {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
}

}  // namespace seqrec
