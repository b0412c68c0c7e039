// Times one training epoch and one full-ranking evaluation of a SASRec-family recipe, with minor
// page faults per epoch, single-request latency and batched requests/s; the epoch, the
// evaluation and the batched requests also on 1 thread, alternating with the N-thread runs
// (thread speed-up). Default: the ml-1m settings of the
// SASRec paper (recipe sasrec at maxlen 200: dim 50, 2 blocks, 1 head, batch 128, dropout 0.2,
// BCE). The other settings:
//   Yelp SASRec CE: --data Yelp.txt --recipe sasrec-ce --maxlen 50 --blocks 1
//   Yelp MQSA-TED:  --data Yelp.txt --recipe mqsa-ted --maxlen 50
// benchmarks/compare_allocator.sh runs it with glibc told to keep freed memory.
//   bench_sasrec [--data PATH] [--recipe NAME] [--maxlen N] [--blocks N] [--loss bce|ce]
//                [--threads N] [--repeats N] [--busy N]
// --busy N: N threads spin beside the whole run (another process holding cores); the run also
//            prints the speed-up that independent GEMMs get beside them (the machine's ceiling).
// Data: --data, else $SEQREC_DATA_DIR/ml-1m.txt, else a synthetic set of ml-1m's shape.
// GFLOP/s counts useful work only: causal attention (lower triangle), real (non-padding) rows,
// CE recomputation not counted (design/PERF-NOTES.md §4); the percentage is of an fp32 GEMM
// ceiling measured in the same run at the same thread count (support/sgemm_ceiling.hpp).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <seqrec/seqrec.hpp>
#include <string>
#include <vector>

#include "support/args.hpp"
#include "support/busy_threads.hpp"
#include "support/contention_ceiling.hpp"
#include "support/guarded_main.hpp"
#include "support/sgemm_ceiling.hpp"
#include "support/timer.hpp"
#include "support/useful_flops.hpp"

using namespace seqrec;

