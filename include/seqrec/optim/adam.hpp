/// \file optim/adam.hpp
/// Adam with coupled L2 (PyTorch form: eps added to sqrt(v_hat)), MODELS.md §1.10.
/// State is keyed by parameter name, so it is independent of addresses.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/parallel.hpp"
#include "seqrec/core/param.hpp"

namespace seqrec {

struct AdamOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.98;  ///< SASRec's value (PyTorch default is 0.999)
    double eps = 1e-8;
    double weight_decay = 0.0;  ///< coupled L2 on every parameter: g += wd * theta
    double l2_emb = 0.0;        ///< SASRec's l2_emb: extra g += l2_emb * theta on embedding tables

    void check() const {
        SEQREC_CHECK(lr > 0.0, ConfigError, "lr must be > 0");
        SEQREC_CHECK(beta1 >= 0.0 && beta1 < 1.0 && beta2 >= 0.0 && beta2 < 1.0, ConfigError,
                     "beta1 and beta2 must be in [0, 1)");
        SEQREC_CHECK(eps > 0.0 && weight_decay >= 0.0 && l2_emb >= 0.0, ConfigError,
                     "eps must be > 0, weight_decay and l2_emb >= 0");
    }
};

template <typename T>
class Adam {
public:
    explicit Adam(AdamOptions o = {}) : opt_(o) { o.check(); }

    /// One step: theta -= lr * m_hat / (sqrt(v_hat) + eps). `grad` is the model's gradient twin.
    template <typename Model>
    void step(Model& model, Model& grad) {
        ++t_;
        bind(model, grad);
        const double bc1 = 1.0 - std::pow(opt_.beta1, double(t_));
        const double bc2 = 1.0 - std::pow(opt_.beta2, double(t_));
        const T b1 = T(opt_.beta1), b2 = T(opt_.beta2);
        const T step = T(opt_.lr / bc1), inv_bc2 = T(1.0 / bc2), eps = T(opt_.eps);
        for (const Slot& slot : slots_) {
            Matrix<T>& theta = *slot.param;
            const Matrix<T>& g = *slot.grad;
            State& st = *slot.state;
            const T decay = T(opt_.weight_decay + (slot.embedding ? opt_.l2_emb : 0.0));
            T* th = theta.data();
            T* m = st.m.data();
            T* v = st.v.data();
            const T* gp = g.data();
            const std::ptrdiff_t n = std::ptrdiff_t(theta.size());
            parallel_elementwise(n, 65536, [&](std::ptrdiff_t i) {
                const T gi = gp[i] + decay * th[i];
                m[i] = b1 * m[i] + (T(1) - b1) * gi;
                v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
                th[i] -= step * m[i] / (std::sqrt(v[i] * inv_bc2) + eps);
            });
        }
    }
    long steps() const { return t_; }

private:
    struct State {
        Matrix<T> m, v;
    };
    struct Slot {
        Matrix<T>* param;
        const Matrix<T>* grad;
        State* state;
        bool embedding;
    };
    /// Resolves names to tensors and moments once per (model, gradient) pair, so a step does no
    /// string work and no allocation; std::map nodes keep State addresses stable.
    template <typename Model>
    void bind(Model& model, Model& grad) {
        if (bound_model_ == &model && bound_grad_ == &grad) {
            for (const Slot& s : slots_)  // a different model at the same address: rebind
                if (s.param->size() != s.state->m.size()) return rebind(model, grad);
            return;
        }
        rebind(model, grad);
    }
    template <typename Model>
    void rebind(Model& model, Model& grad) {
        const auto params = param_list<T>(model);
        const auto grads = param_list<T>(grad);
        SEQREC_CHECK(params.size() == grads.size(), ShapeError,
                     "Adam: model and gradient have different parameter lists");
        slots_.clear();
        for (std::size_t p = 0; p < params.size(); ++p) {
            Matrix<T>& theta = *params[p].value;
            State& st = state_[params[p].name];
            if (st.m.size() == 0) {
                st.m = Matrix<T>::Zero(theta.rows(), theta.cols());
                st.v = Matrix<T>::Zero(theta.rows(), theta.cols());
            }
            slots_.push_back(
                {&theta, grads[p].value, &st, params[p].name.rfind("embedding.", 0) == 0});
        }
        bound_model_ = &model;
        bound_grad_ = &grad;
    }
    AdamOptions opt_;
    std::map<std::string, State> state_;
    std::vector<Slot> slots_;
    const void* bound_model_ = nullptr;
    const void* bound_grad_ = nullptr;
    long t_ = 0;
};

}  // namespace seqrec
