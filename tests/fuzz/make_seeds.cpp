// Writes the fuzzers' seed corpora (one small valid input of each kind, from the library's own
// writers) under the directory given: readers/, config/, checkpoint/, request/, http/.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <seqrec/io/config.hpp>
#include <seqrec/io/train_state_file.hpp>
#include <seqrec/models/sasrec.hpp>
#include <seqrec/models/stosa.hpp>
#include <string>

using namespace seqrec;
namespace fs = std::filesystem;

namespace {
void write(const fs::path& file, const std::string& bytes) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
}
std::string control(unsigned char c) { return std::string(1, char(c)); }
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: fuzz_seeds OUT_DIR\n";
        return 2;
    }
    const fs::path out = argv[1];
    // readers: control byte (format in the low 3 bits, options above), then the file.
    write(out / "readers/lines", control(0) + "1 10 11 12\n2 11 12 13\n3 10 12\n");
    write(out / "readers/lines_kcore", control(0x40 | 0x10) + "1 10 10 11 12\n2 11 12 13\n");
    write(out / "readers/pairs", control(1) + "1 10\n1 11\n2 10\n");
    write(out / "readers/csv_header",
          control(2) + "user_id,item_id,rating,timestamp\n1,10,5,3\n1,11,4,1\n2,10,3,2\n");
    write(out / "readers/csv_named", control(2 | 0x80) + "user,product,time\n1,5,2\n1,6,1\n");
    write(out / "readers/tsv", control(3) + "1\t10\t2.5\n1\t11\t1.5\n");
    write(out / "readers/movielens", control(4) + "1::1193::5::978300760\n1::661::3::978302109\n");
    write(out / "readers/recbole",
          control(5) + "user_id:token\titem_id:token\ttimestamp:float\n1\t10\t1.0\n1\t11\t2.0\n");

    // config: run configs, and a checkpoint's config.json (also a checkpoint seed).
    SASRec<float> sasrec(config_from_json<SASRecConfig>(
        {{"num_items", 5}, {"maxlen", 3}, {"dim", 4}, {"blocks", 1}}, "seed"));
    Rng rng(1);
    sasrec.init(rng);
    const fs::path tmp = fs::temp_directory_path() / "seqrec_fuzz_seed_model";
    IdMap items;
    for (int i = 1; i <= 5; ++i) items.add(10 * i);
    save_checkpoint(tmp.string(), sasrec, items, {{"dataset", "seed"}}, to_json(TrainOptions{}));
    const std::string config = read_file((tmp / "config.json").string());
    fs::remove_all(tmp);
    write(out / "config/checkpoint.json", config);
    write(out / "config/run.json",
          R"({"recipe": "mqsa-ted", "config": {"dim": 16, "maxlen": 20}, "train": {"lr": 0.01}})");
    write(out / "config/stosa.json",
          R"({"model": "stosa", "config": {"layers": 2, "pvn_weight": 0.1}})");
    write(out / "checkpoint/config", control(0) + config);
    write(out / "checkpoint/weights", control(1) + serialize_weights<float>(sasrec));
    TrainState<float> state;
    state.epoch = 2;
    state.params = sasrec.params().values();
    state.adam.step = 4;
    state.adam.m = state.params;
    state.adam.v = state.params.cwiseAbs();
    state.stopping.best_epoch = 1;
    state.best_valid.values = {{"NDCG@10", 0.5}};
    write(out / "checkpoint/train_state", control(2) + serialize_train_state(state));

    // request bodies: single and batch, ids known (multiples of 3) and unknown.
    write(out / "request/single", R"({"history": [3, 6, 9], "k": 5})");
    write(
        out / "request/options",
        R"({"history": [3, 4, 6], "k": 3, "exclude": [12], "candidates": [15, 18, 21, 99], "exclude_history": false, "max_history": 2})");
    write(out / "request/batch",
          R"({"requests": [{"history": [3]}, {"history": [60, 57], "k": 2}]})");
    // HTTP requests (first byte: where the fuzzer splits the input in two arrivals).
    write(out / "http/sized",
          "\x10POST /recommend HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\n{\"history\":[]}");
    write(out / "http/chunked",
          "\x30POST /recommend HTTP/1.1\r\nTransfer-Encoding: "
          "chunked\r\n\r\n4;x=1\r\n{\"a\"\r\n1\r\n}"
          "\r\n0\r\nT: 1\r\n\r\nGET /health HTTP/1.1\r\n\r\n");
    write(out / "http/pipelined",
          "\x05GET /health HTTP/1.1\r\n\r\nGET /model HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    std::cout << "seeds written under " << out.string() << "\n";
    return 0;
}
