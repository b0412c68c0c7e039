// The runtime boundary: every recipe builds, trains, saves and reloads through the registry;
// unknown kinds and recipes are errors that list the known names; users can add a kind.
#include <doctest/doctest.h>

#include <seqrec/data/synthetic.hpp>
#include <seqrec/runtime/recipes.hpp>
#include <seqrec/runtime/served_model.hpp>

#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace seqrec;
using seqrec::test::TempDir;

namespace {
const Dataset& small_data() {
    static const Dataset ds = [] {
        SyntheticOptions o;
        o.users = 60;
        o.items = 30;
        o.max_len = 12;
        return synthetic_dataset(o);
    }();
    return ds;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("every recipe builds, trains one epoch, saves and reloads with the same answers") {
    set_threads(1);
    const Dataset& ds = small_data();
    const Split split = leave_one_out(ds);
    for (const auto& info : recipes()) {
        INFO(info.name);
        RunConfig rc = recipe(info.name, ds.num_items());
        rc.model.update({{"maxlen", 8}, {"dim", 8}, {"heads", 2}});
        if (rc.model.contains("max_rel") && rc.model["max_rel"] >= 0) rc.model["max_rel"] = 7;
        rc.train.epochs = 1;
        rc.train.batch = 16;
        auto model = make_model(rc.kind, rc.model);
        CHECK(std::string(model->kind()) == rc.kind);
        CHECK(model->default_loss() == (rc.kind == "stosa" ? LossKind::bpr : LossKind::bce));
        model->init(7);
        const TrainResult r = model->fit(split, rc.train);
        CHECK(r.epochs_run == 1);
        CHECK(r.log.size() == 1);
        const Metrics m = model->evaluate(split, true, rc.train.eval);
        CHECK(m.users > 0);

        TempDir dir(std::string("registry_") + info.name);
        model->save(dir.path, ds.items, {{"recipe", info.name}}, to_json(rc.train));
        IdMap items;
        auto loaded = load_model(dir.path, &items);
        CHECK(loaded->config() == model->config());
        CHECK(loaded->num_parameters() == model->num_parameters());
        CHECK(loaded->evaluate(split, true, rc.train.eval).to_json() == m.to_json());
        std::vector<RecommendRequest> hs(2);
        hs[0].history = {ds.items.external(1)};
        hs[1].history = {ds.items.external(2), ds.items.external(3)};
        for (auto& h : hs) h.k = 5;
        std::vector<RecommendResponse> a(2);
        const auto ws = model->make_serve_workspace();
        model->answer(ds.items, hs.data(), hs.size(), a.data(), *ws);
        // The one handle for every kind answers with the same items and the same score bits.
        const auto served = load_served_model(dir.path);
        CHECK(served->info().kind == rc.kind);
        CHECK(served->info().variant == model->variant());
        CHECK(served->info().num_items == ds.num_items());
        CHECK(served->info().meta == nlohmann::json{{"recipe", info.name}});
        const auto b = served->recommend_many(hs);
        REQUIRE(b.size() == 2);
        for (std::size_t i = 0; i < a.size(); ++i) {
            REQUIRE(a[i].items.size() == b[i].items.size());
            CHECK(a[i].items.size() == 5);
            for (std::size_t j = 0; j < a[i].items.size(); ++j) {
                CHECK(a[i].items[j].item == b[i].items[j].item);
                CHECK(a[i].items[j].score == b[i].items[j].score);
            }
        }
        // The saved config.json is a run config: it gives back the model and the training.
        const RunConfig again =
            overlay_run_config(read_checkpoint_config(dir.path), RunConfig{}, "config.json");
        CHECK(again.kind == rc.kind);
        CHECK(make_model(again.kind, again.model)->config() == model->config());
        CHECK(to_json(again.train) == to_json(rc.train));
    }
}

TEST_CASE("unknown kinds and recipes are errors listing the known names") {
    CHECK(error_of([] { make_model("sasrek", {}); }) ==
          "unknown model kind 'sasrek' (known: sasrec, stosa)");
    CHECK(error_of([] { recipe("bert4rec", 10); }).find("known: sasrec, sasrec-ce, mqsa") !=
          std::string::npos);
    CHECK_THROWS_AS(make_model("sasrec", {{"num_items", 10}, {"dimm", 8}}), ConfigError);
    CHECK(error_of([] {
              make_model("sasrec", {{"num_items", 10}, {"dim", "8"}}, "x.json");
          }) == "x.json/dim must be an integer, got a string");
    CHECK(error_of([] {
              make_model("sasrec", {{"num_items", 10}, {"heads", 3}}, "x.json");
          }) == "x.json: heads = 3 must divide dim = 50");
}

TEST_CASE("a model family rejects an objective it cannot train with") {
    auto stosa = make_model("stosa", {{"num_items", 10}});
    TrainOptions t;
    t.loss = LossKind::ce;
    CHECK(error_of([&] { stosa->check_training(t); }).find("STOSA trains with BPR + pvn") !=
          std::string::npos);
    t.loss = LossKind::bpr;
    t.distill = true;
    CHECK_THROWS_AS(stosa->check_training(t), ConfigError);
    auto sasrec = make_model("sasrec", {{"num_items", 10}});
    CHECK_THROWS_AS(sasrec->check_training(t), ConfigError);  // bpr is STOSA's
    t.loss = LossKind::ce;
    CHECK_NOTHROW(sasrec->check_training(t));
    t.metric = "NDCG@7";
    CHECK(error_of([&] { sasrec->check_training(t); }).find("metric 'NDCG@7' is not one of") == 0);
}

TEST_CASE("users register their own kind") {
    ModelFactory f = model_factory("sasrec");
    f.kind = "my-sasrec";
    f.description = "a user's kind";
    register_model(f);
    auto m = make_model("my-sasrec", {{"num_items", 12}, {"dim", 8}});
    CHECK(m->num_items() == 12);
    bool listed = false;
    for (const auto& g : model_factories()) listed = listed || g.kind == "my-sasrec";
    CHECK(listed);
    CHECK(error_of([] { make_model("nope", {}); }).find("my-sasrec") != std::string::npos);
}

TEST_CASE("attention maps: every tower, layer and head, causal rows summing to 1, AWRSR's R") {
    const std::vector<ItemId> history = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};  // longer than maxlen 8
    struct Case {
        const char* kind;
        nlohmann::json config;
        std::size_t maps;
        bool refined;
    };
    const std::vector<Case> cases = {
        {"sasrec", {{"blocks", 2}, {"heads", 2}}, 4, false},
        {"sasrec", {{"multi_query", true}}, 4, false},  // two towers of 2 blocks
        {"sasrec", {{"refine", "simple"}}, 2, true},
        {"stosa", {{"heads", 2}, {"refine", "stochastic"}}, 2, true},
    };
    for (const Case& c : cases) {
        INFO(c.kind << " " << c.config.dump());
        nlohmann::json cfg = c.config;
        cfg.update({{"num_items", 12}, {"maxlen", 8}, {"dim", 8}});
        auto model = make_model(c.kind, cfg);
        model->init(4);
        const auto maps = model->attention(history);
        REQUIRE(maps.size() == c.maps);
        for (const auto& m : maps) {
            REQUIRE(m.weights.rows() == 8);
            REQUIRE(m.weights.cols() == 8);
            CHECK(m.refined.size() == (c.refined ? 64 : 0));
            for (Index r = 0; r < 8; ++r) {
                CHECK(m.weights.row(r).sum() == doctest::Approx(1.0).epsilon(1e-5));
                for (Index k = r + 1; k < 8; ++k) CHECK(m.weights(r, k) == 0.0);
            }
        }
    }
}
