// Times one SASRec training epoch and one full-ranking evaluation at the ml-1m settings of the
// SASRec paper (maxlen 200, dim 50, 2 blocks, 1 head, batch 128, dropout 0.2, BCE).
//   bench_sasrec [--data PATH] [--threads N] [--repeats N] [--loss bce|ce]
// Data: --data, else $SEQREC_DATA_DIR/ml-1m.txt, else a synthetic set of ml-1m's shape.
// GFLOP/s counts useful work only: causal attention (lower triangle) and real (non-padding) rows.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <seqrec/seqrec.hpp>
#include <string>

#include "support/args.hpp"
#include "support/guarded_main.hpp"
#include "support/timer.hpp"

using namespace seqrec;

namespace {

/// Forward FLOPs of one compact window of L items (multiply-add = 2).
double forward_flops(double L, double d, double blocks) {
    const double linear = 5 * 2 * L * d * d;               // Q, K, V, W1, W2
    const double attention = 2 * 2 * L * (L + 1) / 2 * d;  // QK^T and AV, lower triangle
    return blocks * (linear + attention);
}

}  // namespace

namespace {
int run_benchmark(int argc, char** argv) {
    bench::Args args(argc, argv,
                     "bench_sasrec [--data PATH] [--threads N] [--repeats N] [--loss bce|ce]");
    std::string data_path = args.text("data", "");
    const int threads = int(args.integer("threads", 0)),
              repeats = int(std::max(1L, args.integer("repeats", 3)));
    const std::string loss = args.text("loss", "bce");
    args.finish();
    if (data_path.empty()) {
        if (const char* dir = std::getenv("SEQREC_DATA_DIR"))
            data_path = std::string(dir) + "/ml-1m.txt";
    }
    set_threads(threads);
    Dataset ds;
    std::string source;
    if (!data_path.empty() && std::ifstream(data_path)) {
        ds = read_dataset(data_path, DataFormat::lines);
        source = data_path;
    } else {
        SyntheticOptions o;  // ml-1m's shape: 6,040 users, 3,416 items, ~165 items per user
        o.users = 6040;
        o.items = 3416;
        o.topics = 8;
        o.min_len = 18;
        o.max_len = 312;
        ds = synthetic_dataset(o);
        source = "synthetic (ml-1m shape; pass --data or set SEQREC_DATA_DIR for the real file)";
    }
    const Split split = leave_one_out(ds);

    SASRecConfig cfg;
    cfg.num_items = ds.num_items();
    cfg.maxlen = 200;
    cfg.dim = 50;
    cfg.blocks = 2;
    cfg.heads = 1;
    cfg.dropout = 0.2;
    SASRec<float> model(cfg);
    Rng init(1);
    model.init(init);
    TrainOptions t;
    t.batch = 128;
    t.loss = parse_loss(loss);
    t.verbose = false;
    Trainer<SASRec<float>> trainer(t);
    Adam<float> adam(t.adam);

    // Useful work per epoch and per evaluation.
    double train_flops = 0, eval_flops = 0, windows = 0;
    const double d = double(cfg.dim), N = double(cfg.num_items);
    for (Index u = 0; u < split.num_users(); ++u) {
        const double m = double(split.train[std::size_t(u)].size());
        if (m >= 2) {
            const double L = std::min(m - 1, double(cfg.maxlen));
            const double out = t.loss == LossKind::bce ? 2 * 2 * L * d : 2 * L * N * d;
            train_flops += 3 * (forward_flops(L, d, double(cfg.blocks)) + out);  // fwd + 2x bwd
            windows += 1;
        }
        if (split.test[std::size_t(u)] != 0) {
            const double L = std::min(m + 1, double(cfg.maxlen));
            eval_flops += forward_flops(L, d, double(cfg.blocks) - 1) + 4 * L * d * d + 2 * L * d +
                          6 * d * d + 2 * N * d;
        }
    }

    Index epoch = 0;
    const auto train_times =
        bench::time_runs(1, repeats, [&] { trainer.train_epoch(model, split, ++epoch, adam); });
    Metrics m;
    const auto eval_times = bench::time_runs(1, repeats, [&] { m = evaluate(model, split, true); });

    std::printf("seqrec SASRec benchmark: %s\n", source.c_str());
    std::printf(
        "  %ld users, %ld items; maxlen 200, dim 50, 2 blocks, 1 head, batch 128, loss %s, "
        "%d threads\n",
        long(ds.num_users()), long(ds.num_items()), to_string(t.loss), max_threads());
    std::printf("| what | min s | median s | sequences/s | GFLOP/s (useful) |\n");
    std::printf("|---|---:|---:|---:|---:|\n");
    std::printf("| train epoch (%.0f windows) | %.3f | %.3f | %.0f | %.1f |\n", windows,
                train_times.front(), bench::median(train_times), windows / train_times.front(),
                train_flops / train_times.front() / 1e9);
    std::printf("| full-ranking eval (%ld users) | %.3f | %.3f | %.0f | %.1f |\n", m.users,
                eval_times.front(), bench::median(eval_times), double(m.users) / eval_times.front(),
                eval_flops / eval_times.front() / 1e9);
    std::printf("peak memory: %.1f MiB\n", bench::peak_rss_mib());
    std::printf("test NDCG@10 after %ld epochs: %.4f (full ranking)\n", long(epoch),
                m.get("NDCG@10"));
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    return seqrec::bench::guarded_main([&] { return run_benchmark(argc, argv); });
}
