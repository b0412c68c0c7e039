// AWRSR reproduction (MODELS.md §4, like the paper's Table 2): each host with and without each
// attention-weight refinement on one dataset, full ranking, one fixed configuration and seed.
//   bench_awrsr --data-dir DIR [--dataset Beauty] [--hosts sasrec,stosa] [--epochs 100]
//               [--patience 20] [--threads N] [--seed 42] [--mechanisms none,simple,value,...]
// DIR defaults to $SEQREC_DATA_DIR; without data the program says so and exits 0.
// SASRec host: n 50, d 64, 1 block, 1 head, dropout 0.5, BCE, batch 128, Adam beta2 0.98.
// STOSA host (paper model, no passthrough): n 100, d 64, 1 layer, 4 heads, dropout 0.3,
// BPR + pvn 0.005, batch 256. Selection on validation NDCG@5 with patience (AWRSR's protocol).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <seqrec/seqrec.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/args.hpp"

using namespace seqrec;
using seqrec::bench::split_list;

namespace {

template <typename Model, typename Config>
void run(const std::string& label, const Config& cfg, const TrainOptions& t, const Split& split) {
    Model model(cfg);
    Rng init({t.seed, 0x1A17});
    model.init(init);
    const TrainResult r = Trainer<Model>(t).fit(model, split);
    const Metrics m = evaluate(model, split, true);
    double train_s = 0;
    for (const auto& e : r.log) train_s += e.seconds;
    std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %ld | %ld | %.2f |\n", label.c_str(),
                m.get("HR@1"), m.get("HR@5"), m.get("NDCG@5"), m.get("NDCG@10"), long(r.best_epoch),
                long(r.epochs_run), train_s / double(std::max<Index>(1, r.epochs_run)));
    std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
    std::string dir, dataset = "Beauty", hosts = "sasrec,stosa",
                     mechanisms = "none,simple,value,additive,stochastic";
    long epochs = 100, patience = 20, threads = 0, seed = 42;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--data-dir")
            dir = v;
        else if (a == "--dataset")
            dataset = v;
        else if (a == "--hosts")
            hosts = v;
        else if (a == "--mechanisms")
            mechanisms = v;
        else if (a == "--epochs")
            epochs = std::atol(v.c_str());
        else if (a == "--patience")
            patience = std::atol(v.c_str());
        else if (a == "--threads")
            threads = std::atol(v.c_str());
        else if (a == "--seed")
            seed = std::atol(v.c_str());
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (dir.empty() && std::getenv("SEQREC_DATA_DIR")) dir = std::getenv("SEQREC_DATA_DIR");
    const std::string path = dir + "/" + dataset + ".txt";
    if (dir.empty() || !std::ifstream(path)) {
        std::printf("skipped: %s not found (pass --data-dir or set SEQREC_DATA_DIR)\n",
                    path.c_str());
        return 0;
    }
    set_threads(int(threads));
    const Dataset ds = read_dataset(path, DataFormat::lines);
    const Split split = leave_one_out(ds);
    std::printf("%s, full ranking, test split (Recall@K = HR@K), seed %ld\n\n", dataset.c_str(),
                seed);
    std::printf(
        "| model | Recall@1 | Recall@5 | NDCG@5 | NDCG@10 | best epoch | epochs | "
        "s/epoch |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    std::fflush(stdout);
    TrainOptions t;
    t.epochs = epochs;
    t.patience = patience;
    t.metric = "NDCG@5";
    t.seed = std::uint64_t(seed);
    t.verbose = std::getenv("SEQREC_VERBOSE") != nullptr;
    for (const auto& host : split_list(hosts)) {
        for (const auto& mech : split_list(mechanisms)) {
            const Refinement r = parse_refinement(mech);
            const std::string label = host + (r == Refinement::none ? "" : " + M-" + mech);
            if (host == "sasrec") {
                if (r == Refinement::stochastic) continue;  // M4 needs a STOSA host
                SASRecConfig cfg;
                cfg.num_items = ds.num_items();
                cfg.maxlen = 50;
                cfg.dim = 64;
                cfg.blocks = 1;
                cfg.heads = 1;
                cfg.dropout = 0.5;
                cfg.refine = r;
                TrainOptions ts = t;
                ts.batch = 128;
                ts.loss = LossKind::bce;
                run<SASRec<float>>(label, cfg, ts, split);
            } else if (host == "stosa") {
                StosaConfig cfg;
                cfg.num_items = ds.num_items();
                cfg.refine = r;
                TrainOptions ts = t;
                ts.batch = 256;
                ts.adam.beta2 = 0.999;
                run<Stosa<float>>(label, cfg, ts, split);
            } else {
                std::fprintf(stderr, "unknown host %s\n", host.c_str());
                return 2;
            }
        }
    }
    return 0;
}
