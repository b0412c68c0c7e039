// Checkpoints: identical predictions after a round trip; clear errors on corrupt or mismatched
// files; atomic writes leave nothing half-written.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <seqrec/io/checkpoint.hpp>
#include <seqrec/models/sasrec.hpp>
#include <seqrec/models/stosa.hpp>

#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace seqrec;
namespace fs = std::filesystem;

using seqrec::test::TempDir;

namespace {

SASRec<float> trained_like_model() {
    SASRec<float> m(test::make_config<SASRecConfig>(
        {{"num_items", 20}, {"maxlen", 8}, {"dim", 8}, {"heads", 2}}));
    Rng rng(5);
    m.init(rng);
    return m;
}

IdMap item_map(int n) {
    IdMap items;
    for (int i = 1; i <= n; ++i) items.add(1000 + 7 * i);
    return items;
}

/// The weights file config.json names.
std::string weights_path(const std::string& dir) {
    const auto j = nlohmann::json::parse(read_file(dir + "/config.json"));
    return dir + "/" + j["weights"]["file"].get<std::string>();
}

std::string what_of(const std::string& dir) {
    try {
        load_checkpoint<SASRec<float>>(dir);
    } catch (const IoError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("checkpoint round trip gives identical predictions and item map") {
    TempDir dir("ckpt_roundtrip");
    auto model = trained_like_model();
    save_checkpoint(dir.path, model, item_map(20), {{"note", "test"}});
    for (const auto& e : fs::directory_iterator(dir.path))  // config + one weights file, no .tmp
        CHECK((e.path().filename() == "config.json" || e.path() == weights_path(dir.path)));
    IdMap loaded_items;
    auto loaded = load_checkpoint<SASRec<float>>(dir.path, &loaded_items);
    CHECK(loaded_items.externals() == item_map(20).externals());
    SASRec<float>::Cache c1, c2;
    Vector<float> a, b;
    model.score_next({3, 1, 4, 1, 5}, a, c1);
    loaded.score_next({3, 1, 4, 1, 5}, b, c2);
    CHECK(a == b);
}

TEST_CASE("corrupt or mismatched checkpoints are refused with a clear message") {
    TempDir dir("ckpt_corrupt");
    auto model = trained_like_model();
    save_checkpoint(dir.path, model, item_map(20));
    const std::string weights = weights_path(dir.path);
    const std::string good = read_file(weights);

    {  // one flipped byte
        std::string bad = good;
        bad[bad.size() / 2] ^= 0x5A;
        std::ofstream(weights, std::ios::binary) << bad;
        CHECK(what_of(dir.path).find("checksum does not match") != std::string::npos);
    }
    {  // truncated
        std::ofstream(weights, std::ios::binary) << good.substr(0, good.size() / 3);
        CHECK(what_of(dir.path).find(weights) != std::string::npos);
    }
    std::ofstream(weights, std::ios::binary) << good;
    {  // config that does not parse
        std::ofstream(dir.path + "/config.json") << "{ not json";
        CHECK(what_of(dir.path).find("config.json: not valid JSON") != std::string::npos);
    }
    {  // a different shape than the weights hold (checksum of the real weights kept)
        auto other = trained_like_model();
        save_checkpoint(dir.path, other, item_map(20));
        auto cfg = nlohmann::json::parse(read_file(dir.path + "/config.json"));
        cfg["config"]["dim"] = 4;
        cfg["config"]["heads"] = 1;
        std::ofstream(dir.path + "/config.json") << cfg.dump();
        CHECK(what_of(dir.path).find("does not match model tensor") != std::string::npos);
    }
    CHECK(what_of(dir.path + "/missing").find("cannot open") != std::string::npos);
}

TEST_CASE("a config.json that does not describe its model is named in our words") {
    TempDir dir("ckpt_fields");
    save_checkpoint(dir.path, trained_like_model(), item_map(20));
    const std::string path = dir.path + "/config.json";
    const auto good = nlohmann::json::parse(read_file(path));
    auto edit = [&](auto change) {
        auto j = good;
        change(j);
        std::ofstream(path) << j.dump();
    };
    auto stosa_what = [&] {
        try {
            load_checkpoint<Stosa<float>>(dir.path);
        } catch (const IoError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    edit([](nlohmann::json& j) { j["model"] = "stosa"; });  // SASRec fields under a STOSA label
    CHECK(stosa_what().find("config.json: /config of a 'stosa' model: unknown key \"abs_pos\"") !=
          std::string::npos);
    edit([](nlohmann::json& j) { j["config"].erase("dim"); });
    CHECK(what_of(dir.path).find("config.json: /config: missing key \"dim\"") != std::string::npos);
    edit([](nlohmann::json& j) { j["config"]["dim"] = "8"; });
    CHECK(what_of(dir.path).find(
              "/config of a 'sasrec' model/dim must be an integer, got a string") !=
          std::string::npos);
    edit([](nlohmann::json& j) { j["config"]["variant"] = "mqsa"; });
    CHECK(what_of(dir.path).find("/config/variant is \"mqsa\" but the other fields describe "
                                 "\"sasrec\"") != std::string::npos);
    edit([](nlohmann::json& j) { j["item_ids"][3] = "x"; });
    CHECK(what_of(dir.path).find("\"item_ids\" must hold positive integers, got \"x\"") !=
          std::string::npos);
    edit([](nlohmann::json& j) { j["item_ids"][3] = j["item_ids"][2]; });
    CHECK(what_of(dir.path).find("\"item_ids\" lists item 1021 twice") != std::string::npos);
    edit([](nlohmann::json& j) { j["item_ids"].erase(0); });
    CHECK(what_of(dir.path).find("\"item_ids\" must list the 20 item ids") != std::string::npos);
    edit([](nlohmann::json& j) { j["format_version"] = "1"; });
    CHECK(what_of(dir.path).find("format_version \"1\" is not supported") != std::string::npos);
    edit([](nlohmann::json& j) { j["model"] = 7; });
    CHECK(what_of(dir.path).find("\"model\" must be a string") != std::string::npos);
    edit([](nlohmann::json& j) { j["config"].erase("heads"); });  // not the JSON library's words
    CHECK(what_of(dir.path).find("json.exception") == std::string::npos);
    CHECK(what_of(dir.path).find("missing key \"heads\"") != std::string::npos);
    edit([](nlohmann::json&) {});
    CHECK(what_of(dir.path).empty());
}

TEST_CASE("a save stopped at any step leaves the old model or the new one, never a mix") {
    TempDir dir("ckpt_interrupted");
    auto old_model = trained_like_model();
    SASRec<float> new_model(old_model.config);
    Rng rng(77);
    new_model.init(rng);
    const std::vector<ItemId> h = {3, 1, 4, 1, 5};
    SASRec<float>::Cache c;
    Vector<float> old_scores, new_scores, got;
    old_model.score_next(h, old_scores, c);
    new_model.score_next(h, new_scores, c);
    REQUIRE(old_scores != new_scores);
    struct Stop : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    for (const SaveStep at :
         {SaveStep::weights_written, SaveStep::config_written, SaveStep::old_weights_removed}) {
        INFO("stopped after step " << int(at));
        save_checkpoint(dir.path, old_model, item_map(20));
        CHECK_THROWS_AS(save_checkpoint(dir.path, new_model, item_map(20), {}, nullptr,
                                        [&](SaveStep s) {
                                            if (s == at) throw Stop("crash");
                                        }),
                        Stop);
        load_checkpoint<SASRec<float>>(dir.path).score_next(h, got, c);
        CHECK(got == (at == SaveStep::weights_written ? old_scores : new_scores));
    }
    // The config write itself fails (here: its temporary cannot be created): the old model.
    save_checkpoint(dir.path, old_model, item_map(20));
    fs::create_directories(dir.path + "/config.json.tmp");
    CHECK_THROWS_AS(save_checkpoint(dir.path, new_model, item_map(20)), IoError);
    load_checkpoint<SASRec<float>>(dir.path).score_next(h, got, c);
    CHECK(got == old_scores);
    fs::remove_all(dir.path + "/config.json.tmp");
    // The next good save removes every stale weights file.
    save_checkpoint(dir.path, new_model, item_map(20));
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file() ? 1 : 0;
    CHECK(files == 2);
    // A config naming a path outside the directory is refused.
    auto cfg = nlohmann::json::parse(read_file(dir.path + "/config.json"));
    cfg["weights"]["file"] = "../elsewhere.bin";
    std::ofstream(dir.path + "/config.json") << cfg.dump();
    CHECK(what_of(dir.path).find("must name a file in the model directory") != std::string::npos);
}

TEST_CASE("check_writable_directory creates the directory and refuses one it cannot write") {
    TempDir dir("ckpt_writable");
    check_writable_directory(dir.path + "/a/b");
    CHECK(fs::is_directory(dir.path + "/a/b"));
    CHECK(fs::is_empty(dir.path + "/a/b"));  // the probe is gone
    std::ofstream(dir.path + "/file") << "x";
    CHECK_THROWS_WITH_AS(check_writable_directory(dir.path + "/file/model"),
                         doctest::Contains("cannot create directory"), IoError);
}

TEST_CASE("atomic write: a failing writer leaves the old file untouched") {
    TempDir dir("atomic");
    fs::create_directories(dir.path);
    const std::string path = dir.path + "/out.txt";
    write_file_atomically(path, [](std::ostream& o) { o << "old"; });
    CHECK_THROWS_AS(write_file_atomically(path,
                                          [](std::ostream& o) {
                                              o << "half";
                                              throw IoError("disk on fire");
                                          }),
                    IoError);
    CHECK(read_file(path) == "old");
    CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("every model kind and variant round-trips: STOSA + M4, MQSA, RPESA + AWRSR") {
    TempDir dir("ckpt_variants");
    StosaConfig sc;
    sc.num_items = 15;
    sc.maxlen = 6;
    sc.dim = 8;
    sc.heads = 2;
    sc.refine = Refinement::stochastic;
    sc.mean_passthrough = true;
    Stosa<float> stosa(sc);
    Rng rng(3);
    stosa.init(rng);
    save_checkpoint(dir.path, stosa, item_map(15));
    CHECK_THROWS_WITH_AS(load_checkpoint<SASRec<float>>(dir.path),
                         doctest::Contains("model is 'stosa', expected 'sasrec'"), IoError);
    auto loaded = load_checkpoint<Stosa<float>>(dir.path);
    CHECK(loaded.config.refine == Refinement::stochastic);
    CHECK(loaded.config.mean_passthrough);
    Stosa<float>::Cache c;
    Vector<float> a, b;
    stosa.score_next({1, 2, 3, 9}, a, c);
    loaded.score_next({1, 2, 3, 9}, b, c);
    CHECK(a == b);

    SASRec<float> m(test::make_config<SASRecConfig>({{"num_items", 15},
                                                     {"maxlen", 6},
                                                     {"dim", 8},
                                                     {"multi_query", true},
                                                     {"max_rel", 3},
                                                     {"refine", "value"}}));
    m.init(rng);
    save_checkpoint(dir.path, m, item_map(15));
    auto lm = load_checkpoint<SASRec<float>>(dir.path);
    CHECK(lm.config.variant() == "mqsa+rpesa+awr-value");
    SASRec<float>::Cache c2;
    m.score_next({4, 5, 6}, a, c2);
    lm.score_next({4, 5, 6}, b, c2);
    CHECK(a == b);
}
