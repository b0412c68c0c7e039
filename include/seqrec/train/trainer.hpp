/// \file train/trainer.hpp
/// Mini-batch training with OpenMP over the windows of a batch, early stopping on a validation
/// metric and restoring the best weights (MODELS.md §1.3, §1.11); optionally data-parallel over
/// processes (TrainHooks::group): each computes its own chunks of every batch, the chunk
/// gradients are exchanged, and every process sums them in chunk order and takes the same step.
///
/// Determinism: a batch is cut into `chunks` fixed ranges of windows; each chunk accumulates its
/// gradients into its own buffer in window order, and buffers are summed in chunk order. Random
/// streams come from (seed, epoch, user); a pack of windows draws its dropout from the stream of
/// its chunk's windows (train/objective.hpp). The chunking does not depend on the thread count, so
/// the same seed gives bit-identical weights and metrics for any number of threads.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "seqrec/core/parallel.hpp"
#include "seqrec/core/process_group.hpp"
#include "seqrec/eval/evaluator.hpp"
#include "seqrec/optim/adam.hpp"
#include "seqrec/train/chunk_gradients.hpp"
#include "seqrec/train/early_stopping.hpp"
#include "seqrec/train/objective.hpp"
#include "seqrec/train/train_state.hpp"

namespace seqrec {

struct TrainOptions {
    Index epochs = 200;
    Index batch = 128;
    LossKind loss = LossKind::bce;
    Index negatives = 256;  ///< sampled-ce: K negatives shared by each batch
    NegativeSampler sampler = NegativeSampler::uniform;  ///< sampled-ce: how they are drawn
    AdamOptions adam;
    std::uint64_t seed = 42;
    Index patience = 20;             ///< epochs without improvement before stopping; 0 = off
    std::string metric = "NDCG@10";  ///< validation metric for model selection (metric_names())
    Index eval_every = 1;            ///< validate every k epochs
    EvalOptions eval;                ///< protocol for validation
    Index chunks = 8;                ///< fixed gradient buffers per batch (determinism)
    bool distill = false;            ///< add graph distillation (TED / CAD)
    DistillationOptions kd;          ///< tau, lambda
    TransitionGraphOptions graph;    ///< how the transition graph is built

    void check() const {
        SEQREC_CHECK(epochs >= 0, ConfigError, "epochs must be >= 0");
        SEQREC_CHECK(batch >= 1, ConfigError, "batch must be >= 1");
        SEQREC_CHECK(patience >= 0 && eval_every >= 1 && chunks >= 1, ConfigError,
                     "patience must be >= 0, eval_every and chunks >= 1");
        SEQREC_CHECK(negatives >= 1, ConfigError,
                     "negatives must be >= 1, got " + std::to_string(negatives));
        check_metric_name(metric);
        adam.check();
    }
};

/// What one epoch did; passed to `TrainHooks::on_epoch`.
struct EpochLog {
    Index epoch = 0;
    double loss = 0.0;
    /// Mean over the epoch's steps of the global gradient's L2 norm (after the cross-process
    /// sum, before the optimiser step).
    double grad_norm = 0.0;
    /// Bytes of chunk gradients this process sent and received in the epoch (0 in one process).
    double sent_bytes = 0.0, received_bytes = 0.0;
    double train_seconds = 0.0;  ///< the training pass only
    /// Of train_seconds: exchanging chunk gradients between processes, and the update every
    /// process repeats whatever their number (the in-order fold, the norm and the Adam step).
    double exchange_seconds = 0.0, update_seconds = 0.0;
    double seconds = 0.0;  ///< training and validation
    double sequences_per_second = 0.0;
    bool validated = false;
    Metrics valid;                       ///< when validated
    double valid_metric = std::nan("");  ///< the selection metric; NaN when not validated
    bool best = false;                   ///< a new best validation score
    bool stopping = false;               ///< early stopping ends the run after this epoch
};

/// Callbacks of a training run: the library reports progress through them and never prints.
struct TrainHooks {
    std::function<void(const EpochLog&)> on_epoch;
    /// The processes of a data-parallel run (core/process_group.hpp); nullptr = this one.
    /// Every process calls fit with the same model, data and options.
    ProcessGroup* group = nullptr;
};

struct TrainResult {
    Index epochs_run = 0, best_epoch = 0;
    double train_seconds = 0.0;
    Metrics best_valid;
    std::vector<EpochLog> log;
};

template <typename Model>
class Trainer {
public:
    using T = typename Model::Scalar;
    explicit Trainer(TrainOptions o) : opt_(std::move(o)) { opt_.check(); }

