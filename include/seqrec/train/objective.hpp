/// \file train/objective.hpp
/// The per-window training objective of each model family: forward, loss, backward. The trainer
/// and the whole-model gradient checks call these same functions. The loss belongs here, not in
/// the model: SASRec-family models train with BCE or full-softmax CE (+ optional graph
/// distillation), STOSA with BPR + pvn on Wasserstein distances (MODELS.md 1.9, 3.4).
#pragma once

#include <algorithm>
#include <string>

#include "seqrec/core/error.hpp"
#include "seqrec/data/sampler.hpp"
#include "seqrec/losses/bce.hpp"
#include "seqrec/losses/bpr.hpp"
#include "seqrec/losses/cross_entropy.hpp"
#include "seqrec/losses/distillation.hpp"
#include "seqrec/losses/sampled_softmax.hpp"
#include "seqrec/models/sasrec.hpp"
#include "seqrec/models/stosa.hpp"

namespace seqrec {

/// sampled_ce: softmax CE over the target and K negatives shared by the batch
/// (losses/sampled_softmax.hpp), for catalogues where full CE is too slow.
enum class LossKind { bce, ce, bpr, sampled_ce };

inline LossKind parse_loss(const std::string& s) {
    if (s == "bce") return LossKind::bce;
    if (s == "ce") return LossKind::ce;
    if (s == "sampled-ce") return LossKind::sampled_ce;
    if (s == "bpr" || s == "bpr+pvn") return LossKind::bpr;
    throw ConfigError("loss must be bce, ce, sampled-ce or bpr, got '" + s + "'");
}
inline const char* to_string(LossKind k) {
    switch (k) {
        case LossKind::bce:
            return "bce";
        case LossKind::ce:
            return "ce";
        case LossKind::sampled_ce:
            return "sampled-ce";
        default:
            return "bpr+pvn";
    }
}
/// True when the loss needs one sampled negative per target (its own, per window).
inline bool needs_negatives(LossKind k) { return k == LossKind::bce || k == LossKind::bpr; }
/// True when the loss scores packed rows against the item table (full or sampled softmax).
inline bool is_softmax(LossKind k) { return k == LossKind::ce || k == LossKind::sampled_ce; }

/// Graph distillation added to the objective (TED for MQSA, CAD for RPESA; MODELS.md 6.7, 7.4).
struct Distillation {
    const TransitionTeacher* teacher = nullptr;  ///< nullptr = off
    DistillationOptions options;
    double dropout = 0.0;  ///< on the student's input embeddings (6.4), the model's dropout
};

/// What a model is trained on. `kd` is optional. `chunks`: the fixed row blocks and item chunks
/// of the item-table losses (full CE, distillation). Sampled CE: the batch's shared negatives
/// and log Q (losses/sampled_softmax.hpp).
struct ObjectiveSpec {
    LossKind loss = LossKind::bce;
    const Distillation* kd = nullptr;
    SoftmaxChunks chunks;
    const std::vector<ItemId>* negatives = nullptr;
    const std::vector<double>* log_q = nullptr;
    /// SASRec family: windows run forward and backward in packs of this many (the last one
    /// smaller); 0 = as many as hold kPackAttentionCells attention weights at full length.
    Index pack_windows = 0;
    /// Larger packs make larger products (on 10-row windows 1.2-1.9x faster, README), but a
    /// thread's cache holds a pack: every layer's rows and each window's n x n weights. 2^17
    /// cells: 52 windows at n = 50 (a whole chunk of a 256 batch), 3 at n = 200 (where a
    /// window's own products already run at full speed), about 8 MB per thread at d = 50.
    static constexpr Index kPackAttentionCells = Index(1) << 17;
    Index windows_per_pack(Index maxlen) const {
        return pack_windows > 0 ? pack_windows
                                : std::max<Index>(1, kPackAttentionCells / (maxlen * maxlen));
    }

