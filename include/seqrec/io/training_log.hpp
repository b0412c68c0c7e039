/// \file io/training_log.hpp
/// A training run's log as JSON lines, one per epoch (`seqrec train --log FILE.jsonl`): loss,
/// gradient norm, seconds, and every validation metric when the epoch was validated. Lines are
/// flushed as they come, so a running job can be followed and plotted (read_epoch_log reads
/// them back; io/svg_chart.hpp draws them).
#pragma once

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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
    if (e.sent_bytes > 0.0 || e.received_bytes > 0.0) {  // several processes
        j["sent_bytes"] = e.sent_bytes;
        j["received_bytes"] = e.received_bytes;
    }
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
    /// `append`: continue a log (a resumed run) instead of starting it afresh.
    explicit EpochLogWriter(const std::string& path, bool append = false)
        : path_(path), out_(path, append ? std::ios::app : std::ios::trunc) {
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

/// One epoch read back from a log: loss, gradient norm and the validation metrics (empty when
/// the epoch was not validated).
struct LoggedEpoch {
    double epoch = 0, loss = 0, grad_norm = 0;
    std::map<std::string, double> valid;
};

/// Reads a log written by EpochLogWriter; DataError naming file:line for a malformed line.
inline std::vector<LoggedEpoch> read_epoch_log(const std::string& path) {
    std::ifstream in(path);
    SEQREC_CHECK(in.good(), IoError, path + ": cannot open for reading");
    std::vector<LoggedEpoch> out;
    std::string line;
    for (long n = 1; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = path + ":" + std::to_string(n);
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            throw DataError(where + ": not a JSON object (expected one epoch per line)");
        LoggedEpoch e;
        for (const char* key : {"epoch", "loss"})
            if (!j.contains(key) || !j[key].is_number())
                throw DataError(where + ": \"" + key + "\" missing or not a number");
        e.epoch = j["epoch"].get<double>();
        e.loss = j["loss"].get<double>();
        if (j.contains("grad_norm") && j["grad_norm"].is_number())
            e.grad_norm = j["grad_norm"].get<double>();
        if (j.contains("valid") && j["valid"].is_object())
            for (const auto& [k, v] : j["valid"].items())
                if (v.is_number()) e.valid[k] = v.get<double>();
        out.push_back(std::move(e));
    }
    if (out.empty()) throw DataError(path + ": no epochs in the log");
    return out;
}

}  // namespace seqrec
