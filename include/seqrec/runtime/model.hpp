/// \file runtime/model.hpp
/// The runtime boundary: a model chosen by name or read from a directory, behind one small
/// virtual interface. Each call does a whole fit, evaluation or batch of requests, so the virtual
/// dispatch costs nothing measurable; the templated models underneath stay fully inlined.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "seqrec/data/id_map.hpp"
#include "seqrec/data/split.hpp"
#include "seqrec/eval/evaluator.hpp"
#include "seqrec/serve/recommender.hpp"
#include "seqrec/train/trainer.hpp"

namespace seqrec {

/// One attention matrix of a model over a window (Model::attention): L x L, row t = the
/// weights position t gives to positions 0..t; `refined` = AWRSR's R (empty when none).
struct AttentionMap {
    Index tower = 0, layer = 0, head = 0;
    Matrix<double> weights, refined;
};

class Model {
public:
    virtual ~Model() = default;

    virtual const char* kind() const = 0;       ///< registry key: "sasrec", "stosa", ...
    virtual std::string variant() const = 0;    ///< e.g. "mqsa+awr-simple"
    virtual nlohmann::json config() const = 0;  ///< accepted back by make_model(kind(), ...)
    virtual Index num_items() const = 0;
    virtual Index maxlen() const = 0;
    virtual Index num_parameters() const = 0;
    /// The loss this model family trains with unless told otherwise.
    virtual LossKind default_loss() const = 0;

    /// Fresh weights from `seed` (the model's own initialisation rule).
    virtual void init(std::uint64_t seed) = 0;
    /// Throws ConfigError when `opt` cannot train this model (e.g. CE on STOSA).
    virtual void check_training(const TrainOptions& opt) const = 0;
    /// Trains with early stopping; the model ends with the best validation weights. `state`
    /// (optional) resumes a run that has completed epochs and is kept current after each epoch
    /// (train/trainer.hpp), for save() to write.
    virtual TrainResult fit(const Split& split, const TrainOptions& opt,
                            const TrainHooks& hooks = {}, TrainState<float>* state = nullptr) = 0;
    /// Validation (test = false) or test metrics; const and thread-safe. With a `group`, a
    /// collective: every process calls it and scores its share (eval/evaluator.hpp).
    virtual Metrics evaluate(const Split& split, bool test, const EvalOptions& opt,
                             ProcessGroup* group = nullptr) const = 0;
    /// Scratch for `answer`, sized for full windows: one per concurrent caller.
    virtual std::unique_ptr<ServeWorkspace> make_serve_workspace() const = 0;
    /// Answers requests[0, count) into out[0, count) on the calling thread (serve/recommender.hpp),
    /// `items` mapping external ids; `ws` must come from this model's make_serve_workspace.
    virtual void answer(const IdMap& items, const RecommendRequest* requests, std::size_t count,
                        RecommendResponse* out, ServeWorkspace& ws) const = 0;
    /// Attention matrices over the window of `history` (internal ids), every tower, layer and
    /// head; ConfigError for a kind without attention maps.
    virtual std::vector<AttentionMap> attention(const std::vector<ItemId>& history) const = 0;
    /// Writes a model directory (see io/checkpoint.hpp); `meta` is kept as given; `train` (the
    /// training options as JSON, io/config.hpp) makes its config.json a runnable `--config`.
    /// With `state`, the directory also holds it (for `train --resume`) and its weights are the
    /// state's best so far rather than the model's current ones.
    virtual void save(const std::string& dir, const IdMap& items,
                      const nlohmann::json& meta = nlohmann::json::object(),
                      const nlohmann::json& train = nullptr,
                      const TrainState<float>* state = nullptr) const = 0;
};

}  // namespace seqrec