    ObjectiveSpec() = default;
    explicit ObjectiveSpec(LossKind l, const Distillation* k = nullptr, SoftmaxChunks c = {})
        : loss(l), kd(k), chunks(c) {}
};

/// True when the objective may write every row of the item tables' gradient (full CE and
/// distillation score the whole catalogue); otherwise item_rows_written says which rows.
inline bool writes_every_item_row(const ObjectiveSpec& spec) {
    return spec.loss == LossKind::ce || (spec.kd && spec.kd->teacher);
}

/// The item rows window `s` may write in the item tables' gradient, as lists passed to
/// touch(ids): its inputs, targets and negatives, and sampled CE's shared negatives. Meaningful
/// only when !writes_every_item_row(spec).
template <typename Touch>
void item_rows_written(const ObjectiveSpec& spec, const TrainSample& s, Touch&& touch) {
    touch(s.input);
    touch(s.target);
    touch(s.negative);
    if (spec.loss == LossKind::sampled_ce && spec.negatives) touch(*spec.negatives);
}

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

/// Per-thread scratch for the objectives.
template <typename Model>
struct ObjectiveWorkspace {
    using T = typename Model::Scalar;
    typename Model::Cache cache;
    SampledSoftmaxWorkspace<T> sampled;
    /// Full CE runs in kd.softmax: CE and distillation run one after the other, and each keeps a
    /// row block's logits (SoftmaxChunks::keep_bytes), so one buffer serves both.
    DistillationWorkspace<T> kd;
    BprWorkspace<T> bpr;
    Buffer<T> dout, dsigma;  // dL/d(last representations); STOSA: dmu, dsigma
    Buffer<T> rows, drows;   // item-table losses: the final representations, their gradient
    WindowPack pack;         // the windows' inputs, packed
    std::vector<ItemId> targets, negatives;  // per packed row
    std::vector<Index> cuts;                 // the packs the windows run in: window ranges
    std::vector<Rng> streams;                // each pack's dropout stream at its forward
};

namespace detail {
/// Samples `count` windows into the workspace: their inputs packed (ws.pack), their targets and
/// negatives per packed row, and the packs they run in (ws.cuts: window ranges,
/// spec.windows_per_pack(maxlen) each, a fixed count so that the trainer's warm-up on
/// full-length windows reaches every buffer's largest shape). `each(sample)` sees every sample.
template <typename Workspace, typename SampleFn, typename Each>
void pack_samples(std::size_t count, SampleFn& sample, Rng& stream, const ObjectiveSpec& spec,
                  Index maxlen, Workspace& ws, Each&& each) {
    SEQREC_CHECK(spec.pack_windows >= 0, ConfigError, "pack_windows must be >= 0");
    const Index per_pack = spec.windows_per_pack(maxlen);
    const bool negatives = needs_negatives(spec.loss);
    ws.pack.clear();
    ws.targets.clear();
    ws.negatives.clear();
    ws.cuts.reserve(count + 1);  // the trainer's warm-up reserves for the most windows per chunk
    ws.streams.reserve(count);
    ws.cuts.assign(1, 0);
    for (std::size_t i = 0; i < count; ++i) {
        const TrainSample& s = sample(i, stream);
        if (i > 0 && Index(i) % per_pack == 0) ws.cuts.push_back(Index(i));
        ws.pack.add(s.input.data(), Index(s.input.size()));
        ws.targets.insert(ws.targets.end(), s.target.begin(), s.target.end());
        if (negatives)
            ws.negatives.insert(ws.negatives.end(), s.negative.begin(), s.negative.end());
        each(s);
    }
    ws.cuts.push_back(Index(count));
}
}  // namespace detail

/// Loss of `count` windows, times `scale` (= 1 / targets in the batch, so sums over windows give
/// the batch mean, MODELS.md 1.4-1.5). When `grad` is given, ADDS the gradient into it.
/// `sample(i, rng)` returns window i's sample and sets `rng` to the start of its stream
/// (negatives, distillation dropout); asked twice for the same i it must give the same.
/// rng == nullptr: no dropout.
///
/// The windows are packed (core/pack.hpp) in order, spec.windows_per_pack(n) per pack (a fixed
/// count, so the trainer's warm-up on full-length windows reaches every buffer's largest shape);
/// each pack runs forward and backward once, its row-wise layers as products over all its rows.
/// Its dropout draws continue the stream of the last window sampled. BCE is row-local: pack by
/// pack. The item-table losses need every row's log-sum-exp over the whole catalogue before any
/// gradient: the loss runs once on all packs' final rows (losses/cross_entropy.hpp), then every
/// pack but the last (whose cache is still live) runs forward again from its saved stream (same
/// bits) and backward, so one pack's cache per thread is enough. Distillation heads are packed for
/// every loss.
template <typename T, typename SampleFn>
double windows_objective(const SASRec<T>& model, std::size_t count, SampleFn&& sample, Rng* rng,
                         const ObjectiveSpec& spec, T scale, SASRec<T>* grad,
                         ObjectiveWorkspace<SASRec<T>>& ws) {
    Rng unused(0);
    Rng& stream = rng ? *rng : unused;
    const Distillation* kd = spec.kd && spec.kd->teacher ? spec.kd : nullptr;
    const auto& E = model.output_items();
    Param<T>* dE = grad ? &grad->output_items() : nullptr;
    const bool softmax = is_softmax(spec.loss);
    SEQREC_CHECK(spec.loss != LossKind::sampled_ce || (spec.negatives && spec.log_q), ConfigError,
                 "loss sampled-ce needs the batch's negatives and log Q");
    const Index d = model.config.dim;
    if (kd) ws.kd.clear(d);
    detail::pack_samples(
        count, sample, stream, spec, model.maxlen(), ws, [&](const TrainSample& s) {
            if (kd) distillation_add_heads(E, s.input, rng ? kd->dropout : 0.0, rng, ws.kd);
        });
    const PackRows all = ws.pack.view();
    const std::size_t packs = ws.cuts.size() - 1;
    auto pack_of = [&](std::size_t p) { return all.sub(ws.cuts[p], ws.cuts[p + 1]); };
    // r: the pack's dropout stream (nullptr: none), the trainer's, or a saved copy to re-run.
    auto run_forward = [&](PackRows p, Rng* r) -> const Buffer<T>& {
        return model.forward(ws.pack.ids.data() + p.first_row(), p, ws.cache, r);
    };
    auto run_backward = [&](const ConstRef<T>& dout, PackRows p) {
        model.backward(dout, ws.pack.ids.data() + p.first_row(), p, ws.cache, *grad);
    };
    double value = 0.0;
    if (!softmax) {
        for (std::size_t p = 0; p < packs; ++p) {
            const PackRows pr = pack_of(p);
            const auto& H = run_forward(pr, rng);
            const std::size_t r0 = std::size_t(pr.first_row());
            value += bce_loss<T>(H, E, ws.targets.data() + r0, ws.negatives.data() + r0, scale,
                                 ws.dout, dE);
            if (grad) run_backward(ws.dout, pr);
        }
    } else {
        ws.rows.resize(all.rows(), d);
        ws.streams.resize(packs, stream);
        for (std::size_t p = 0; p < packs; ++p) {
            const PackRows pr = pack_of(p);
            ws.streams[p] = stream;
            ws.rows.middleRows(pr.first_row(), pr.rows()) = run_forward(pr, rng);
        }
        value += spec.loss == LossKind::ce
                     ? cross_entropy_loss(ws.rows, E, ws.targets, scale, ws.drows, dE,
                                          ws.kd.softmax, spec.chunks)
                     : sampled_softmax_loss(ws.rows, E, ws.targets, *spec.negatives, *spec.log_q,
                                            scale, ws.drows, dE, ws.sampled);
        for (std::size_t p = packs; grad && p-- > 0;) {
            const PackRows pr = pack_of(p);
            if (p + 1 < packs) {  // the last pack's cache is still live
                Rng again = ws.streams[p];
                run_forward(pr, rng ? &again : nullptr);
            }
            run_backward(ws.drows.middleRows(pr.first_row(), pr.rows()), pr);
        }
    }
    if (kd) value += distillation_loss(E, *kd->teacher, kd->options, scale, dE, ws.kd, spec.chunks);
    return value;
}

/// STOSA: BPR + pvn (3.18) on the last layer's Gaussians, row-local: pack by pack, the windows
/// packed as for SASRec (each pack's dropout continues the stream of the last window sampled).
template <typename T, typename SampleFn>
double windows_objective(const Stosa<T>& model, std::size_t count, SampleFn&& sample, Rng* rng,
                         const ObjectiveSpec& spec, T scale, Stosa<T>* grad,
                         ObjectiveWorkspace<Stosa<T>>& ws) {
    Rng unused(0);
    Rng& stream = rng ? *rng : unused;
    auto& c = ws.cache;
    const auto& emb = model.embedding;
    detail::pack_samples(count, sample, stream, spec, model.maxlen(), ws,
                         [](const TrainSample&) {});
    const PackRows all = ws.pack.view();
    double loss = 0.0;
    for (std::size_t p = 0; p + 1 < ws.cuts.size(); ++p) {
        const PackRows pr = all.sub(ws.cuts[p], ws.cuts[p + 1]);
        const ItemId* ids = ws.pack.ids.data() + pr.first_row();
        const std::size_t r0 = std::size_t(pr.first_row());
        model.forward(ids, pr, c, rng);
        loss += bpr_pvn_loss<T>(c.mus.back(), c.sigmas.back(), emb.E_mu, emb.E_sigma,
                                ws.targets.data() + r0, ws.negatives.data() + r0,
                                model.config.pvn_weight, scale, ws.dout, ws.dsigma,
                                grad ? &grad->embedding.E_mu : nullptr,
                                grad ? &grad->embedding.E_sigma : nullptr, ws.bpr);
        if (grad) model.backward(ws.dout, ws.dsigma, ids, pr, c, *grad);
    }
    return loss;
}

/// One window: windows_objective with count 1, its stream starting at rng's current state.
/// For BCE and BPR, s.negative must be filled.
template <typename Model>
double window_objective(const Model& model, const TrainSample& s, const ObjectiveSpec& spec,
                        typename Model::Scalar scale, Model* grad, ObjectiveWorkspace<Model>& ws,
                        Rng* rng) {
    const Rng start = rng ? *rng : Rng(0);
    return windows_objective(
        model, 1,
        [&](std::size_t, Rng& r) -> const TrainSample& {
            r = start;
            return s;
        },
        rng, spec, scale, grad, ws);
}

}  // namespace seqrec
