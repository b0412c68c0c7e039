/// \file io/config.hpp
/// One JSON schema for a run, shared by `--config` files and model directories:
///   {"model": KIND, "config": {model fields}, "train": {training fields}}
/// A checkpoint's config.json carries the same three keys (plus its own), so a saved model's
/// config.json can be fed back as `--config`. Fields are checked against the defaults' keys and
/// JSON types; errors name the file and the JSON pointer ("run.json: /config/dim must be ...").
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "seqrec/core/error.hpp"
#include "seqrec/core/json_fields.hpp"
#include "seqrec/train/trainer.hpp"

namespace seqrec {

/// A model config from JSON, strictly: unknown keys and wrong types are errors naming `where`;
/// missing keys take the defaults; `Config::check` messages are prefixed with `where`.
template <typename Config>
Config config_from_json(const nlohmann::json& j, const std::string& where) {
    nlohmann::json full = Config{}.to_json();
    check_json_fields(j, full, where);
    full.update(j);
    try {
        return Config::from_json(full);
    } catch (const ConfigError& e) {
        throw ConfigError(where + ": " + e.what());
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(where + ": " + e.what());
    }
}

inline nlohmann::json to_json(const TrainOptions& t) {
    const char* window = t.graph.window < 0 ? "truncated" : "full";
    return {{"epochs", t.epochs},
            {"batch", t.batch},
            {"loss", to_string(t.loss)},
            {"negatives", t.negatives},
            {"sampler", to_string(t.sampler)},
            {"lr", t.adam.lr},
            {"beta1", t.adam.beta1},
            {"beta2", t.adam.beta2},
            {"eps", t.adam.eps},
            {"weight_decay", t.adam.weight_decay},
            {"l2_emb", t.adam.l2_emb},
            {"lazy_adam", t.adam.lazy},
            {"seed", t.seed},
            {"patience", t.patience},
            {"metric", t.metric},
            {"eval_every", t.eval_every},
            {"eval", t.eval.sampled ? "sampled" : "full"},
            {"eval_negatives", t.eval.negatives},
            {"eval_seed", t.eval.seed},
            {"max_eval_users", t.eval.max_users},
            {"chunks", t.chunks},
            {"distill", t.distill},
            {"tau", t.kd.tau},
            {"lambda_kd", t.kd.lambda},
            {"graph", t.graph.symmetric ? "cooccurrence" : "transition"},
            {"graph_window", window},
            {"time_span", t.graph.time_span}};
}

/// Training options from JSON over `base` (only the keys given change); checked.
inline TrainOptions train_options_from_json(const nlohmann::json& j, TrainOptions base,
                                            const std::string& where) {
    check_json_fields(j, to_json(base), where);
    auto get = [&](const char* key, auto& field) {
        if (j.contains(key)) field = j[key].get<std::decay_t<decltype(field)>>();
    };
    auto choice = [&](const char* key, const char* a, const char* b, bool& is_b) {
        if (!j.contains(key)) return;
        const std::string v = j[key].get<std::string>();
        if (v != a && v != b)
            throw ConfigError(where + "/" + key + " must be \"" + a + "\" or \"" + b +
                              "\", got \"" + v + "\"");
        is_b = v == b;
    };
    TrainOptions t = std::move(base);
    try {
        get("epochs", t.epochs);
        get("batch", t.batch);
        if (j.contains("loss")) t.loss = parse_loss(j["loss"].get<std::string>());
        get("negatives", t.negatives);
        if (j.contains("sampler"))
            t.sampler = parse_negative_sampler(j["sampler"].get<std::string>());
        get("lr", t.adam.lr);
        get("beta1", t.adam.beta1);
        get("beta2", t.adam.beta2);
        get("eps", t.adam.eps);
        get("weight_decay", t.adam.weight_decay);
        get("l2_emb", t.adam.l2_emb);
        get("lazy_adam", t.adam.lazy);
        get("seed", t.seed);
        get("patience", t.patience);
        get("metric", t.metric);
        get("eval_every", t.eval_every);
        choice("eval", "full", "sampled", t.eval.sampled);
        get("eval_negatives", t.eval.negatives);
        get("eval_seed", t.eval.seed);
        get("max_eval_users", t.eval.max_users);
        get("chunks", t.chunks);
        get("distill", t.distill);
        get("tau", t.kd.tau);
        get("lambda_kd", t.kd.lambda);
        choice("graph", "transition", "cooccurrence", t.graph.symmetric);
        bool full = t.graph.window >= 0;
        choice("graph_window", "truncated", "full", full);
        t.graph.window = full ? 0 : -1;
        get("time_span", t.graph.time_span);
        t.check();
        SEQREC_CHECK(t.kd.tau > 0.0 && t.kd.lambda >= 0.0 && t.graph.time_span >= 1, ConfigError,
                     "tau must be > 0, lambda_kd >= 0, time_span >= 1");
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        throw ConfigError(what.rfind(where, 0) == 0 ? what : where + ": " + what);
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(where + ": " + e.what());
    }
    return t;
}

/// A run: which model kind, its config (JSON, checked by the model's factory) and training.
struct RunConfig {
    std::string kind = "sasrec";
    nlohmann::json model = nlohmann::json::object();
    TrainOptions train;

    nlohmann::json to_json() const {
        return {{"model", kind}, {"config", model}, {"train", seqrec::to_json(train)}};
    }
};

/// Overlays a run file's JSON ({"model", "config", "train"}; a model directory's config.json
/// also has format, meta, item_ids and weights, which are ignored) onto `base`. A different
/// "model" kind replaces the base model config instead of merging into it.
inline RunConfig overlay_run_config(const nlohmann::json& j, RunConfig base,
                                    const std::string& where) {
    if (!j.is_object()) throw ConfigError(where + ": expected a JSON object");
    static const char* known[] = {"model",          "config",         "train",      "format",
                                  "format_version", "seqrec_version", "meta",       "item_ids",
                                  "weights",        "recipe",         "train_state"};
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool ok = false;
        for (const char* k : known) ok = ok || it.key() == k;
        if (!ok)
            throw ConfigError(where + ": unknown key \"" + it.key() +
                              "\" (a run config has \"model\", \"config\" and \"train\")");
    }
    if (j.contains("model")) {
        if (!j["model"].is_string()) throw ConfigError(where + "/model must be a string");
        const std::string kind = j["model"].get<std::string>();
        if (kind != base.kind) base.model = nlohmann::json::object();
        base.kind = kind;
    }
    if (j.contains("config")) {
        if (!j["config"].is_object()) throw ConfigError(where + "/config must be an object");
        base.model.update(j["config"]);
        base.model.erase("variant");  // derived; written by checkpoints for readers
    }
    if (j.contains("train"))
        base.train = train_options_from_json(j["train"], std::move(base.train), where + ": /train");
    return base;
}

}  // namespace seqrec
