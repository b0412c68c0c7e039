/// \file runtime/recipes.hpp
/// Named recipes: a model kind, its config and its training options, holding each paper's
/// defaults once (MODELS.md §10). The CLI, the benchmarks and users start from a recipe and
/// override fields.
#pragma once

#include <string>
#include <vector>

#include "seqrec/io/config.hpp"
#include "seqrec/runtime/registry.hpp"

namespace seqrec {

struct RecipeInfo {
    const char* name;
    const char* description;
};

/// Every recipe, in the order `--help` lists them.
inline const std::vector<RecipeInfo>& recipes() {
    static const std::vector<RecipeInfo> list = {
        {"sasrec", "SASRec, BCE with one sampled negative (d 50, n 50, 2 blocks, dropout 0.2)"},
        {"sasrec-ce", "SASRec with full-softmax CE in MQSA-TED's setting (d 64, dropout 0.5)"},
        {"mqsa", "MQSA: short (L = 1) and long (L = 3) towers mixed with alpha 0.5, CE"},
        {"mqsa-ted", "MQSA + transition-aware embedding distillation (tau 0.1, lambda 0.1)"},
        {"rpesa", "RPESA: relative positions in keys and values (k_max = n - 1), CE"},
        {"rpesa-cad", "RPESA + collaborative-aware distillation (tau 0.1, lambda 0.1)"},
        {"stosa", "STOSA, Beauty README setting (d 64, n 100, 1 layer, 4 heads), BPR + pvn"},
        {"stosa-released", "STOSA as the released code runs it (mean stream passed through)"},
    };
    return list;
}

/// The recipe `name` for a catalogue of `num_items` items; ConfigError listing the names.
inline RunConfig recipe(const std::string& name, Index num_items) {
    RunConfig rc;
    nlohmann::json model = nlohmann::json::object(), train = nlohmann::json::object();
    // MQSA-TED's common setting, shared by its baselines (MODELS.md §10): d 64, dropout 0.5,
    // batch 256, Adam beta2 0.999 with L2 1e-4, full-softmax CE, selection on NDCG@20.
    const nlohmann::json mqsa_model = {{"dim", 64}, {"dropout", 0.5}};
    const nlohmann::json mqsa_train = {
        {"loss", "ce"},        {"batch", 256}, {"beta2", 0.999},   {"weight_decay", 1e-4},
        {"metric", "NDCG@20"}, {"tau", 0.1},   {"lambda_kd", 0.1}, {"graph_window", "truncated"}};
    if (name == "sasrec") {
        train = {{"loss", "bce"}, {"batch", 128}, {"beta2", 0.98}};
    } else if (name == "sasrec-ce" || name == "rpesa" || name == "rpesa-cad" || name == "mqsa" ||
               name == "mqsa-ted") {
        model = mqsa_model;
        train = mqsa_train;
        if (name == "mqsa" || name == "mqsa-ted") {
            model["multi_query"] = true;
            model["blocks"] = 1;  // one block per tower
            model["query_window"] = 3;
            model["alpha"] = 0.5;
        }
        if (name == "rpesa" || name == "rpesa-cad") {
            model["attention"] = "relative";
            model["max_rel"] = 50 - 1;  // k_max = n - 1
        }
        train["distill"] = name == "mqsa-ted" || name == "rpesa-cad";
    } else if (name == "stosa" || name == "stosa-released") {
        rc.kind = "stosa";
        model = {{"mean_passthrough", name == "stosa-released"}};
        train = {{"loss", "bpr"},   {"batch", 256},  {"beta2", 0.999},
                 {"metric", "MRR"}, {"epochs", 500}, {"patience", 100}};
    } else {
        std::string known;
        for (const auto& r : recipes()) known += (known.empty() ? "" : ", ") + std::string(r.name);
        throw ConfigError("unknown recipe '" + name + "' (known: " + known + ")");
    }
    rc.model = model_factory(rc.kind).defaults();
    rc.model.update(model);
    rc.model["num_items"] = num_items;
    rc.model.erase("variant");
    rc.train = train_options_from_json(train, TrainOptions{}, std::string("recipe ") + name);
    return rc;
}

}  // namespace seqrec