    /// One epoch over every user with >= 2 training items, shuffled. Returns the mean loss.
    double train_epoch(Model& model, const Split& split, Index epoch, Adam<T>& adam) {
        prepare(model, split);
        order_.assign(users_.begin(), users_.end());
        Rng shuffle_rng({opt_.seed, std::uint64_t(epoch), 0x5u});
        for (std::size_t i = order_.size(); i > 1; --i)
            std::swap(order_[i - 1], order_[shuffle_rng.below(i)]);
        double total = 0.0;
        Index batches = 0;
        norm_sum_ = 0.0;
        sent_bytes_ = received_bytes_ = 0.0;
        exchange_seconds_ = update_seconds_ = 0.0;
        for (std::size_t start = 0; start < order_.size(); start += std::size_t(opt_.batch)) {
            const std::size_t end = std::min(order_.size(), start + std::size_t(opt_.batch));
            total += train_step(model, split, epoch, order_.data() + start, end - start, adam);
            ++batches;
        }
        epoch_grad_norm_ = batches ? norm_sum_ / double(batches) : 0.0;
        return batches ? total / double(batches) : 0.0;
    }

    /// The last epoch's mean gradient norm (EpochLog::grad_norm).
    double epoch_grad_norm() const { return epoch_grad_norm_; }

    /// One optimisation step on the windows of `count` users (indices into split.train, each
    /// with >= 2 training items): chunked forward and backward, in-order gradient reduction, one
    /// Adam step. Returns the summed batch loss. After `prepare`, a step allocates nothing.
    double train_step(Model& model, const Split& split, Index epoch, const Index* users,
                      std::size_t count, Adam<T>& adam) {
        prepare(model, split);
        const double loss = train_batch(model, split, epoch, users, count);
        const auto t0 = std::chrono::steady_clock::now();
        norm_sum_ += std::sqrt(chunks_.squared_norm());
        adam.step(model, chunks_[0], chunks_.whole() ? nullptr : &chunks_.rows());
        update_seconds_ += seconds_since(t0);
        return loss;
    }

    /// Trains as one of the processes of `g` (nullptr or a group of one: alone). fit() sets it
    /// from its hooks.
    void set_group(ProcessGroup* g) { group_ = g && g->world() > 1 ? g : nullptr; }

    /// Per-split set-up (training users, their seen items, the distillation teacher) and every
    /// per-thread workspace sized for the longest window. Called by the methods above; call it
    /// yourself to keep this cost out of a timed step.
    void prepare(const Model& model, const Split& split) {
        if (prepared_for_ == &split && chunks_.size() && ws_.size() >= std::size_t(max_threads()))
            return;
        prepared_for_ = &split;
        users_.clear();
        seen_.assign(split.train.size(), {});
        for (Index u = 0; u < split.num_users(); ++u) {
            if (split.train[std::size_t(u)].size() < 2) continue;
            users_.push_back(u);
            seen_[std::size_t(u)] = sorted_unique(split.train[std::size_t(u)]);
        }
        chunks_.reset(model, std::size_t(opt_.chunks));
        chunk_loss_.assign(std::size_t(opt_.chunks), 0.0);
        chunk_order_.assign(std::size_t(opt_.chunks), 0);
        chunk_cost_.assign(std::size_t(opt_.chunks), 0.0);
        check_objective(model.config, opt_.loss, opt_.distill);
        distill_setup(model, split);
        if (opt_.loss == LossKind::sampled_ce) {  // popularity from the training sequences
            std::vector<Index> counts(std::size_t(split.num_items) + 1, 0);
            for (const auto& seq : split.train)
                for (ItemId i : seq) ++counts[std::size_t(i)];
            sampling_ = NegativeSampling(opt_.sampler, opt_.negatives, counts);
            Rng first({opt_.seed, 0x5A3Du});
            sampling_.draw(first, batch_negatives_);  // what reserve_workspaces runs with
            spec_.negatives = &batch_negatives_;
            spec_.log_q = &sampling_.log_q();
        }
        ws_.resize(std::size_t(max_threads()));
        samples_.resize(std::size_t(max_threads()));
        reserve_workspaces(model, split);
        chunks_.zero_all();
    }

