// Reproduction tables on the real datasets (full ranking, history excluded):
//   bench_reproduce --data-dir DIR [--datasets Beauty,Toys_and_Games] [--models LIST]
//                   [--epochs 30] [--patience 10] [--threads N] [--seed 2023]
// DIR defaults to $SEQREC_DATA_DIR; without data the program says so and exits 0.
// Models (default: all): sasrec-ce, mqsa, mqsa-ted, rpesa, rpesa-cad.
// Recipe (MODELS.md §10, MQSA-TED's): d 64, n 50, dropout 0.5, lr 1e-3, batch 256, L2 1e-4 on all
// parameters, tau 0.1, lambda 0.1, full-softmax CE; SASRec and RPESA 2 blocks, MQSA 1 block per
// tower (2 in all); L 3, alpha 0.5. Every model gets the same epoch budget and is selected on
// validation NDCG@20 (MQSA-TED's protocol), then tested once.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <seqrec/seqrec.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/args.hpp"
#include "support/guarded_main.hpp"
#include "support/timer.hpp"

using namespace seqrec;
using seqrec::bench::Args;
using seqrec::bench::split_list;

namespace {
int run_benchmark(int argc, char** argv) {
    Args args(argc, argv,
              "bench_reproduce --data-dir DIR [--datasets Beauty,Toys_and_Games] "
              "[--models sasrec-ce,mqsa,mqsa-ted,rpesa,rpesa-cad] [--epochs 30] [--patience 10] "
              "[--threads N] [--seed 2023]");
    std::string dir = args.text("data-dir", "");
    const std::string datasets = args.text("datasets", "Beauty"),
                      models = args.text("models", "sasrec-ce,mqsa,mqsa-ted,rpesa,rpesa-cad");
    const long epochs = args.integer("epochs", 30), patience = args.integer("patience", 10),
               threads = args.integer("threads", 0), seed = args.integer("seed", 2023);
    args.finish();
    if (dir.empty() && std::getenv("SEQREC_DATA_DIR")) dir = std::getenv("SEQREC_DATA_DIR");
    if (dir.empty()) {
        std::printf(
            "skipped: pass --data-dir or set SEQREC_DATA_DIR to the folder of Beauty.txt\n");
        return 0;
    }
    set_threads(int(threads));
    std::printf(
        "| dataset | model | HR@5 | HR@10 | HR@20 | NDCG@5 | NDCG@10 | NDCG@20 | best epoch "
        "| epochs | s/epoch | faults/epoch |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    std::fflush(stdout);
    for (const auto& name : split_list(datasets)) {
        const std::string path = dir + "/" + name + ".txt";
        if (!std::ifstream(path)) {
            std::printf("| %s | skipped: %s not found |\n", name.c_str(), path.c_str());
            continue;
        }
        const Dataset ds = read_dataset(path, DataFormat::lines);
        const Split split = leave_one_out(ds);
        for (const auto& m : split_list(models)) {
            SASRecConfig cfg;
            cfg.num_items = ds.num_items();
            cfg.maxlen = 50;
            cfg.dim = 64;
            cfg.blocks = 2;
            cfg.heads = 1;
            cfg.dropout = 0.5;
            TrainOptions t;
            t.epochs = epochs;
            t.patience = patience;
            t.batch = 256;
            t.loss = LossKind::ce;
            t.adam.beta2 = 0.999;  // MQSA-TED's Adam
            t.adam.weight_decay = 1e-4;
            t.metric = "NDCG@20";
            t.seed = std::uint64_t(seed);
            t.verbose = std::getenv("SEQREC_VERBOSE") != nullptr;
            t.graph.window = cfg.maxlen;
            if (m == "mqsa" || m == "mqsa-ted") {
                cfg.multi_query = true;
                cfg.blocks = 1;
            } else if (m == "rpesa" || m == "rpesa-cad") {
                cfg.max_rel = cfg.maxlen - 1;
            } else if (m != "sasrec-ce") {
                std::fprintf(stderr, "unknown model %s\n", m.c_str());
                return 2;
            }
            t.distill = m == "mqsa-ted" || m == "rpesa-cad";
            SASRec<float> model(cfg);
            Rng init({std::uint64_t(seed), 0x1A17});
            model.init(init);
            const long faults0 = bench::minor_faults();
            const TrainResult r = Trainer<SASRec<float>>(t).fit(model, split);
            const double faults = double(bench::minor_faults() - faults0);
            const Metrics test = evaluate(model, split, true);
            double train_s = 0;
            for (const auto& e : r.log) train_s += e.seconds;
            std::printf(
                "| %s | %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %ld | %ld | %.1f | %.0f |\n",
                name.c_str(), m.c_str(), test.get("HR@5"), test.get("HR@10"), test.get("HR@20"),
                test.get("NDCG@5"), test.get("NDCG@10"), test.get("NDCG@20"), long(r.best_epoch),
                long(r.epochs_run), train_s / double(std::max<Index>(1, r.epochs_run)),
                faults / double(std::max<Index>(1, r.epochs_run)));
            std::fflush(stdout);
        }
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    return seqrec::bench::guarded_main([&] { return run_benchmark(argc, argv); });
}
