/// \file optim/adam.hpp
/// Adam with coupled L2 (PyTorch form: eps added to sqrt(v_hat)), MODELS.md §1.10.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/parallel.hpp"
#include "seqrec/core/param_arena.hpp"

namespace seqrec {

struct AdamOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.98;  ///< SASRec's value (PyTorch default is 0.999)
    double eps = 1e-8;
    double weight_decay = 0.0;  ///< coupled L2 on every parameter: g += wd * theta
    double l2_emb = 0.0;        ///< SASRec's l2_emb: extra g += l2_emb * theta on embedding tables
    /// Lazy Adam on the item tables (TensorFlow's LazyAdam, PyTorch's SparseAdam): a row with no
    /// gradient in a step keeps its value and moments, so a step costs the rows a batch touched
    /// instead of the whole catalogue. Off: PyTorch's dense Adam, every row decays and moves.
    bool lazy = false;

    void check() const {
        SEQREC_CHECK(lr > 0.0, ConfigError, "lr must be > 0");
        SEQREC_CHECK(beta1 >= 0.0 && beta1 < 1.0 && beta2 >= 0.0 && beta2 < 1.0, ConfigError,
                     "beta1 and beta2 must be in [0, 1)");
        SEQREC_CHECK(eps > 0.0 && weight_decay >= 0.0 && l2_emb >= 0.0, ConfigError,
                     "eps must be > 0, weight_decay and l2_emb >= 0");
    }
};

/// What Adam carries from step to step; saved with a checkpoint to resume training.
template <typename T>
struct AdamState {
    long step = 0;
    Vector<T> m, v;  ///< first and second moments, laid out as the model's ParamArena
};

/// One loop over flat parameters, gradients and moments (the model's ParamArena and its
/// gradient twin's). L2 by parameter role: weight_decay on every tensor, l2_emb in addition on
/// the item and position tables. With `lazy` and the list of item rows that have a gradient,
/// the item tables are updated at those rows only.
template <typename T>
class Adam {
public:
    explicit Adam(AdamOptions o = {}) : opt_(o) { o.check(); }

    /// One step: theta -= lr * m_hat / (sqrt(v_hat) + eps). `grad` is the model's gradient twin.
    /// `rows`: the item-table rows with a gradient in this step (nullptr: any row may have one);
    /// used when options().lazy.
    template <typename Model>
    void step(Model& model, const Model& grad, const std::vector<std::uint32_t>* rows = nullptr) {
        step(model.params(), grad.params(), rows);
    }
    void step(ParamArena<T>& params, const ParamArena<T>& grads,
              const std::vector<std::uint32_t>* rows = nullptr) {
        SEQREC_CHECK(params.same_layout(grads), ShapeError,
                     "Adam: model and gradient have different parameter layouts");
        if (state_.m.size() != params.size()) {  // first step, or a different model
            state_.m = Vector<T>::Zero(params.size());
            state_.v = Vector<T>::Zero(params.size());
        }
        ++state_.step;
        const double bc1 = 1.0 - std::pow(opt_.beta1, double(state_.step));
        const double bc2 = 1.0 - std::pow(opt_.beta2, double(state_.step));
        const T b1 = T(opt_.beta1), b2 = T(opt_.beta2);
        const T step = T(opt_.lr / bc1), inv_bc2 = T(1.0 / bc2), eps = T(opt_.eps);
        T* th = params.data();
        const T* gp = grads.data();
        T* m = state_.m.data();
        T* v = state_.v.data();
        for (const ParamInfo& p : params.table()) {
            const bool table =
                p.role == ParamRole::item_table || p.role == ParamRole::position_table;
            const T decay = T(opt_.weight_decay + (table ? opt_.l2_emb : 0.0));
            auto update = [&](std::ptrdiff_t i) {
                const T gi = gp[i] + decay * th[i];
                m[i] = b1 * m[i] + (T(1) - b1) * gi;
                v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
                th[i] -= step * m[i] / (std::sqrt(v[i] * inv_bc2) + eps);
            };
            const std::ptrdiff_t o = std::ptrdiff_t(p.offset);
            if (opt_.lazy && rows && p.role == ParamRole::item_table) {
                parallel_for(std::ptrdiff_t(rows->size()), 256, [&](std::ptrdiff_t k) {
                    const std::ptrdiff_t at = o + std::ptrdiff_t((*rows)[std::size_t(k)]) * p.cols;
                    for (std::ptrdiff_t j = 0; j < std::ptrdiff_t(p.cols); ++j) update(at + j);
                });
                continue;
            }
            parallel_elementwise(std::ptrdiff_t(p.size()), 65536,
                                 [&](std::ptrdiff_t j) { update(o + j); });
        }
    }
    long steps() const { return state_.step; }
    const AdamOptions& options() const { return opt_; }

    const AdamState<T>& state() const { return state_; }
    /// Resumes from a saved state (its moments must match the model's arena on the next step,
    /// or they restart from zero).
    void restore(AdamState<T> s) { state_ = std::move(s); }

private:
    AdamOptions opt_;
    AdamState<T> state_;
};

}  // namespace seqrec