    /// Trains with early stopping; `model` ends with the best validation weights. With `state`,
    /// a run that has completed epochs (state->epoch > 0) continues from there, and after each
    /// epoch (before hooks.on_epoch, which may save it) `state` holds what resuming needs.
    TrainResult fit(Model& model, const Split& split, const TrainHooks& hooks = {},
                    TrainState<T>* state = nullptr) {
        set_group(hooks.group);
        TrainResult res;
        Adam<T> adam(opt_.adam);
        EarlyStopping stopper(opt_.metric, opt_.patience);
        Index first = 1;
        double earlier_seconds = 0.0;
        const bool resuming = state && state->epoch > 0;
        if (resuming) {
            const Index n = model.params().size();
            SEQREC_CHECK(state->params.size() == n &&
                             (state->best_params.size() == 0 || state->best_params.size() == n) &&
                             (state->adam.step == 0 ||
                              (state->adam.m.size() == n && state->adam.v.size() == n)),
                         ShapeError, "training state does not fit this model's parameters");
            model.params().assign(state->params);
            adam.restore(state->adam);
            stopper.restore(state->stopping);
            res.epochs_run = state->epoch;
            res.best_epoch = state->stopping.best_epoch;
            res.best_valid = state->best_valid;
            first = state->epoch + 1;
            earlier_seconds = state->train_seconds;
        }
        Model best = model;
        if (resuming && state->best_params.size() > 0) best.params().assign(state->best_params);
        prepare(model, split);
        const auto t_start = std::chrono::steady_clock::now();
        for (Index epoch = first; epoch <= opt_.epochs && !stopper.should_stop(); ++epoch) {
            const auto t0 = std::chrono::steady_clock::now();
            EpochLog e;
            e.epoch = epoch;
            e.loss = train_epoch(model, split, epoch, adam);
            e.grad_norm = epoch_grad_norm_;
            e.sent_bytes = sent_bytes_;
            e.received_bytes = received_bytes_;
            e.exchange_seconds = exchange_seconds_;
            e.update_seconds = update_seconds_;
            e.train_seconds = seconds_since(t0);
            e.sequences_per_second = double(users_.size()) / e.train_seconds;
            res.epochs_run = epoch;
            if (epoch % opt_.eval_every == 0 || epoch == opt_.epochs) {
                e.validated = true;
                e.valid = evaluate(model, split, false, opt_.eval, eval_ws_, group_);
                e.valid_metric = e.valid.get(opt_.metric);
                e.best = stopper.update(epoch, e.valid, opt_.eval_every);
                if (e.best) {
                    best = model;
                    res.best_epoch = epoch;
                    res.best_valid = e.valid;
                }
            }
            e.seconds = seconds_since(t0);
            e.stopping = stopper.should_stop();
            if (state) {
                state->epoch = epoch;
                state->params = model.params().values();
                state->adam = adam.state();
                state->stopping = stopper.state();
                state->best_valid = res.best_valid;
                if (res.best_epoch > 0) state->best_params = best.params().values();
                state->train_seconds = earlier_seconds + seconds_since(t_start);
            }
            if (hooks.on_epoch) hooks.on_epoch(e);
            res.log.push_back(std::move(e));
        }
        res.train_seconds = earlier_seconds + seconds_since(t_start);
        if (res.best_epoch > 0) model = best;
        return res;
    }

    const TrainOptions& options() const { return opt_; }

private:
    static double seconds_since(std::chrono::steady_clock::time_point t) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    }

    /// Runs the largest chunk of the batch, every window of the model's full length, through
    /// every thread's workspace, on that thread (its product packing memory is per thread too),
    /// with zero weight into the chunk buffer of the same index (zeroed by prepare). No
    /// later chunk then grows a buffer: which thread gets which chunk changes from step to step.
    void reserve_workspaces(const Model& model, const Split& split);

    void distill_setup(const Model& model, const Split& split) {
        if (opt_.distill) {  // graph from training sequences only (MODELS.md 6.1)
            TransitionGraphOptions g = opt_.graph;
            if (g.window < 0) g.window = model.maxlen();
            teacher_ = TransitionTeacher(build_transition_graph(split.train, split.num_items, g),
                                         opt_.kd.tau);
            kd_ = Distillation{&teacher_, opt_.kd, model.config.dropout};
        }
        spec_ = ObjectiveSpec{opt_.loss, opt_.distill ? &kd_ : nullptr};
    }

    double train_batch(const Model& model, const Split& split, Index epoch, const Index* order,
                       std::size_t B);

