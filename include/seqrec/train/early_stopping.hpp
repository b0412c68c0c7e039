/// \file train/early_stopping.hpp
/// Model selection on a validation metric: remembers the best epoch and says when `patience`
/// epochs (counted in validated epochs times their spacing) passed without a gain (MODELS.md 1.11).
#pragma once

#include <string>

#include "seqrec/core/error.hpp"
#include "seqrec/core/types.hpp"
#include "seqrec/eval/metrics.hpp"

namespace seqrec {

class EarlyStopping {
public:
    /// `metric` must be one of `metric_names()`; patience 0 = never stop early.
    EarlyStopping(std::string metric, Index patience)
        : metric_(std::move(metric)), patience_(patience) {
        check_metric_name(metric_);
        SEQREC_CHECK(patience >= 0, ConfigError, "patience must be >= 0");
    }

    /// Records the validation metrics of `epoch`, `epochs_since_last` after the previous
    /// validation. Returns true when this is a new best (strictly greater).
    bool update(Index epoch, const Metrics& m, Index epochs_since_last = 1) {
        const double v = m.get(metric_);
        if (v > best_score_) {
            best_score_ = v;
            best_epoch_ = epoch;
            since_best_ = 0;
            return true;
        }
        since_best_ += epochs_since_last;
        return false;
    }
    bool should_stop() const { return patience_ > 0 && since_best_ >= patience_; }

    /// What a resumed run needs to stop where an uninterrupted one would.
    struct State {
        double best_score = -1.0;
        Index best_epoch = 0, since_best = 0;
    };
    State state() const { return {best_score_, best_epoch_, since_best_}; }
    void restore(const State& s) {
        best_score_ = s.best_score;
        best_epoch_ = s.best_epoch;
        since_best_ = s.since_best;
    }
    Index best_epoch() const { return best_epoch_; }  ///< 0 = never validated
    double best_score() const { return best_score_; }
    const std::string& metric() const { return metric_; }
    Index patience() const { return patience_; }

private:
    std::string metric_;
    Index patience_;
    double best_score_ = -1.0;
    Index best_epoch_ = 0, since_best_ = 0;
};

}  // namespace seqrec
