/// \file train/trainer.hpp
/// Mini-batch training with OpenMP over the windows of a batch, early stopping on a validation
/// metric and restoring the best weights (MODELS.md §1.3, §1.11).
///
/// Determinism: a batch is cut into `chunks` fixed ranges of windows; each chunk accumulates its
/// gradients into its own buffer in window order, and buffers are summed in chunk order. Random
/// streams come from (seed, epoch, user). The chunking does not depend on the thread count, so the
/// same seed gives bit-identical weights and metrics for any number of threads.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "seqrec/core/parallel.hpp"
#include "seqrec/eval/evaluator.hpp"
#include "seqrec/optim/adam.hpp"
#include "seqrec/train/objective.hpp"

namespace seqrec {

struct TrainOptions {
    Index epochs = 200;
    Index batch = 128;
    LossKind loss = LossKind::bce;
    AdamOptions adam;
    std::uint64_t seed = 42;
    Index patience = 20;             ///< epochs without improvement before stopping; 0 = off
    std::string metric = "NDCG@10";  ///< validation metric for model selection
    Index eval_every = 1;            ///< validate every k epochs
    EvalOptions eval;                ///< protocol for validation
    Index chunks = 8;                ///< fixed gradient buffers per batch (determinism)
    bool distill = false;            ///< add graph distillation (TED / CAD)
    DistillationOptions kd;          ///< tau, lambda
    TransitionGraphOptions graph;    ///< how the transition graph is built
    bool verbose = true;             ///< one progress line per epoch on stderr

    void check() const {
        SEQREC_CHECK(epochs >= 0, ConfigError, "epochs must be >= 0");
        SEQREC_CHECK(batch >= 1, ConfigError, "batch must be >= 1");
        SEQREC_CHECK(patience >= 0 && eval_every >= 1 && chunks >= 1, ConfigError,
                     "patience must be >= 0, eval_every and chunks >= 1");
        adam.check();
    }
};

struct EpochLog {
    Index epoch;
    double loss, seconds, sequences_per_second;
    double valid_metric;  ///< NaN when not validated
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
        std::vector<Index> order = users_;
        Rng shuffle_rng({opt_.seed, std::uint64_t(epoch), 0x5u});
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[shuffle_rng.below(i)]);
        double total = 0.0;
        Index batches = 0;
        for (std::size_t start = 0; start < order.size(); start += std::size_t(opt_.batch)) {
            const std::size_t end = std::min(order.size(), start + std::size_t(opt_.batch));
            total += train_batch(model, split, epoch, order, start, end);
            adam.step(model, grads_[0]);
            ++batches;
        }
        return batches ? total / double(batches) : 0.0;
    }

    /// Trains with early stopping; `model` ends with the best validation weights.
    TrainResult fit(Model& model, const Split& split) {
        TrainResult res;
        Adam<T> adam(opt_.adam);
        Model best = model;
        double best_score = -1.0;
        Index since_best = 0;
        prepare(model, split);
        const auto t_start = std::chrono::steady_clock::now();
        for (Index epoch = 1; epoch <= opt_.epochs; ++epoch) {
            const auto t0 = std::chrono::steady_clock::now();
            const double loss = train_epoch(model, split, epoch, adam);
            const double train_s = seconds_since(t0);
            EpochLog e{epoch, loss, train_s, double(users_.size()) / train_s, std::nan("")};
            res.epochs_run = epoch;
            std::string line;
            if (epoch % opt_.eval_every == 0 || epoch == opt_.epochs) {
                const Metrics m = evaluate(model, split, false, opt_.eval);
                e.valid_metric = m.get(opt_.metric);
                if (e.valid_metric > best_score) {
                    best_score = e.valid_metric;
                    best = model;
                    res.best_epoch = epoch;
                    res.best_valid = m;
                    since_best = 0;
                } else {
                    since_best += opt_.eval_every;
                }
                char buf[160];
                std::snprintf(buf, sizeof buf, "  valid %s %.4f HR@10 %.4f%s", opt_.metric.c_str(),
                              e.valid_metric, m.get("HR@10"), res.best_epoch == epoch ? " *" : "");
                line = buf;
            }
            res.log.push_back(e);
            if (opt_.verbose)
                std::fprintf(stderr, "epoch %3ld  loss %.4f%s  %.2fs (train %.2fs, %.0f seq/s)\n",
                             long(epoch), loss, line.c_str(), seconds_since(t0), train_s,
                             e.sequences_per_second);
            if (opt_.patience > 0 && since_best >= opt_.patience) {
                if (opt_.verbose)
                    std::fprintf(stderr, "early stop: no %s gain in %ld epochs (best epoch %ld)\n",
                                 opt_.metric.c_str(), long(opt_.patience), long(res.best_epoch));
                break;
            }
        }
        res.train_seconds = seconds_since(t_start);
        if (res.best_epoch > 0) model = best;
        return res;
    }

    const TrainOptions& options() const { return opt_; }

