/// \file runtime/model_adapter.hpp
/// Puts a templated model (SASRec<T>, Stosa<T>, or a user's own type with the same members)
/// behind the runtime `Model` interface.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "seqrec/io/checkpoint.hpp"
#include "seqrec/io/config.hpp"
#include "seqrec/io/train_state_file.hpp"
#include "seqrec/runtime/model.hpp"

namespace seqrec {

namespace detail {
/// Accepts any call: detects whether a model has attention_maps (a lambda cannot appear in
/// decltype before C++20).
struct AnyVisitor {
    template <typename... A>
    void operator()(A&&...) const {}
};
}  // namespace detail

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
    TrainResult fit(const Split& split, const TrainOptions& opt, const TrainHooks& hooks,
                    TrainState<float>* state) override {
        check_training(opt);
        return Trainer<M>(opt).fit(model_, split, hooks, float_state(state));
    }
    Metrics evaluate(const Split& split, bool test, const EvalOptions& opt,
                     ProcessGroup* group) const override {
        return seqrec::evaluate(model_, split, test, opt, group);
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
    std::vector<AttentionMap> attention(const std::vector<ItemId>& history) const override {
        return attention_of(model_, history, 0);
    }
    void save(const std::string& dir, const IdMap& items, const nlohmann::json& meta,
              const nlohmann::json& train, const TrainState<float>* state) const override {
        const auto* s = float_state(state);
        if (!s) return save_checkpoint(dir, model_, items, meta, train);
        // Mid-run the model holds the latest weights; the directory serves the best so far.
        M best = model_;
        if (s->best_params.size() > 0) best.params().assign(s->best_params);
        save_checkpoint(dir, best, items, meta, train, {}, serialize_train_state(*s));
    }

    M& get() { return model_; }
    const M& get() const { return model_; }

private:
    template <typename X>
    static auto attention_of(const X& m, const std::vector<ItemId>& history, int)
        -> decltype(m.attention_maps(history, std::declval<typename X::Cache&>(),
                                     detail::AnyVisitor{}),
                    std::vector<AttentionMap>()) {
        typename X::Cache c;
        std::vector<AttentionMap> out;
        m.attention_maps(history, c, [&](Index t, Index l, Index h, const auto& a, const auto* r) {
            AttentionMap map;
            map.tower = t;
            map.layer = l;
            map.head = h;
            map.weights = a.template cast<double>();
            if (r) map.refined = r->template cast<double>();
            out.push_back(std::move(map));
        });
        return out;
    }
    template <typename X>
    static std::vector<AttentionMap> attention_of(const X&, const std::vector<ItemId>&, long) {
        throw ConfigError(std::string("model kind '") + X::kind() + "' has no attention maps");
    }

    /// The runtime boundary's training state is float's (the built-in kinds train in float).
    template <typename S>
    static auto float_state(S* s) {
        using State =
            std::conditional_t<std::is_const<S>::value, const TrainState<typename M::Scalar>,
                               TrainState<typename M::Scalar>>;
        if constexpr (std::is_same<typename M::Scalar, float>::value) {
            return static_cast<State*>(s);
        } else {
            SEQREC_CHECK(!s, ConfigError,
                         std::string("model kind '") + M::kind() +
                             "' trains in double: resuming through the runtime interface is "
                             "float only");
            return static_cast<State*>(nullptr);
        }
    }

    M model_;
};

}  // namespace seqrec
