// The training log (`seqrec train --log`): one JSON line per epoch, flushed as it goes, with the
// metrics only for validated epochs; a path that cannot be written fails before training.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <seqrec/io/training_log.hpp>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

using namespace seqrec;
using seqrec::test::TempDir;

TEST_CASE("training log: one JSON line per epoch, metrics only when validated") {
    TempDir dir("training_log");
    std::filesystem::create_directories(dir.path);
    const std::string path = dir.path + "/run.jsonl";
    EpochLog a;
    a.epoch = 1;
    a.loss = 0.75;
    a.grad_norm = 1.5;
    a.train_seconds = 2.0;
    a.seconds = 2.5;
    EpochLog b = a;
    b.epoch = 2;
    b.loss = 0.5;
    b.validated = true;
    b.valid.values.push_back({"NDCG@10", 0.25});
    b.valid.users = 7;
    b.valid_metric = 0.25;
    b.best = true;
    {
        EpochLogWriter log(path);
        log.write(a);
        std::ifstream mid(path);  // flushed: readable while the run goes on
        std::string first;
        CHECK(std::getline(mid, first));
        log.write(b);
    }
    std::ifstream in(path);
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["epoch"] == 1);
    CHECK(lines[0]["loss"] == 0.75);
    CHECK(lines[0]["grad_norm"] == 1.5);
    CHECK(lines[0]["seconds"] == 2.5);
    CHECK_FALSE(lines[0].contains("valid"));
    CHECK(lines[1]["epoch"] == 2);
    CHECK(lines[1]["valid"]["NDCG@10"] == 0.25);
    CHECK(lines[1]["valid"]["users"] == 7);
    CHECK(lines[1]["best"] == true);
    CHECK(lines[1]["stopping"] == false);
    CHECK_THROWS_AS(EpochLogWriter(dir.path + "/no/such/dir/run.jsonl"), IoError);
}
