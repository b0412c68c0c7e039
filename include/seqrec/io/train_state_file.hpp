/// \file io/train_state_file.hpp
/// A TrainState as bytes, saved in a model directory beside the weights (config.json names the
/// file and its checksum, so weights and state are switched together; io/checkpoint.hpp).
/// Layout (host byte order): magic, sizeof(T), epoch, Adam step, best score (double), best
/// epoch, epochs since best, train seconds, best validation metrics (count, then name and
/// value each, then users), then four arrays (length, values): params, Adam m, Adam v, best
/// params. Scalars are stored as trained (float or double), so resuming is exact.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "seqrec/core/error.hpp"
#include "seqrec/io/checkpoint.hpp"
#include "seqrec/train/train_state.hpp"

namespace seqrec {

inline constexpr char kTrainStateMagic[8] = {'S', 'E', 'Q', 'R', 'E', 'C', 'S', '1'};

template <typename T>
std::string serialize_train_state(const TrainState<T>& s) {
    std::string out(kTrainStateMagic, 8);
    detail::put(out, std::uint32_t(sizeof(T)));
    detail::put(out, std::int64_t(s.epoch));
    detail::put(out, std::int64_t(s.adam.step));
    detail::put(out, s.stopping.best_score);
    detail::put(out, std::int64_t(s.stopping.best_epoch));
    detail::put(out, std::int64_t(s.stopping.since_best));
    detail::put(out, s.train_seconds);
    detail::put(out, std::uint32_t(s.best_valid.values.size()));
    for (const auto& [name, value] : s.best_valid.values) {
        detail::put(out, std::uint32_t(name.size()));
        out += name;
        detail::put(out, value);
    }
    detail::put(out, std::int64_t(s.best_valid.users));
    for (const Vector<T>* v : {&s.params, &s.adam.m, &s.adam.v, &s.best_params}) {
        detail::put(out, std::int64_t(v->size()));
        if (v->size() > 0)
            out.append(reinterpret_cast<const char*>(v->data()),
                       std::size_t(v->size()) * sizeof(T));
    }
    return out;
}

/// Parses bytes written by serialize_train_state; IoError naming `where` on any mismatch.
template <typename T>
TrainState<T> parse_train_state(const std::string& bytes, const std::string& where) {
    detail::ByteReader in{bytes, where};
    in.magic(kTrainStateMagic, "training state");
    std::uint32_t scalar = 0, count = 0;
    in.get(scalar);
    if (scalar != sizeof(T))
        throw IoError(where + ": saved with " + std::to_string(scalar * 8) +
                      "-bit scalars, this model trains with " + std::to_string(sizeof(T) * 8));
    TrainState<T> s;
    std::int64_t epoch = 0, step = 0, best_epoch = 0, since = 0, users = 0;
    in.get(epoch);
    in.get(step);
    in.get(s.stopping.best_score);
    in.get(best_epoch);
    in.get(since);
    in.get(s.train_seconds);
    if (epoch < 0 || step < 0 || best_epoch < 0 || best_epoch > epoch || since < 0)
        throw IoError(where + ": inconsistent epoch counters");
    s.epoch = Index(epoch);
    s.adam.step = long(step);
    s.stopping.best_epoch = Index(best_epoch);
    s.stopping.since_best = Index(since);
    in.get(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        std::uint32_t len = 0;
        in.get(len);
        std::string name = in.text(len);
        double value = 0;
        in.get(value);
        s.best_valid.values.emplace_back(std::move(name), value);
    }
    in.get(users);
    s.best_valid.users = long(users);
    for (Vector<T>* v : {&s.params, &s.adam.m, &s.adam.v, &s.best_params}) {
        std::int64_t n = 0;
        in.get(n);
        if (n < 0 || std::uint64_t(n) > (bytes.size() - in.pos) / sizeof(T))
            throw IoError(where + ": truncated at byte " + std::to_string(in.pos));
        v->resize(Index(n));
        if (n > 0)  // an empty vector's data() is null, and memcpy must not see it
            std::memcpy(v->data(), bytes.data() + in.pos, std::size_t(n) * sizeof(T));
        in.pos += std::size_t(n) * sizeof(T);
    }
    in.at_end("the training state");
    return s;
}

/// The training state a model directory holds (saved with save_checkpoint's `train_state`).
template <typename T>
TrainState<T> read_train_state(const std::string& dir) {
    const nlohmann::json j = read_checkpoint_config(dir);
    const std::string cfg_path = dir + "/config.json";
    if (!j.contains("train_state"))
        throw IoError(cfg_path +
                      ": holds no training state to resume from (the run was saved "
                      "without one, or by an older seqrec)");
    std::string path;
    const std::string bytes = detail::read_listed_file(dir, j, "train_state", cfg_path, path);
    return parse_train_state<T>(bytes, path);
}

}  // namespace seqrec
