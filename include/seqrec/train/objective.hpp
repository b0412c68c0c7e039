/// \file train/objective.hpp
/// The per-window training objective of each model family: forward, loss, backward. The trainer
/// and the whole-model gradient checks call these same functions. The loss belongs here, not in
/// the model: SASRec-family models train with BCE or full-softmax CE (+ optional graph
/// distillation), STOSA with BPR + pvn on Wasserstein distances (MODELS.md 1.9, 3.4).
#pragma once

#include <string>

#include "seqrec/core/error.hpp"
#include "seqrec/data/sampler.hpp"
#include "seqrec/losses/bce.hpp"
#include "seqrec/losses/bpr.hpp"
#include "seqrec/losses/cross_entropy.hpp"
#include "seqrec/losses/distillation.hpp"
#include "seqrec/models/sasrec.hpp"
#include "seqrec/models/stosa.hpp"

namespace seqrec {

enum class LossKind { bce, ce, bpr };

inline LossKind parse_loss(const std::string& s) {
    if (s == "bce") return LossKind::bce;
    if (s == "ce") return LossKind::ce;
    if (s == "bpr" || s == "bpr+pvn") return LossKind::bpr;
    throw ConfigError("loss must be bce, ce or bpr, got '" + s + "'");
}
inline const char* to_string(LossKind k) {
    return k == LossKind::bce ? "bce" : k == LossKind::ce ? "ce" : "bpr+pvn";
}
/// True when the loss needs one sampled negative per target.
inline bool needs_negatives(LossKind k) { return k != LossKind::ce; }

/// Graph distillation added to the objective (TED for MQSA, CAD for RPESA; MODELS.md 6.7, 7.4).
struct Distillation {
    const TransitionTeacher* teacher = nullptr;  ///< nullptr = off
    DistillationOptions options;
    double dropout = 0.0;  ///< on the student's input embeddings (6.4), the model's dropout
};

/// What a model is trained on. `kd` is optional.
struct ObjectiveSpec {
    LossKind loss = LossKind::bce;
    const Distillation* kd = nullptr;
};

/// The loss a model family trains with by default.
inline LossKind default_loss(const SASRecConfig&) { return LossKind::bce; }
inline LossKind default_loss(const StosaConfig&) { return LossKind::bpr; }

/// Throws ConfigError when a model family cannot train with the objective.
inline void check_objective(const SASRecConfig&, LossKind loss, bool distill) {
    (void)distill;  // TED (MQSA) and CAD (RPESA, SASRec) are the same loss on the item table
    SEQREC_CHECK(loss != LossKind::bpr, ConfigError,
                 "loss = bpr+pvn is STOSA's loss; SASRec-family models train with bce or ce");
}
inline void check_objective(const StosaConfig&, LossKind loss, bool distill) {
    SEQREC_CHECK(loss == LossKind::bpr, ConfigError,
                 std::string("loss = ") + to_string(loss) +
                     ": STOSA trains with BPR + pvn on Wasserstein distances (MODELS.md 3.4); "
                     "use loss bpr");
    SEQREC_CHECK(!distill, ConfigError,
                 "distillation (TED / CAD) is defined for SASRec-family models, not STOSA");
}

/// Per-thread scratch for `window_objective`.
template <typename Model>
struct ObjectiveWorkspace {
    using T = typename Model::Scalar;
    typename Model::Cache cache;
    CrossEntropyWorkspace<T> ce;
    DistillationWorkspace<T> kd;
    BprWorkspace<T> bpr;
    Buffer<T> dout, dsigma;  // dL/d(last representations); STOSA: dmu, dsigma
};

/// Loss of one window, times `scale` (= 1 / targets in the batch, so sums over windows give the
/// batch mean, MODELS.md 1.4-1.5). When `grad` is given, ADDS the gradient of that loss into it.
/// `rng`: dropout stream (nullptr = no dropout). For BCE, s.negative must be filled.
/// `spec.kd`: optional distillation over the window's input items (heads), weighted by its lambda.
template <typename T>
double window_objective(const SASRec<T>& model, const TrainSample& s, const ObjectiveSpec& spec,
                        T scale, SASRec<T>* grad, ObjectiveWorkspace<SASRec<T>>& ws, Rng* rng) {
    const auto& H = model.forward(s.input, ws.cache, rng);
    double value = 0.0;
    if (spec.loss == LossKind::bce)
        value = bce_loss(H, model.output_items(), s.target, s.negative, scale, ws.dout,
                         grad ? &grad->output_items() : nullptr);
    else
        value = cross_entropy_loss(H, model.output_items(), s.target, scale, ws.dout,
                                   grad ? &grad->output_items() : nullptr, ws.ce);
    if (grad) model.backward(ws.dout, s.input, ws.cache, *grad);
    const Distillation* kd = spec.kd;
    if (kd && kd->teacher)
        value += distillation_loss(model.output_items(), s.input, *kd->teacher, kd->options,
                                   rng ? kd->dropout : 0.0, scale,
                                   grad ? &grad->output_items() : nullptr, ws.kd, rng);
    return value;
}

/// STOSA: BPR + pvn (3.18) on the last layer's Gaussians, times scale; s.negative must be filled.
template <typename T>
double window_objective(const Stosa<T>& model, const TrainSample& s, const ObjectiveSpec& spec,
                        T scale, Stosa<T>* grad, ObjectiveWorkspace<Stosa<T>>& ws, Rng* rng) {
    (void)spec;  // checked by check_objective: always BPR + pvn
    auto& c = ws.cache;
    model.forward(s.input, c, rng);
    const auto& emb = model.embedding;
    const double loss = bpr_pvn_loss(c.mus.back(), c.sigmas.back(), emb.E_mu, emb.E_sigma, s.target,
                                     s.negative, model.config.pvn_weight, scale, ws.dout, ws.dsigma,
                                     grad ? &grad->embedding.E_mu : nullptr,
                                     grad ? &grad->embedding.E_sigma : nullptr, ws.bpr);
    if (grad) model.backward(ws.dout, ws.dsigma, s.input, c, *grad);
    return loss;
}

}  // namespace seqrec
