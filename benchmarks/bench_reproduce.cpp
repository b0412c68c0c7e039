// Reproduction tables on the real datasets (full ranking, history excluded):
//   bench_reproduce --data-dir DIR [--datasets Beauty,Toys_and_Games] [--models LIST]
//                   [--epochs 30] [--patience 10] [--threads N] [--seed 2023]
// DIR defaults to $SEQREC_DATA_DIR; without data the program says so and exits 0.
// Models (default: all): sasrec-ce, mqsa, mqsa-ted, rpesa, rpesa-cad.
// Each model runs its recipe (runtime/recipes.hpp: MQSA-TED's setting, MODELS.md §10). Every model
// gets the same epoch budget and is selected on validation NDCG@20 (MQSA-TED's protocol), then
// tested once.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <seqrec/seqrec.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/args.hpp"
#include "support/guarded_main.hpp"
#include "support/progress.hpp"
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
            RunConfig rc = recipe(m, ds.num_items());
            if (rc.kind != "sasrec") {
                std::fprintf(stderr, "%s is not a SASRec-family recipe\n", m.c_str());
                return 2;
            }
            TrainOptions& t = rc.train;
            t.epochs = epochs;
            t.patience = patience;
            t.seed = std::uint64_t(seed);
            auto model = make_model(rc.kind, rc.model);
            model->init(t.seed);
            const long faults0 = bench::minor_faults();
            const TrainResult r = model->fit(split, t, bench::progress_hooks());
            const double faults = double(bench::minor_faults() - faults0);
            const Metrics test = model->evaluate(split, true, t.eval);
            double train_s = 0;
            for (const auto& e : r.log) train_s += e.train_seconds;
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
