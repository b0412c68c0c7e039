/// \file io/training_log.hpp
/// A training run's log as JSON lines, one per epoch (`seqrec train --log FILE.jsonl`): loss,
/// gradient norm, seconds, and every validation metric when the epoch was validated. Lines are
/// flushed as they come, so a running job can be followed and plotted.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "seqrec/core/error.hpp"
#include "seqrec/train/trainer.hpp"

namespace seqrec {

/// One epoch as a JSON object (keys in a fixed order).
inline nlohmann::ordered_json epoch_log_json(const EpochLog& e) {
    nlohmann::ordered_json j;
    j["epoch"] = e.epoch;
    j["loss"] = e.loss;
    j["grad_norm"] = e.grad_norm;
    j["train_seconds"] = e.train_seconds;
    j["seconds"] = e.seconds;
    j["sequences_per_second"] = e.sequences_per_second;
    if (e.validated) {
        j["valid"] = e.valid.to_json();
        j["valid_metric"] = e.valid_metric;
        j["best"] = e.best;
    }
    j["stopping"] = e.stopping;
    return j;
}

/// Opens `path` for writing at construction (so a bad path fails before training starts, with
/// an IoError naming it) and appends one line per epoch.
class EpochLogWriter {
public:
    explicit EpochLogWriter(const std::string& path) : path_(path), out_(path, std::ios::trunc) {
        SEQREC_CHECK(out_.good(), IoError, "cannot open '" + path + "' for writing the log");
    }
    void write(const EpochLog& e) {
        out_ << epoch_log_json(e).dump() << '\n';
        out_.flush();
        SEQREC_CHECK(out_.good(), IoError, "cannot write the log to '" + path_ + "'");
    }

private:
    std::string path_;
    std::ofstream out_;
};

}  // namespace seqrec
