// AWRSR reproduction (MODELS.md §4, like the paper's Table 2): each host with and without each
// attention-weight refinement on one dataset, full ranking, one fixed configuration.
//   bench_awrsr --data-dir DIR [--dataset Beauty] [--hosts sasrec,stosa] [--epochs 200]
//               [--patience 20] [--threads N] [--seeds 42] [--mechanisms none,simple,value,...]
//               [--refine-init host|identity] [--refine-scale C]
//               [--maxlen 50] [--dim 64] [--dropout 0.5] [--log-dir DIR]
// DIR defaults to $SEQREC_DATA_DIR; without data the program says so and exits 0.
// With several seeds every model is trained once per seed and a mean row follows, so a
// comparison rests on the same seed budget for every model.
// SASRec host: n 50, d 64, 1 block, 1 head, dropout 0.5, BCE, batch 128, Adam beta2 0.98;
// --maxlen/--dim/--dropout change it (ML-1M: SASRec's own 200, 50, 0.2, MODELS.md §10).
// --log-dir writes each run's epochs as JSON lines (io/training_log.hpp), named
// HOST-MECHANISM-SEED.jsonl, for `seqrec plot`.
// STOSA host (paper model, no passthrough): n 100, d 64, 1 layer, 4 heads, dropout 0.3,
// BPR + pvn 0.005, batch 256. Selection on validation NDCG@5 with patience (AWRSR's protocol).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
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

struct Row {
    double valid_ndcg5 = 0, hr1 = 0, hr5 = 0, ndcg5 = 0, ndcg10 = 0, best = 0, epochs = 0, sec = 0,
           faults = 0;
    void add(const Row& o, double w) {
        valid_ndcg5 += w * o.valid_ndcg5;
        hr1 += w * o.hr1;
        hr5 += w * o.hr5;
        ndcg5 += w * o.ndcg5;
        ndcg10 += w * o.ndcg10;
        best += w * o.best;
        epochs += w * o.epochs;
        sec += w * o.sec;
        faults += w * o.faults;
    }
    void print(const std::string& label) const {
        std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.0f | %.0f | %.2f | %.0f |\n",
                    label.c_str(), valid_ndcg5, hr1, hr5, ndcg5, ndcg10, best, epochs, sec, faults);
        std::fflush(stdout);
    }
};

Row run(const RunConfig& rc, const Split& split, const std::string& log_path) {
    auto model = make_model(rc.kind, rc.model);
    model->init(rc.train.seed);
    TrainHooks hooks = bench::progress_hooks();
    std::unique_ptr<EpochLogWriter> log;
    if (!log_path.empty()) {
        log = std::make_unique<EpochLogWriter>(log_path);
        hooks.on_epoch = [&, print = hooks.on_epoch](const EpochLog& e) {
            if (print) print(e);
            log->write(e);
        };
    }
    const long faults0 = bench::minor_faults();
    const TrainResult r = model->fit(split, rc.train, hooks);
    const double faults = double(bench::minor_faults() - faults0);
    const Metrics m = model->evaluate(split, true, rc.train.eval);
    double train_s = 0;
    for (const auto& e : r.log) train_s += e.train_seconds;
    Row row;
    row.valid_ndcg5 = r.best_valid.get("NDCG@5");
    row.hr1 = m.get("HR@1");
    row.hr5 = m.get("HR@5");
    row.ndcg5 = m.get("NDCG@5");
    row.ndcg10 = m.get("NDCG@10");
    row.best = double(r.best_epoch);
    row.epochs = double(r.epochs_run);
    row.sec = train_s / double(std::max<Index>(1, r.epochs_run));
    row.faults = faults / double(std::max<Index>(1, r.epochs_run));
    return row;
}
}  // namespace

namespace {
int run_benchmark(int argc, char** argv) {
    Args args(argc, argv,
              "bench_awrsr --data-dir DIR [--dataset Beauty] [--hosts sasrec,stosa] "
              "[--mechanisms none,simple,value,additive,stochastic] [--epochs 200] "
              "[--patience 20] [--threads N] [--seeds 42] [--refine-init host|identity] "
              "[--refine-scale C] [--maxlen 50] [--dim 64] [--dropout 0.5] [--log-dir DIR]");
    std::string dir = args.text("data-dir", ""), dataset = args.text("dataset", "Beauty"),
                hosts = args.text("hosts", "sasrec,stosa"),
                mechanisms = args.text("mechanisms", "none,simple,value,additive,stochastic"),
                refine_init = args.text("refine-init", "host"), log_dir = args.text("log-dir", "");
    const std::vector<long> seed_list = args.integers("seeds", "42");
    const long epochs = args.integer("epochs", 200), patience = args.integer("patience", 20),
               threads = args.integer("threads", 0), maxlen = args.integer("maxlen", 50),
               dim = args.integer("dim", 64);
    const double refine_scale = args.real("refine-scale", 0.0), dropout = args.real("dropout", 0.5);
    if (refine_init != "host" && refine_init != "identity")
        args.fail("--refine-init must be host or identity, got '" + refine_init + "'");
    for (const auto& h : split_list(hosts))
        if (h != "sasrec" && h != "stosa") args.fail("unknown host '" + h + "'");
    try {
        for (const auto& m : split_list(mechanisms)) parse_refinement(m);
    } catch (const ConfigError& e) {
        args.fail(e.what());
    }
    args.finish();
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
    std::string seed_text;
    for (const long seed : seed_list)
        seed_text += (seed_text.empty() ? "" : ",") + std::to_string(seed);
    std::printf("%s, full ranking (Recall@K = HR@K), refine init %s, refine scale %s, seeds %s\n\n",
                dataset.c_str(), refine_init.c_str(),
                refine_scale > 0 ? std::to_string(refine_scale).c_str() : "1/sqrt(n)",
                seed_text.c_str());
    std::printf(
        "| model | valid NDCG@5 | Recall@1 | Recall@5 | NDCG@5 | NDCG@10 | best epoch | epochs | "
        "s/epoch | faults/epoch |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    std::fflush(stdout);
    for (const auto& host : split_list(hosts)) {
        for (const auto& mech : split_list(mechanisms)) {
            const Refinement r = parse_refinement(mech);
            const std::string label = host + (r == Refinement::none ? "" : " + M-" + mech);
            if (host == "sasrec" && r == Refinement::stochastic) continue;  // M4 needs STOSA
            Row mean;
            for (const long seed : seed_list) {
                // The host's recipe; the SASRec host in AWRSR's one-layer setting (Table 2).
                RunConfig rc = recipe(host, ds.num_items());
                if (host == "sasrec")
                    rc.model.update(
                        {{"maxlen", maxlen}, {"dim", dim}, {"blocks", 1}, {"dropout", dropout}});
                rc.model.update({{"refine", mech},
                                 {"refine_identity_init", refine_init == "identity"},
                                 {"refine_scale", refine_scale}});
                rc.train.epochs = epochs;
                rc.train.patience = patience;
                rc.train.metric = "NDCG@5";
                rc.train.seed = std::uint64_t(seed);
                const Row row = run(rc, split,
                                    log_dir.empty() ? std::string()
                                                    : log_dir + "/" + host + "-" + mech + "-" +
                                                          std::to_string(seed) + ".jsonl");
                if (seed_list.size() > 1) row.print(label + " (seed " + std::to_string(seed) + ")");
                mean.add(row, 1.0 / double(seed_list.size()));
            }
            mean.print(seed_list.size() > 1 ? label + " (mean)" : label);
        }
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    return seqrec::bench::guarded_main([&] { return run_benchmark(argc, argv); });
}