    /// Rows (= targets) of user u's training window: the sequence less its last item, clipped.
    static Index window_rows(const Model& model, const Split& split, Index u) {
        return std::min<Index>(Index(split.train[std::size_t(u)].size()) - 1, model.maxlen());
    }

    /// Hands the chunks out longest first (their windows' rows times rows plus 6 d, the attention
    /// and projection work), so the thread that takes the last one does not leave the others
    /// idle for a long chunk. Which thread runs a chunk never changes its numbers: each chunk has
    /// its own buffer and stream, and they are folded in chunk order.
    void order_chunks(const Model& model, const Split& split, const Index* order, std::size_t B,
                      std::size_t C) {
        const double width = 6.0 * double(model.config.dim);
        for (std::size_t c = 0; c < chunk_order_.size(); ++c) {
            chunk_order_[c] = c;
            chunk_cost_[c] = 0.0;
            if (c >= C) continue;
            for (std::size_t i = B * c / C; i < B * (c + 1) / C; ++i) {
                const double L = double(window_rows(model, split, order[i]));
                chunk_cost_[c] += L * (L + width);
            }
        }
        // Insertion sort, stable and allocation-free (std::stable_sort takes a heap buffer).
        for (std::size_t k = 1; k < chunk_order_.size(); ++k)
            for (std::size_t j = k;
                 j > 0 && chunk_cost_[chunk_order_[j - 1]] < chunk_cost_[chunk_order_[j]]; --j)
                std::swap(chunk_order_[j - 1], chunk_order_[j]);
    }

    /// Sends this process's chunks (gradient and loss) to every other and fills in theirs, so
    /// every process holds all C chunks, bit for bit as if it had computed them.
    void exchange_chunks(std::size_t C) {
        const int world = group_->world(), me = group_->rank();
        const auto mine = owned_range(Index(C), me, world);
        send_.clear();
        for (Index c = mine.first; c < mine.second; ++c) {
            chunks_.encode(std::size_t(c), send_);
            detail::put(send_, &chunk_loss_[std::size_t(c)], 1);
        }
        group_->all_gather(send_, recv_, offsets_);
        sent_bytes_ += double(send_.size()) * double(world - 1);
        received_bytes_ += double(recv_.size() - send_.size());
        for (int r = 0; r < world; ++r) {
            if (r == me) continue;
            const char* p = recv_.data() + offsets_[std::size_t(r)];
            const char* end = recv_.data() + offsets_[std::size_t(r) + 1];
            const auto theirs = owned_range(Index(C), r, world);
            for (Index c = theirs.first; c < theirs.second; ++c) {
                chunks_.decode(std::size_t(c), p, end);
                detail::take(p, end, &chunk_loss_[std::size_t(c)], 1);
            }
            SEQREC_CHECK(p == end, DataError, "gradient exchange: a message has extra bytes");
        }
    }

    TrainOptions opt_;
    const Split* prepared_for_ = nullptr;
    std::vector<Index> users_;
    std::vector<std::vector<ItemId>> seen_;
    ChunkGradients<Model> chunks_;
    std::vector<double> chunk_loss_;
    std::vector<std::size_t> chunk_order_;  // the order chunks are handed to threads
    std::vector<double> chunk_cost_;
    std::vector<Index> order_;
    EvalWorkspace<Model> eval_ws_;
    std::vector<ObjectiveWorkspace<Model>> ws_;
    std::vector<TrainSample> samples_;
    TransitionTeacher teacher_;
    Distillation kd_;
    ObjectiveSpec spec_;
    NegativeSampling sampling_;
    std::vector<ItemId> batch_negatives_;
    ProcessGroup* group_ = nullptr;
    std::vector<char> send_, recv_;
    std::vector<std::size_t> offsets_;
    double sent_bytes_ = 0.0, received_bytes_ = 0.0;
    double exchange_seconds_ = 0.0, update_seconds_ = 0.0;
    double norm_sum_ = 0.0, epoch_grad_norm_ = 0.0;
};

