/// \file io/checkpoint.hpp
/// Model directory: `config.json` (format, version, model kind, hyper-parameters, training
/// options, item id map, the weights file's name and checksum), `weights-<checksum>.bin`
/// (named float tensors) and, for a run that can be resumed, `train-state-<checksum>.bin`. A save
/// replaces the directory as a unit: the new weights go to a file of their own (atomically), then
/// config.json is switched to name them (atomically), and only then are the old weights removed. A
/// reader (or a server reloading) therefore sees the old model or the new one, never a mix,
/// whichever step a save fails or stops at; a torn or mismatched directory is still detected on
/// load by the checksum.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/json_fields.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/data/id_map.hpp"
#include "seqrec/io/atomic_file.hpp"

namespace seqrec {

inline constexpr const char* kVersion = "0.1.0";
inline constexpr int kCheckpointFormat = 1;
inline constexpr char kWeightsMagic[8] = {'S', 'E', 'Q', 'R', 'E', 'C', 'W', '1'};

namespace detail {
/// FNV-1a 64-bit over bytes (corruption check, not security).
inline std::uint64_t fnv1a(const std::string& bytes) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    return h;
}
template <typename V>
void put(std::string& out, V v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
/// Reads a binary file's fields in order; past the end is IoError "where: truncated at byte N".
struct ByteReader {
    const std::string& bytes;
    const std::string& where;
    std::size_t pos = 0;

    void need(std::size_t n) const {
        if (n > bytes.size() - pos)
            throw IoError(where + ": truncated at byte " + std::to_string(pos));
    }
    template <typename V>
    void get(V& v) {
        need(sizeof v);
        std::memcpy(&v, bytes.data() + pos, sizeof v);
        pos += sizeof v;
    }
    std::string text(std::size_t len) {
        need(len);
        pos += len;
        return bytes.substr(pos - len, len);
    }
    /// The 8-byte magic that starts every seqrec binary file; `what` names the kind of file.
    void magic(const char (&expected)[8], const char* what) {
        need(8);
        if (std::memcmp(bytes.data(), expected, 8) != 0)
            throw IoError(where + ": not a seqrec " + what + " (bad magic)");
        pos = 8;
    }
    void at_end(const char* after) const {
        if (pos != bytes.size()) throw IoError(where + ": trailing bytes after " + after);
    }
};
/// A file name inside the model directory, not a path out of it.
inline bool plain_file_name(const std::string& file) {
    return !file.empty() && file.find('/') == std::string::npos &&
           file.find('\\') == std::string::npos && file != "." && file != "..";
}
/// `prefix-<checksum>.bin` names of files a save replaces (and `weights.bin`, the name of
/// format 1's first release).
inline bool replaced_file_name(const std::string& name, const std::string& prefix) {
    if (prefix == "weights-" && name == "weights.bin") return true;
    return name.rfind(prefix, 0) == 0 && name.size() > prefix.size() + 4 &&
           name.compare(name.size() - 4, 4, ".bin") == 0;
}
}  // namespace detail

/// Serialises every parameter (as float32, little-endian host order) in `for_each_param` order.
template <typename T, typename Model>
std::string serialize_weights(const Model& model) {
    std::string out(kWeightsMagic, 8);
    std::uint32_t count = 0;
    for_each_param_const<T>(model, [&](const std::string&, const Param<T>&) { ++count; });
    detail::put(out, count);
    for_each_param_const<T>(model, [&](const std::string& name, const Param<T>& m) {
        detail::put(out, std::uint32_t(name.size()));
        out += name;
        detail::put(out, std::int64_t(m.rows()));
        detail::put(out, std::int64_t(m.cols()));
        for (Index i = 0; i < m.size(); ++i) detail::put(out, float(m.data()[i]));
    });
    return out;
}

/// Reads weights into a model of the right shapes; throws IoError naming the file and problem.
template <typename T, typename Model>
void deserialize_weights(const std::string& bytes, Model& model, const std::string& where) {
    detail::ByteReader in{bytes, where};
    in.magic(kWeightsMagic, "weights file");
    std::uint32_t count = 0;
    in.get(count);
    const auto params = param_list<T>(model);
    if (count != params.size())
        throw IoError(where + ": holds " + std::to_string(count) + " tensors, model expects " +
                      std::to_string(params.size()));
    for (const auto& p : params) {
        std::uint32_t len = 0;
        in.get(len);
        const std::string name = in.text(len);
        std::int64_t rows = 0, cols = 0;
        in.get(rows);
        in.get(cols);
        if (name != p.name || rows != p.value->rows() || cols != p.value->cols())
            throw IoError(
                where + ": tensor '" + detail::printable(name) + "' (" + std::to_string(rows) +
                "x" + std::to_string(cols) + ") does not match model tensor '" + p.name + "' (" +
                std::to_string(p.value->rows()) + "x" + std::to_string(p.value->cols()) + ")");
        for (Index i = 0; i < p.value->size(); ++i) {
            float f;
            in.get(f);
            p.value->data()[i] = T(f);
        }
    }
    in.at_end("the last tensor");
}

inline std::string read_file(const std::string& path) {
    std::error_code ec;  // a device or a FIFO would be read without end
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
        throw IoError(path + ": not a regular file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path + ": cannot open for reading");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Steps of a save, for tests that interrupt one (SaveProbe).
enum class SaveStep { weights_written, config_written, old_weights_removed };
/// Called after each step of a save; a probe that throws stops the save there (tests simulate a
/// crash or a full disk this way).
using SaveProbe = std::function<void(SaveStep)>;

/// Creates `dir` when needed and checks that a file can be written in it, so that a run whose
/// model cannot be saved fails before training rather than after. IoError naming the directory.
inline void check_writable_directory(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw IoError(dir + ": cannot create directory: " + ec.message());
    const std::string probe = dir + "/.seqrec-write-check";
    write_file_atomically(probe, [](std::ostream& o) { o << "ok\n"; });
    std::filesystem::remove(probe, ec);
}

/// Saves a model directory (see the file comment for why in this order). `meta` carries
/// anything else to keep (dataset, metrics); `train`, when not null, the training options in the
/// run-config schema (io/config.hpp), so that the directory's config.json can be given back to
/// `seqrec train --config`.
template <typename Model>
void save_checkpoint(const std::string& dir, const Model& model, const IdMap& items,
                     const nlohmann::json& meta = nlohmann::json::object(),
                     const nlohmann::json& train = nullptr, const SaveProbe& probe = {},
                     const std::string& train_state = {}) {
    using T = typename Model::Scalar;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw IoError(dir + ": cannot create directory: " + ec.message());
    const std::string weights = serialize_weights<T>(model);
    const std::string checksum = std::to_string(detail::fnv1a(weights));
    const std::string weights_file = "weights-" + checksum + ".bin";
    write_file_atomically(dir + "/" + weights_file, [&](std::ostream& o) { o << weights; });
    std::string state_file, state_checksum;
    if (!train_state.empty()) {
        state_checksum = std::to_string(detail::fnv1a(train_state));
        state_file = "train-state-" + state_checksum + ".bin";
        write_file_atomically(dir + "/" + state_file, [&](std::ostream& o) { o << train_state; });
    }
    if (probe) probe(SaveStep::weights_written);
    nlohmann::ordered_json j;
    j["format"] = "seqrec-model";
    j["format_version"] = kCheckpointFormat;
    j["seqrec_version"] = kVersion;
    j["model"] = Model::kind();
    j["config"] = model.config.to_json();
    if (!train.is_null()) j["train"] = train;
    j["meta"] = meta;
    j["item_ids"] = items.externals();
    j["weights"] = {{"file", weights_file}, {"bytes", weights.size()}, {"fnv1a64", checksum}};
    if (!state_file.empty())  // io/train_state_file.hpp: what `train --resume` continues from
        j["train_state"] = {
            {"file", state_file}, {"bytes", train_state.size()}, {"fnv1a64", state_checksum}};
    write_file_atomically(dir + "/config.json", [&](std::ostream& o) { o << j.dump(1) << "\n"; });
    if (probe) probe(SaveStep::config_written);
    // The old weights and training state (any other such file) are garbage now. A failure to
    // remove one is harmless.
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if ((detail::replaced_file_name(name, "weights-") && name != weights_file) ||
            (detail::replaced_file_name(name, "train-state-") && name != state_file))
            std::filesystem::remove(entry.path(), ec);
    }
    if (probe) probe(SaveStep::old_weights_removed);
}

/// Checks the top level of a parsed config.json (`path` names it in messages): format,
/// version and the keys every model directory has.
inline void check_checkpoint_config(const nlohmann::json& j, const std::string& path) {
    const auto format = j.is_object() ? j.find("format") : j.end();
    if (!j.is_object() || format == j.end() || *format != "seqrec-model")
        throw IoError(path + ": not a seqrec model config (missing \"format\": \"seqrec-model\")");
    const auto version = j.find("format_version");
    if (version == j.end() || !version->is_number_integer() || *version != kCheckpointFormat)
        throw IoError(path + ": format_version " +
                      (version == j.end() ? std::string("(missing)") : version->dump()) +
                      " is not supported (this build reads " + std::to_string(kCheckpointFormat) +
                      ")");
    for (const char* key : {"model", "config", "item_ids", "weights"})
        if (!j.contains(key)) throw IoError(path + ": missing key \"" + key + "\"");
    if (!j["model"].is_string()) throw IoError(path + ": \"model\" must be a string");
}

/// Parsed config.json of a model directory (validated).
inline nlohmann::json read_checkpoint_config(const std::string& dir) {
    const std::string path = dir + "/config.json";
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw IoError(path + ": not valid JSON: " + e.what());
    }
    check_checkpoint_config(j, path);
    return j;
}

namespace detail {
/// Refuses sizes the directory's own files cannot back, before a model of that size is built:
/// "item_ids" must list num_items ids, and the weights file (its size on disk) must hold at
/// least the item table and, with absolute positions, the position table. An edited
/// config.json (num_items 2^40, maxlen 10^9) is then an error, not an allocation of terabytes.
template <typename Config>
void check_sizes_before_allocating(const nlohmann::json& j, const Config& cfg, bool positions,
                                   std::size_t scalar_bytes, const std::string& cfg_path) {
    const nlohmann::json& list = j["item_ids"];
    if (!list.is_array() || Index(list.size()) != cfg.num_items)
        throw IoError(cfg_path + ": \"item_ids\" must list the " + std::to_string(cfg.num_items) +
                      " item ids of config num_items");
    const nlohmann::json& w = j["weights"];
    const std::string file = w.is_object() && w.contains("file") && w["file"].is_string()
                                 ? w["file"].get<std::string>()
                                 : std::string();
    if (!plain_file_name(file))
        throw IoError(cfg_path + ": \"weights\".\"file\" must name a file in the model directory");
    std::error_code ec;
    const std::string dir = std::filesystem::path(cfg_path).parent_path().string();
    const auto on_disk = std::filesystem::file_size(std::filesystem::path(dir) / file, ec);
    if (ec)
        throw IoError(dir + "/" + file + ": cannot read the weights file (" + ec.message() + ")");
    if (w.contains("bytes") && w["bytes"].is_number_unsigned() &&
        w["bytes"].get<std::uint64_t>() != std::uint64_t(on_disk))
        throw IoError(dir + "/" + file + ": the file has " + std::to_string(on_disk) +
                      " bytes, config.json lists " + w["bytes"].dump() +
                      " (a truncated or replaced file)");
    // In doubles to stay clear of overflow; the tables alone, so a lower bound for every kind.
    const double rows = double(cfg.num_items + 1) + (positions ? double(cfg.maxlen) : 0.0);
    const double needed = rows * double(cfg.dim) * double(scalar_bytes);
    if (needed > double(on_disk))
        throw IoError(cfg_path + ": /config num_items " + std::to_string(cfg.num_items) +
                      ", maxlen " + std::to_string(cfg.maxlen) + " and dim " +
                      std::to_string(cfg.dim) + " need at least " +
                      std::to_string(static_cast<unsigned long long>(needed)) +
                      " bytes of weights; the weights file has " + std::to_string(on_disk));
}
}  // namespace detail

/// The model a checked config.json describes (weights not loaded) and its item map; IoError
/// naming `cfg_path` and the key for anything that does not fit.
template <typename Model>
Model model_from_checkpoint_config(const nlohmann::json& j, const std::string& cfg_path,
                                   IdMap* items = nullptr) {
    if (j["model"] != Model::kind())  // a string: check_checkpoint_config
        throw IoError(cfg_path + ": model is '" +
                      detail::printable(j["model"].get<std::string>(), 60) + "', expected '" +
                      Model::kind() + "'");
    using Config = decltype(Model{}.config);
    Model model;
    const nlohmann::json& c = j["config"];
    const std::string section = cfg_path + ": /config";
    try {
        // Fields of another kind (a "stosa" label over SASRec fields) show up as unknown keys.
        check_json_fields(c, Config{}.to_json(), section + " of a '" + Model::kind() + "' model");
        const Config cfg = Config::from_json(c);
        cfg.check();
        detail::check_sizes_before_allocating(j, cfg, c.value("abs_pos", true),
                                              sizeof(typename Model::Scalar), cfg_path);
        model = Model(cfg);
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        throw IoError(what.rfind(section, 0) == 0 ? what : section + ": " + what);
    } catch (const nlohmann::json::exception&) {  // a value of the wrong type slipped through
        throw IoError(section + ": a value has the wrong type");
    }
    // "variant" is derived from the other fields; a different one means an edited or mixed file.
    if (c.contains("variant") && c["variant"] != model.config.variant())
        throw IoError(section + "/variant is " + c["variant"].dump() +
                      " but the other fields describe \"" + model.config.variant() + "\"");
    const nlohmann::json& list = j["item_ids"];
    if (!list.is_array() || Index(list.size()) != model.num_items())
        throw IoError(cfg_path + ": \"item_ids\" must list the " +
                      std::to_string(model.num_items()) + " item ids of config num_items");
    IdMap map;
    for (const auto& id : list) {
        if (!id.is_number_integer() || id.get<std::int64_t>() <= 0)
            throw IoError(cfg_path + ": \"item_ids\" must hold positive integers, got " +
                          detail::printable(id.dump()));
        if (map.find(id.get<std::int64_t>()) != 0)
            throw IoError(cfg_path + ": \"item_ids\" lists item " + id.dump() + " twice");
        map.add(id.get<std::int64_t>());
    }
    if (items) *items = std::move(map);
    return model;
}

namespace detail {
/// The bytes of the file config.json's `key` entry names ({"file", "fnv1a64"}), checked against
/// that checksum; `path` receives the file's path (for messages about its content).
inline std::string read_listed_file(const std::string& dir, const nlohmann::json& j,
                                    const char* key, const std::string& cfg_path,
                                    std::string& path) {
    const nlohmann::json& e = j[key];
    const std::string file = e.is_object() && e.contains("file") && e["file"].is_string()
                                 ? e["file"].get<std::string>()
                                 : std::string();
    if (!plain_file_name(file))
        throw IoError(cfg_path + ": \"" + key +
                      "\".\"file\" must name a file in the model directory");
    path = dir + "/" + file;
    std::string bytes = read_file(path);
    const std::string want =
        e.contains("fnv1a64") && e["fnv1a64"].is_string() ? e["fnv1a64"].get<std::string>() : "";
    if (std::to_string(fnv1a(bytes)) != want)
        throw IoError(path + ": checksum does not match config.json (corrupt or mismatched file)");
    return bytes;
}
}  // namespace detail

/// Loads a model directory written by save_checkpoint into a fresh Model and the item map.
template <typename Model>
Model load_checkpoint(const std::string& dir, IdMap* items = nullptr) {
    using T = typename Model::Scalar;
    const nlohmann::json j = read_checkpoint_config(dir);
    const std::string cfg_path = dir + "/config.json";
    IdMap map;
    Model model = model_from_checkpoint_config<Model>(j, cfg_path, &map);
    std::string wpath;
    const std::string bytes = detail::read_listed_file(dir, j, "weights", cfg_path, wpath);
    deserialize_weights<T>(bytes, model, wpath);
    if (items) *items = std::move(map);
    return model;
}

}  // namespace seqrec
