// libFuzzer target: run configs (`--config` files and a checkpoint's config.json read as one):
// the overlay over a recipe, both model configs and the training options. Only seqrec::Error
// may come out; a JSON library exception escaping is a message not in our words.
#include <cstdint>
#include <seqrec/io/config.hpp>
#include <seqrec/models/sasrec.hpp>
#include <seqrec/models/stosa.hpp>
#include <seqrec/runtime/recipes.hpp>

using namespace seqrec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return 0;  // not JSON: the JSON parser's business
    try {
        RunConfig rc = recipe("sasrec", 50);
        rc = overlay_run_config(j, std::move(rc), "fuzz.json");
        if (rc.kind == "sasrec") (void)config_from_json<SASRecConfig>(rc.model, "fuzz.json");
        if (rc.kind == "stosa") (void)config_from_json<StosaConfig>(rc.model, "fuzz.json");
    } catch (const Error&) {
    }
    for (const char* section : {"config", "train"}) {
        if (!j.is_object() || !j.contains(section)) continue;
        try {
            (void)config_from_json<SASRecConfig>(j[section], "fuzz.json: /config");
        } catch (const Error&) {
        }
        try {
            (void)config_from_json<StosaConfig>(j[section], "fuzz.json: /config");
        } catch (const Error&) {
        }
        try {
            (void)train_options_from_json(j[section], TrainOptions{}, "fuzz.json: /train");
        } catch (const Error&) {
        }
    }
    return 0;
}
