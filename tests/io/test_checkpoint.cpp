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
    CHECK_FALSE(fs::exists(dir.path + "/weights.bin.tmp"));
    CHECK_FALSE(fs::exists(dir.path + "/config.json.tmp"));
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
    const std::string weights = dir.path + "/weights.bin";
    const std::string good = read_file(weights);

    {  // one flipped byte
        std::string bad = good;
        bad[bad.size() / 2] ^= 0x5A;
        std::ofstream(weights, std::ios::binary) << bad;
        CHECK(what_of(dir.path).find("checksum does not match") != std::string::npos);
    }
    {  // truncated
        std::ofstream(weights, std::ios::binary) << good.substr(0, good.size() / 3);
        CHECK(what_of(dir.path).find("weights.bin") != std::string::npos);
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