// The two members that run the model's forward and backward passes are defined outside the class:
// not inline, so that a program built with SEQREC_SEPARATE_MODELS compiles them once for the
// built-in kinds (runtime/registry.hpp) instead of in every source that trains.
template <typename Model>
void Trainer<Model>::reserve_workspaces(const Model& model, const Split& split) {
    const Index n = model.maxlen();
    const std::size_t C = std::min<std::size_t>(std::size_t(opt_.chunks), std::size_t(opt_.batch));
    const std::size_t windows = (std::size_t(opt_.batch) + C - 1) / C;
    TrainSample dummy;
    dummy.input.assign(std::size_t(n), ItemId(1));
    dummy.target.assign(std::size_t(n), ItemId(1));
    dummy.negative.assign(std::size_t(n), ItemId(split.num_items > 1 ? 2 : 1));
    on_each_thread([&](int tid) {
        const std::size_t t = std::size_t(tid);
        if (t >= chunks_.size() || t >= ws_.size()) return;  // never given a chunk
        Rng rng(0);
        windows_objective(
            model, windows,
            [&](std::size_t k, Rng& r) -> const TrainSample& {
                r = Rng({opt_.seed, 0xA110Cu, t, k});
                return dummy;
            },
            &rng, spec_, T(0), &chunks_[t], ws_[t]);
        samples_[t].input.reserve(std::size_t(n));
        samples_[t].target.reserve(std::size_t(n));
        samples_[t].negative.reserve(std::size_t(n));
    });
}

template <typename Model>
double Trainer<Model>::train_batch(const Model& model, const Split& split, Index epoch,
                                   const Index* order, std::size_t B) {
    Index targets = 0;
    for (std::size_t i = 0; i < B; ++i) targets += window_rows(model, split, order[i]);
    const T scale = T(1.0 / double(std::max<Index>(targets, 1)));
    if (opt_.loss == LossKind::sampled_ce) {  // one set per batch, keyed by its first user
        Rng draw({opt_.seed, std::uint64_t(epoch), 0x5A3Du, std::uint64_t(order[0])});
        sampling_.draw(draw, batch_negatives_);
    }
    const std::size_t C = std::min<std::size_t>(std::size_t(opt_.chunks), B);
    const auto mine = group_ ? owned_range(Index(C), group_->rank(), group_->world())
                             : std::pair<Index, Index>(0, Index(C));
    std::fill(chunk_loss_.begin(), chunk_loss_.end(), 0.0);
    const bool every_row = writes_every_item_row(spec_);
    order_chunks(model, split, order, B, C);
    parallel_for(std::ptrdiff_t(opt_.chunks), 1, [&](std::ptrdiff_t i) {
        const std::size_t c = chunk_order_[std::size_t(i)];
        const std::ptrdiff_t ci = std::ptrdiff_t(c);
        chunks_.clear(c);
        if (ci < mine.first || ci >= mine.second) return;  // past the batch, or another's
        if (every_row) chunks_.touch_all(c);
        const std::size_t tid = std::size_t(thread_index());
        auto& ws = ws_[tid];
        TrainSample& s = samples_[tid];
        const std::size_t lo = B * c / C;
        const std::size_t hi = B * (c + 1) / C;
        Rng rng(0);
        const double loss = windows_objective(
            model, hi - lo,
            [&](std::size_t k, Rng& r) -> const TrainSample& {
                const Index u = order[lo + k];
                r = Rng({opt_.seed, std::uint64_t(epoch), std::uint64_t(u)});
                make_train_sample(split.train[std::size_t(u)], model.maxlen(), s);
                if (needs_negatives(opt_.loss))
                    sample_negatives(seen_[std::size_t(u)], split.num_items, s.target.size(),
                                     s.negative, r);
                item_rows_written(spec_, s,
                                  [&](const std::vector<ItemId>& ids) { chunks_.touch(c, ids); });
                return s;
            },
            &rng, spec_, scale, &chunks_[c], ws);
        chunk_loss_[c] = loss;
    });
    const auto t0 = std::chrono::steady_clock::now();
    if (group_) exchange_chunks(C);
    const auto t1 = std::chrono::steady_clock::now();
    chunks_.fold();
    exchange_seconds_ += std::chrono::duration<double>(t1 - t0).count();
    update_seconds_ += seconds_since(t1);
    double total = 0.0;
    for (double l : chunk_loss_) total += l;
    return total;
}

}  // namespace seqrec

#ifdef SEQREC_SEPARATE_MODELS  // compiled once by the build's model sources (runtime/registry.hpp)
#include "seqrec/models/sasrec.hpp"
#include "seqrec/models/stosa.hpp"
namespace seqrec {
extern template class Trainer<SASRec<float>>;
extern template class Trainer<Stosa<float>>;
}  // namespace seqrec
#endif