private:
    static double seconds_since(std::chrono::steady_clock::time_point t) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    }

    void prepare(const Model& model, const Split& split) {
        if (prepared_for_ == &split && !grads_.empty()) return;
        prepared_for_ = &split;
        users_.clear();
        seen_.assign(split.train.size(), {});
        for (Index u = 0; u < split.num_users(); ++u) {
            if (split.train[std::size_t(u)].size() < 2) continue;
            users_.push_back(u);
            seen_[std::size_t(u)] = sorted_unique(split.train[std::size_t(u)]);
        }
        grads_.assign(std::size_t(opt_.chunks), model.zeros_like());
        if constexpr (!has_own_loss<Model>::value) distill_setup(model, split);
        ws_.resize(std::size_t(max_threads()));
        samples_.resize(std::size_t(max_threads()));
    }

    void distill_setup(const Model& model, const Split& split) {
        if (opt_.distill) {  // graph from training sequences only (MODELS.md 6.1)
            teacher_ = TransitionTeacher(
                build_transition_graph(split.train, split.num_items, opt_.graph), opt_.kd.tau);
            kd_ = Distillation{&teacher_, opt_.kd, model.config.dropout};
        }
    }

    double train_batch(const Model& model, const Split& split, Index epoch,
                       const std::vector<Index>& order, std::size_t start, std::size_t end) {
        const std::size_t B = end - start;
        Index targets = 0;
        for (std::size_t i = start; i < end; ++i)
            targets += std::min<Index>(Index(split.train[std::size_t(order[i])].size()) - 1,
                                       model.maxlen());
        const T scale = T(1.0 / double(std::max<Index>(targets, 1)));
        const std::size_t C = std::min<std::size_t>(std::size_t(opt_.chunks), B);
        std::vector<double> chunk_loss(std::size_t(opt_.chunks), 0.0);
        if (ws_.size() < std::size_t(max_threads())) {
            ws_.resize(std::size_t(max_threads()));
            samples_.resize(std::size_t(max_threads()));
        }
#pragma omp parallel for schedule(dynamic, 1)
        for (std::ptrdiff_t c = 0; c < std::ptrdiff_t(opt_.chunks); ++c) {
            Model& g = grads_[std::size_t(c)];
            zero_params<T>(g);
            if (std::size_t(c) >= C) continue;
            const std::size_t tid = std::size_t(thread_id());
            auto& ws = ws_[tid];
            TrainSample& s = samples_[tid];
            const std::size_t lo = start + B * std::size_t(c) / C;
            const std::size_t hi = start + B * (std::size_t(c) + 1) / C;
            double loss = 0.0;
            for (std::size_t i = lo; i < hi; ++i) {
                const Index u = order[i];
                Rng rng({opt_.seed, std::uint64_t(epoch), std::uint64_t(u)});
                make_train_sample(split.train[std::size_t(u)], model.maxlen(), s);
                if (opt_.loss == LossKind::bce || has_own_loss<Model>::value)
                    sample_negatives(seen_[std::size_t(u)], split.num_items, s.target.size(),
                                     s.negative, rng);
                loss += window_objective(model, s, opt_.loss, scale, &g, ws, &rng,
                                         opt_.distill ? &kd_ : nullptr);
            }
            chunk_loss[std::size_t(c)] = loss;
        }
        reduce_grads();
        double total = 0.0;
        for (double l : chunk_loss) total += l;
        return total;
    }

    /// grads_[0] += grads_[c] for c = 1.., element by element in chunk order.
    void reduce_grads() {
        std::vector<std::vector<NamedParam<T>>> lists;
        for (auto& g : grads_) lists.push_back(param_list<T>(g));
        for (std::size_t p = 0; p < lists[0].size(); ++p) {
            T* dst = lists[0][p].value->data();
            const std::ptrdiff_t n = std::ptrdiff_t(lists[0][p].value->size());
#pragma omp parallel for schedule(static) if (n > 65536)
            for (std::ptrdiff_t i = 0; i < n; ++i) {
                T acc = dst[i];
                for (std::size_t c = 1; c < lists.size(); ++c) acc += lists[c][p].value->data()[i];
                dst[i] = acc;
            }
        }
    }

    static int thread_id() {
#ifdef _OPENMP
        return omp_get_thread_num();
#else
        return 0;
#endif
    }

    TrainOptions opt_;
    const Split* prepared_for_ = nullptr;
    std::vector<Index> users_;
    std::vector<std::vector<ItemId>> seen_;
    std::vector<Model> grads_;
    std::vector<ObjectiveWorkspace<Model>> ws_;
    std::vector<TrainSample> samples_;
    TransitionTeacher teacher_;
    Distillation kd_;
};

}  // namespace seqrec
