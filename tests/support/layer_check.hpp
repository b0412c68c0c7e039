/// \file support/layer_check.hpp
/// One gradient-check harness for every layer (MODELS.md §8.11): the loss is the layer's output
/// projected on a fixed random matrix r; forward runs with a dropout stream re-seeded on every
/// call (frozen masks); backward is checked against central differences for every input and
/// every named parameter, and is run a second time to prove it adds into the gradient twin and
/// into the input gradients (the layer contract: backward ADDS, the caller zeroes once).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <seqrec/core/param.hpp>
#include <seqrec/core/rng.hpp>
#include <vector>

#include "support/gradient_check.hpp"

namespace seqrec::test {

/// Random parameters in [-1, 1]; layer-norm gains in [0.5, 1.5] (well away from 0).
template <typename Layer>
void randomize(Layer& layer, std::mt19937_64& rng, double scale = 1.0) {
    layer.for_each_param("", [&](const std::string&, Param<double>& m) {
        if (m.role() == ParamRole::norm_gain)
            fill_uniform(m, rng, 0.5, 1.5);
        else
            fill_uniform(m, rng, -scale, scale);
    });
}

/// A copy of `layer` with every parameter 0: the gradient twin backward adds into.
template <typename Layer>
Layer zero_twin(const Layer& layer) {
    Layer g = layer;
    zero_params<double>(g);
    return g;
}

/// [a | b]: two outputs of a layer as one matrix, so that one r covers both.
inline Mat hcat(const Mat& a, const Mat& b) {
    Mat out(a.rows(), a.cols() + b.cols());
    out << a, b;
    return out;
}

/// forward(layer, rng) -> output (and fills whatever cache backward reads);
/// backward(layer, r, grad, d) ADDS the gradients of <output, r> w.r.t. `inputs` into d[i]
/// (sized like the inputs) and the parameter gradients into `grad`. `inputs` are perturbed in
/// place by the numeric check.
template <typename Layer, typename Forward, typename Backward>
void check_layer_gradients(Layer& layer, std::vector<Mat*> inputs, Forward&& forward,
                           Backward&& backward, std::uint64_t seed, double tol = 1e-6) {
    auto run = [&] {
        Rng drop(seed);
        return Mat(forward(std::as_const(layer), &drop));
    };
    Mat r = run();
    std::mt19937_64 rng(seed);
    fill_uniform(r, rng);
    r /= std::sqrt(double(r.size()));  // an O(1) loss keeps the difference noise near 1e-10
    auto loss = [&] { return (run().array() * r.array()).sum(); };

    run();  // the cache backward reads
    Layer grad = zero_twin(layer);
    std::vector<Buf> d;
    for (const Mat* x : inputs) d.emplace_back(Mat::Zero(x->rows(), x->cols()));
    backward(std::as_const(layer), r, grad, d);
    std::vector<Mat> once_inputs;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        INFO("input " << i);
        CHECK(relative_error(d[i], numeric_gradient(*inputs[i], loss)) < tol);
        once_inputs.emplace_back(d[i]);
    }
    check_param_gradients(layer, grad, loss);

    // A second backward adds: every parameter and input gradient doubles.
    Layer once = grad;
    run();
    backward(std::as_const(layer), r, grad, d);
    auto a = param_list<double>(grad);
    auto b = param_list<double>(once);
    for (std::size_t p = 0; p < a.size(); ++p) {
        INFO("second backward, parameter " << a[p].name);
        CHECK(relative_error(*a[p].value, 2.0 * *b[p].value) < 1e-12);
    }
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        INFO("second backward, input " << i);
        CHECK(relative_error(Mat(d[i]), 2.0 * once_inputs[i]) < 1e-12);
    }
}

}  // namespace seqrec::test