namespace {
int run_benchmark(int argc, char** argv) {
    bench::Args args(argc, argv,
                     "bench_sasrec [--data PATH] [--recipe NAME] [--maxlen N] [--blocks N] "
                     "[--loss bce|ce] [--threads N] [--repeats N] [--busy N]");
    std::string data_path = args.text("data", "");
    const int threads = int(args.integer("threads", 0)),
              repeats = int(std::max(1L, args.integer("repeats", 3)));
    const std::string recipe_name = args.text("recipe", "sasrec");
    const long maxlen = args.integer("maxlen", 200), blocks = args.integer("blocks", 0);
    const std::string loss = args.text("loss", "");
    const long busy = args.integer("busy", 0);
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
    const bench::BusyThreads contention(busy);
    if (busy > 0) std::printf("contention: %ld busy thread(s) beside the run\n", busy);

    // Default: the sasrec recipe at ML-1M's window (MODELS.md §10: n = 200).
    RunConfig rc = recipe(recipe_name, ds.num_items());
    if (rc.kind != "sasrec") args.fail("--recipe must be a SASRec-family recipe");
    rc.model["maxlen"] = maxlen;
    if (blocks > 0) rc.model["blocks"] = blocks;
    const SASRecConfig cfg = config_from_json<SASRecConfig>(rc.model, "bench_sasrec");
    SASRec<float> model(cfg);
    Rng init(1);
    model.init(init);
    TrainOptions t = rc.train;
    if (!loss.empty()) t.loss = parse_loss(loss);
    Trainer<SASRec<float>> trainer(t);
    Adam<float> adam(t.adam);

    // Useful work per epoch and per evaluation.
    const double towers = double(cfg.towers().size());
    double train_flops = 0, eval_flops = 0, windows = 0;
    const double d = double(cfg.dim), N = double(cfg.num_items);
    for (Index u = 0; u < split.num_users(); ++u) {
        const double m = double(split.train[std::size_t(u)].size());
        if (m >= 2) {
            const double L = std::min(m - 1, double(cfg.maxlen));
            const double out = t.loss == LossKind::bce ? 2 * 2 * L * d : 2 * L * N * d;
            const double kd = t.distill ? 2 * L * N * d : 0.0;  // one head per input item
            const double encoder = towers * bench::forward_flops(L, d, double(cfg.blocks));
            train_flops += 3 * (encoder + out + kd);  // fwd + 2 bwd
            windows += 1;
        }
        if (split.test[std::size_t(u)] != 0) {
            const double L = std::min(m + 1, double(cfg.maxlen));
            eval_flops += towers * (bench::forward_flops(L, d, double(cfg.blocks) - 1) +
                                    4 * L * d * d + 2 * L * d + 6 * d * d) +
                          2 * N * d;
        }
    }

    Index epoch = 0;
    const int nthreads = max_threads();
    const auto [train, train1] = bench::time_alternating(
        1, repeats,
        [&] {
            set_threads(nthreads);
            trainer.train_epoch(model, split, ++epoch, adam);
        },
        [&] {
            set_threads(1);
            trainer.train_epoch(model, split, ++epoch, adam);
            set_threads(nthreads);
        });
    Metrics m;
    EvalWorkspace<SASRec<float>> ews;
    const auto [eval, eval1] = bench::time_alternating(
        1, repeats, [&] { m = evaluate(model, split, true, {}, ews); },
        [&] {
            set_threads(1);
            m = evaluate(model, split, true, {}, ews);
            set_threads(nthreads);
        });
    const double peak_train = bench::peak_rss_mib();  // before the serving and GEMM-ceiling parts

    // Serving: single requests (top 10, history excluded) for the first 200 test users, each
    // timed alone on a warm workspace, then every test user as one batch (requests/s).
    IdMap ids;
    for (Index i = 1; i <= cfg.num_items; ++i) ids.add(i);
    const Recommender<SASRec<float>> rec(model, ids);
    std::vector<RecommendRequest> requests;
    for (Index u = 0; u < split.num_users(); ++u)
        if (split.test[std::size_t(u)] != 0) {
            const auto h = split.history(u, true);
            requests.emplace_back();
            requests.back().history.assign(h.begin(), h.end());
        }
    Recommender<SASRec<float>>::Workspace rws;
    rec.reserve(rws);
    RecommendResponse picks;
    std::vector<double> latency;
    for (std::size_t r = 0; r < std::min<std::size_t>(200, requests.size()); ++r) {
        rec.recommend(requests[r], rws, picks);  // warm: this history's shapes
        const double t0 = bench::now_seconds();
        rec.recommend(requests[r], rws, picks);
        latency.push_back(bench::now_seconds() - t0);
    }
    std::sort(latency.begin(), latency.end());
    std::vector<RecommendResponse> answers;
    std::vector<Recommender<SASRec<float>>::Workspace> pool;
    const auto [batched, batched1] = bench::time_alternating(
        1, repeats, [&] { rec.recommend_many(requests, answers, pool); },
        [&] {
            set_threads(1);
            rec.recommend_many(requests, answers, pool);
            set_threads(nthreads);
        });

    const double ceiling = bench::sgemm_ceiling_gflops();
    set_threads(1);
    const double ceiling1 = bench::sgemm_ceiling_gflops();
    set_threads(nthreads);

    std::printf("seqrec SASRec benchmark: %s\n", source.c_str());
    std::printf(
        "  %ld users, %ld items; recipe %s: maxlen %ld, dim %ld, %ld block(s) x %zu tower(s), "
        "%ld head(s), batch %ld, loss %s%s, %d threads\n",
        long(ds.num_users()), long(ds.num_items()), recipe_name.c_str(), long(cfg.maxlen),
        long(cfg.dim), long(cfg.blocks), cfg.towers().size(), long(cfg.heads), long(t.batch),
        to_string(t.loss), t.distill ? " + distillation" : "", max_threads());
    std::printf(
        "fp32 GEMM ceiling (2048^3 per thread, same run): %.1f GFLOP/s at %d threads, "
        "%.1f at 1\n",
        ceiling, nthreads, ceiling1);
    std::printf(
        "| what | min s | median s | sequences/s | GFLOP/s (useful) | %% of ceiling | minor faults "
        "per run |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    auto row = [&](const char* what, const bench::Runs& r, double items, double flops, double top) {
        const auto& s = r.seconds;
        const double gflops = flops / s.front() / 1e9;
        std::printf("| %s | %.3f | %.3f | %.0f | %.1f | %.0f%% | %.0f |\n", what, s.front(),
                    bench::median(s), items / s.front(), gflops, 100.0 * gflops / top,
                    r.faults_per_run);
    };
    char label[96];
    std::snprintf(label, sizeof label, "train epoch (%.0f windows), %d threads", windows, nthreads);
    row(label, train, windows, train_flops, ceiling);
    std::snprintf(label, sizeof label, "full-ranking eval (%ld users), %d threads", m.users,
                  nthreads);
    row(label, eval, double(m.users), eval_flops, ceiling);
    row("train epoch, 1 thread", train1, windows, train_flops, ceiling1);
    row("full-ranking eval, 1 thread", eval1, double(m.users), eval_flops, ceiling1);
    auto speed_up = [](const bench::Runs& one, const bench::Runs& many) {
        return bench::median(one.seconds) / bench::median(many.seconds);
    };
    std::printf(
        "thread speed-up (median, 1 -> %d threads): epoch %.2fx, evaluation %.2fx, batched "
        "requests %.2fx\n",
        nthreads, speed_up(train1, train), speed_up(eval1, eval), speed_up(batched1, batched));

    if (busy > 0) {  // what the machine gives a second thread beside the busy ones, in this run
        const long products = 22000;  // about 1.5 s on one thread
        const double free_flowing = bench::contention_ceiling(
            repeats, Index(maxlen), Index(cfg.dim), products, 1, products / 10);
        const double stepped =
            bench::contention_ceiling(repeats, Index(maxlen), Index(cfg.dim), products, 48, 8);
        std::printf(
            "ceiling beside the busy thread(s) (%ldx%ld GEMMs, median speed-up 1 -> %d threads): "
            "%.2fx handed out freely, %.2fx in 48 steps of 8 pieces\n",
            maxlen, long(cfg.dim), nthreads, free_flowing, stepped);
    }
    if (!latency.empty())
        std::printf("single request (top 10, %zu users, 1 thread): median %.3f ms, p99 %.3f ms\n",
                    latency.size(), 1e3 * bench::median(latency),
                    1e3 * latency[std::min(latency.size() - 1, latency.size() * 99 / 100)]);
    std::printf("batched requests (%zu users, top 10): %.0f requests/s on %d threads, %.0f on 1\n",
                requests.size(), double(requests.size()) / batched.seconds.front(), nthreads,
                double(requests.size()) / batched1.seconds.front());
    std::printf("peak memory: %.1f MiB after training and evaluation, %.1f MiB in all\n",
                peak_train, bench::peak_rss_mib());
    std::printf("test NDCG@10 after %ld epochs: %.4f (full ranking)\n", long(epoch),
                m.get("NDCG@10"));
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    return seqrec::bench::guarded_main([&] { return run_benchmark(argc, argv); });
}
