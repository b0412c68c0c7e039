/// \file runtime/registry.hpp
/// Model kinds by name: `make_model("sasrec", config)` builds one, `load_model(dir)` reads a
/// model directory of any registered kind. The built-in kinds (sasrec, stosa) are registered on
/// first use; `register_model` adds a user's own kind (a type with the members ModelAdapter uses).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "seqrec/runtime/model_adapter.hpp"

namespace seqrec {

struct ModelFactory {
    std::string kind;
    std::string description;
    /// The default config as JSON (every key a config may hold, with its type).
    std::function<nlohmann::json()> defaults;
    /// A model from a config (missing keys take defaults), weights not initialised; errors name
    /// `where`.
    std::function<std::unique_ptr<Model>(const nlohmann::json& config, const std::string& where)>
        make;
    /// A model directory written by Model::save; fills `items` when given.
    std::function<std::unique_ptr<Model>(const std::string& dir, IdMap* items)> load;
};

/// The factory of a templated model type M (with M::kind(), a Config with to_json / from_json
/// / check, and the members Trainer, evaluate, Recommender and save_checkpoint use).
template <typename M>
ModelFactory model_factory(std::string description) {
    using Config = typename ModelAdapter<M>::Config;
    ModelFactory f;
    f.kind = M::kind();
    f.description = std::move(description);
    f.defaults = [] { return Config{}.to_json(); };
    f.make = [](const nlohmann::json& config, const std::string& where) -> std::unique_ptr<Model> {
        return std::make_unique<ModelAdapter<M>>(M(config_from_json<Config>(config, where)));
    };
    f.load = [](const std::string& dir, IdMap* items) -> std::unique_ptr<Model> {
        return std::make_unique<ModelAdapter<M>>(load_checkpoint<M>(dir, items));
    };
    return f;
}

// A build of several programs and tests can compile the built-in kinds once instead of in every
// source that trains, evaluates or serves one: define SEQREC_SEPARATE_MODELS for all of them
// and compile SEQREC_DEFINE_MODEL_KIND(SASRec) and (Stosa), each in a source of its own (two
// jobs that run side by side). Trainer, evaluate and Recommender declare their instantiations
// for these kinds extern under the same macro. Without it, everything stays header-only.
#ifdef SEQREC_SEPARATE_MODELS
extern template ModelFactory model_factory<SASRec<float>>(std::string);
extern template ModelFactory model_factory<Stosa<float>>(std::string);
#endif
/// The explicit instantiations that SEQREC_SEPARATE_MODELS leaves to one source per kind.
#define SEQREC_DEFINE_MODEL_KIND(Kind)                                                           \
    namespace seqrec {                                                                           \
    template ModelFactory model_factory<Kind<float>>(std::string);                               \
    template class Trainer<Kind<float>>;                                                         \
    template class Recommender<Kind<float>>;                                                     \
    template const Metrics& evaluate(const Kind<float>&, const Split&, bool, const EvalOptions&, \
                                     EvalWorkspace<Kind<float>>&, ProcessGroup*);                \
    template Metrics evaluate(const Kind<float>&, const Split&, bool, const EvalOptions&,        \
                              ProcessGroup*);                                                    \
    }

namespace detail {
class Registry {
public:
    Registry() {
        factories_.push_back(model_factory<SASRec<float>>(
            "SASRec family: SASRec, MQSA (multi_query), RPESA (max_rel >= 0), AWRSR M1-M3"));
        factories_.push_back(model_factory<Stosa<float>>(
            "STOSA: stochastic embeddings, Wasserstein attention, AWRSR M1-M4"));
    }
    void add(ModelFactory f) {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& g : factories_)
            if (g.kind == f.kind) {
                g = std::move(f);  // re-registering a kind replaces it
                return;
            }
        factories_.push_back(std::move(f));
    }
    /// A copy, so that callers never hold a reference while another thread registers. When
    /// there is none, `why` says so and lists the known kinds.
    std::optional<ModelFactory> find(const std::string& kind, std::string& why) {
        std::lock_guard<std::mutex> lock(mu_);
        std::string known;
        for (const auto& f : factories_) {
            if (f.kind == kind) return f;
            known += (known.empty() ? "" : ", ") + f.kind;
        }
        why = "unknown model kind '" + kind + "' (known: " + known + ")";
        return std::nullopt;
    }
    std::vector<ModelFactory> all() {
        std::lock_guard<std::mutex> lock(mu_);
        return factories_;
    }

private:
    std::mutex mu_;
    std::vector<ModelFactory> factories_;
};
inline Registry& registry() {
    static Registry r;
    return r;
}
}  // namespace detail

/// Adds (or replaces) a model kind.
inline void register_model(ModelFactory factory) { detail::registry().add(std::move(factory)); }

/// Every registered factory, built-ins first.
inline std::vector<ModelFactory> model_factories() { return detail::registry().all(); }

/// The factory of `kind`; ConfigError listing the known kinds when there is none.
inline ModelFactory model_factory(const std::string& kind) {
    std::string why;
    auto f = detail::registry().find(kind, why);
    if (!f) throw ConfigError(why);
    return *f;
}

/// A model of `kind` from its config (JSON, as Model::config() writes it). Weights are not
/// initialised: call init(seed) or load weights. Errors are ConfigError prefixed with `where`.
inline std::unique_ptr<Model> make_model(const std::string& kind, const nlohmann::json& config,
                                         const std::string& where = "config") {
    return model_factory(kind).make(config, where);
}

/// Reads a model directory of any registered kind (its config.json says which).
inline std::unique_ptr<Model> load_model(const std::string& dir, IdMap* items = nullptr) {
    const nlohmann::json j = read_checkpoint_config(dir);
    if (!j["model"].is_string()) throw IoError(dir + "/config.json: \"model\" must be a string");
    const std::string kind = j["model"].get<std::string>();
    std::string why;
    const auto f = detail::registry().find(kind, why);
    if (!f) throw IoError(dir + "/config.json: " + why);
    return f->load(dir, items);
}

}  // namespace seqrec
