/// \file train/objective.hpp
/// The per-window training objective: forward, loss (BCE or full-softmax CE), backward. The
/// trainer and the whole-model gradient checks call this same function.
#pragma once

#include <string>
#include <type_traits>

#include "seqrec/core/error.hpp"
#include "seqrec/data/sampler.hpp"
#include "seqrec/losses/bce.hpp"
#include "seqrec/losses/cross_entropy.hpp"
#include "seqrec/losses/distillation.hpp"

namespace seqrec {

enum class LossKind { bce, ce };

inline LossKind parse_loss(const std::string& s) {
    if (s == "bce") return LossKind::bce;
    if (s == "ce") return LossKind::ce;
    throw ConfigError("loss must be bce or ce, got '" + s + "'");
}
inline const char* to_string(LossKind k) { return k == LossKind::bce ? "bce" : "ce"; }

/// True for models that compute their own training loss (`Model::kOwnLoss`).
template <typename Model, typename = void>
struct has_own_loss : std::false_type {};
template <typename Model>
struct has_own_loss<Model, std::void_t<decltype(Model::kOwnLoss)>>
    : std::bool_constant<Model::kOwnLoss> {};

/// Per-thread scratch for `window_objective`.
template <typename Model>
struct ObjectiveWorkspace {
    using T = typename Model::Scalar;
    typename Model::Cache cache;
    CrossEntropyWorkspace<T> ce;
    DistillationWorkspace<T> kd;
    Buffer<T> dout;
};

/// Graph distillation added to the objective (TED for MQSA, CAD for RPESA; MODELS.md 6.7, 7.4).
struct Distillation {
    const TransitionTeacher* teacher = nullptr;  ///< nullptr = off
    DistillationOptions options;
    double dropout = 0.0;  ///< on the student's input embeddings (6.4), the model's dropout
};

/// Loss of one window, times `scale` (= 1 / targets in the batch, so sums over windows give the
/// batch mean, MODELS.md 1.4-1.5). When `grad` is given, ADDS the gradient of that loss into it.
/// `rng`: dropout stream (nullptr = no dropout). For BCE, s.negative must be filled.
/// `kd`: optional distillation over the window's input items (heads), weighted by its lambda.
template <typename Model>
double window_objective(const Model& model, const TrainSample& s, LossKind loss,
                        typename Model::Scalar scale, Model* grad, ObjectiveWorkspace<Model>& ws,
                        Rng* rng, const Distillation* kd = nullptr) {
    if constexpr (has_own_loss<Model>::value) {  // e.g. STOSA: BPR + pvn on distances
        (void)loss;
        (void)kd;
        return model.window_loss(s, scale, grad, ws.cache, rng);
    } else {
        const auto& H = model.forward(s.input, ws.cache, rng);
        double value = 0.0;
        if (loss == LossKind::bce)
            value = bce_loss(H, model.output_items(), s.target, s.negative, scale, ws.dout,
                             grad ? &grad->output_items() : nullptr);
        else
            value = cross_entropy_loss(H, model.output_items(), s.target, scale, ws.dout,
                                       grad ? &grad->output_items() : nullptr, ws.ce);
        if (grad) model.backward(ws.dout, s.input, ws.cache, *grad);
        if (kd && kd->teacher)
            value += distillation_loss(model.output_items(), s.input, *kd->teacher, kd->options,
                                       rng ? kd->dropout : 0.0, scale,
                                       grad ? &grad->output_items() : nullptr, ws.kd, rng);
        return value;
    }
}

}  // namespace seqrec
