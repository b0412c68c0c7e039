/// \file runtime/model_adapter.hpp
/// Puts a templated model (SASRec<T>, Stosa<T>, or a user's own type with the same members)
/// behind the runtime `Model` interface.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "seqrec/io/checkpoint.hpp"
#include "seqrec/io/config.hpp"
#include "seqrec/runtime/model.hpp"

namespace seqrec {

template <typename M>
class ModelAdapter final : public Model {
public:
    using Config = std::decay_t<decltype(std::declval<M>().config)>;
    explicit ModelAdapter(M model) : model_(std::move(model)) {}

    const char* kind() const override { return M::kind(); }
    std::string variant() const override { return model_.config.variant(); }
    nlohmann::json config() const override { return model_.config.to_json(); }
    Index num_items() const override { return model_.num_items(); }
    Index maxlen() const override { return model_.maxlen(); }
    Index num_parameters() const override { return param_count<typename M::Scalar>(model_); }
    LossKind default_loss() const override { return seqrec::default_loss(model_.config); }
    void init(std::uint64_t seed) override {
        Rng rng({seed, 0x1A17});
        model_.init(rng);
    }
    void check_training(const TrainOptions& opt) const override {
        opt.check();
        check_objective(model_.config, opt.loss, opt.distill);
    }
    TrainResult fit(const Split& split, const TrainOptions& opt, const TrainHooks& hooks) override {
        check_training(opt);
        return Trainer<M>(opt).fit(model_, split, hooks);
    }
    Metrics evaluate(const Split& split, bool test, const EvalOptions& opt) const override {
        return seqrec::evaluate(model_, split, test, opt);
    }
    std::unique_ptr<ServeWorkspace> make_serve_workspace() const override {
        auto ws = std::make_unique<typename Recommender<M>::Workspace>();
        IdMap none;  // reserve reads no ids
        Recommender<M>(model_, none).reserve(*ws);
        return ws;
    }
    void answer(const IdMap& items, const RecommendRequest* requests, std::size_t count,
                RecommendResponse* out, ServeWorkspace& ws) const override {
        auto* own = dynamic_cast<typename Recommender<M>::Workspace*>(&ws);
        SEQREC_CHECK(own != nullptr, ShapeError,
                     "answer: the workspace was made by another kind of model");
        Recommender<M>(model_, items).answer(requests, count, out, *own);
    }
    void save(const std::string& dir, const IdMap& items, const nlohmann::json& meta,
              const nlohmann::json& train) const override {
        save_checkpoint(dir, model_, items, meta, train);
    }

    M& get() { return model_; }
    const M& get() const { return model_; }

private:
    M model_;
};

}  // namespace seqrec
