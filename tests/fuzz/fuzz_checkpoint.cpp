// libFuzzer target: the checkpoint loader's three inputs. First byte 0: config.json (top level,
// then the model and item map for both kinds); 1: a weights file for a small SASRec; 2: a
// training-state file. Only seqrec::Error may come out.
#include <cstdint>
#include <seqrec/io/config.hpp>
#include <seqrec/io/train_state_file.hpp>
#include <seqrec/models/sasrec.hpp>
#include <seqrec/models/stosa.hpp>

using namespace seqrec;

namespace {
/// Sizes a config may ask for here: a larger model is an allocation, not a parsing, question
/// (and the loader then compares it with the weights file, which must match byte for byte).
bool small_enough(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("config") || !j["config"].is_object()) return true;
    for (const auto& [key, v] : j["config"].items())
        if (v.is_number() && (v.get<double>() > 4096 || v.get<double>() < -4096)) return false;
    return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        if (data[0] % 3 == 0) {
            const nlohmann::json j = nlohmann::json::parse(bytes, nullptr, false);
            if (j.is_discarded()) return 0;
            check_checkpoint_config(j, "config.json");
            if (!small_enough(j)) return 0;
            IdMap items;
            try {
                (void)model_from_checkpoint_config<SASRec<float>>(j, "config.json", &items);
            } catch (const Error&) {
            }
            (void)model_from_checkpoint_config<Stosa<float>>(j, "config.json", &items);
        } else if (data[0] % 3 == 1) {
            SASRec<float> m(config_from_json<SASRecConfig>(
                {{"num_items", 5}, {"maxlen", 3}, {"dim", 4}, {"blocks", 1}}, "fuzz"));
            deserialize_weights<float>(bytes, m, "weights.bin");
        } else {
            (void)parse_train_state<float>(bytes, "train-state.bin");
        }
    } catch (const Error&) {
    }
    return 0;
}
