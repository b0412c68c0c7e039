// The scale benchmark (issue #14): a synthetic catalogue of 10^6 items and 10^5 users, generated
// in memory, one training epoch of SASRec with sampled-softmax CE, then a full-ranking validation
// over the whole catalogue (streamed in item chunks). Prints the epoch time, the evaluation time,
// this process's peak memory, and the bytes each process sends per step. Under
// `mpirun -np R` (a build with MPI) the R processes train data-parallel as `seqrec train` does.
//   bench_scale [--items N] [--users N] [--dim N] [--maxlen N] [--blocks N] [--batch N]
//               [--negatives K] [--sampler uniform|popularity] [--lazy-adam 0|1]
//               [--chunks N] [--threads N] [--eval-users N] [--seed N]
// --eval-users N validates a seeded random N of the users (0 = all). Peak memory is this
// process's maximum resident set (getrusage), data generation included.
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <seqrec/seqrec.hpp>
#include <string>

#include "support/args.hpp"
#include "support/guarded_main.hpp"
#include "support/timer.hpp"
#ifdef SEQREC_WITH_MPI
#include <seqrec/train/mpi_process_group.hpp>
#endif

using namespace seqrec;

namespace {

double peak_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

int run_benchmark(int argc, char** argv, ProcessGroup* group) {
    bench::Args args(argc, argv,
                     "bench_scale [--items N] [--users N] [--dim N] [--maxlen N] [--blocks N] "
                     "[--batch N] [--negatives K] [--sampler uniform|popularity] "
                     "[--lazy-adam 0|1] [--chunks N] [--threads N] [--eval-users N] [--seed N]");
    SyntheticOptions data;
    data.items = args.integer("items", 1000000);
    data.users = args.integer("users", 100000);
    data.topics = std::max(1L, long(data.items / 1000));  // chains of about 1,000 items
    data.min_len = 5;
    data.max_len = 50;
    data.seed = std::uint64_t(args.integer("seed", 1));
    const long dim = args.integer("dim", 64), maxlen = args.integer("maxlen", 50),
               blocks = args.integer("blocks", 2);
    TrainOptions o;
    o.epochs = 1;
    o.patience = 0;
    o.batch = args.integer("batch", 256);
    o.loss = LossKind::sampled_ce;
    o.negatives = args.integer("negatives", 1024);
    o.sampler = parse_negative_sampler(args.text("sampler", "popularity"));
    o.adam.lazy = args.integer("lazy-adam", 1) != 0;
    o.chunks = args.integer("chunks", 8);
    o.eval.max_users = args.integer("eval-users", 0);
    o.metric = "NDCG@10";
    const int threads = int(args.integer("threads", 0));
    args.finish();
    set_threads(threads);
    const bool lead = !group || group->rank() == 0;
    const int world = group ? group->world() : 1;

    double t0 = bench::now_seconds();
    const Split split = leave_one_out(synthetic_dataset(data));
    const double gen_seconds = bench::now_seconds() - t0;
    std::size_t interactions = 0;
    for (const auto& s : split.train) interactions += s.size();

    SASRecConfig cfg;
    cfg.num_items = split.num_items;
    cfg.maxlen = maxlen;
    cfg.dim = dim;
    cfg.blocks = blocks;
    cfg.heads = 1;
    cfg.dropout = 0.2;
    SASRec<float> model(cfg);
    Rng init(7);
    model.init(init);
    const double param_mib = double(model.params().size()) * 4.0 / 1048576.0;

    Trainer<SASRec<float>> trainer(o);
    TrainHooks hooks;
    hooks.group = group;
    EpochLog log;
    hooks.on_epoch = [&](const EpochLog& e) { log = e; };
    t0 = bench::now_seconds();
    trainer.fit(model, split, hooks);
    const double fit_seconds = bench::now_seconds() - t0;
    const double steps = double((split.num_users() + o.batch - 1) / o.batch);
    const double peak = peak_mib();
    if (group) {  // every process's peak, for the lead to print
        std::vector<char> mine(sizeof(double)), all;
        std::memcpy(mine.data(), &peak, sizeof(double));
        std::vector<std::size_t> offsets;
        group->all_gather(mine, all, offsets);
        if (lead)
            for (int r = 0; r < world; ++r) {
                double p = 0.0;
                std::memcpy(&p, all.data() + offsets[std::size_t(r)], sizeof(double));
                std::printf("process %d: peak %.0f MiB\n", r, p);
            }
    }
    if (!lead) return 0;
    std::printf("data: %ld items, %ld users, %zu training interactions (generated in %.1f s)\n",
                long(split.num_items), long(split.num_users()), interactions, gen_seconds);
    std::printf(
        "model: SASRec d %ld, maxlen %ld, %ld blocks; %.0f MiB of parameters; sampled CE, %ld "
        "%s negatives per batch of %ld; %s Adam; %ld chunks\n",
        dim, maxlen, blocks, param_mib, long(o.negatives), to_string(o.sampler), long(o.batch),
        o.adam.lazy ? "lazy" : "dense", long(o.chunks));
    std::printf("run: %d process(es) x %d thread(s)\n", world, max_threads());
    std::printf(
        "epoch: %.1f s train (%.0f steps, %.1f ms per step), %.1f s validation (%s users)\n",
        log.train_seconds, steps, 1e3 * log.train_seconds / steps, log.seconds - log.train_seconds,
        o.eval.max_users ? std::to_string(o.eval.max_users).c_str() : "all");
    std::printf(
        "of which: %.1f ms per step computing chunks, %.1f ms exchanging, %.1f ms updating (fold, "
        "norm, Adam: every process repeats it)\n",
        1e3 * (log.train_seconds - log.exchange_seconds - log.update_seconds) / steps,
        1e3 * log.exchange_seconds / steps, 1e3 * log.update_seconds / steps);
    std::printf("validation NDCG@10 %.4f, HR@10 %.4f; loss %.4f\n", log.valid.get("NDCG@10"),
                log.valid.get("HR@10"), log.loss);
    std::printf("communication: %.2f MB sent per step per process (%.1f MB per epoch)\n",
                log.sent_bytes / steps / 1e6, log.sent_bytes / 1e6);
    std::printf("peak memory: %.0f MiB (this process); fit %.1f s\n", peak, fit_seconds);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef SEQREC_WITH_MPI
    const MpiLaunch mpi(&argc, &argv);
    const int rc = bench::guarded_main([&] { return run_benchmark(argc, argv, mpi.group()); });
    return rc ? mpi.abort(rc) : 0;
#else
    return bench::guarded_main([&] { return run_benchmark(argc, argv, nullptr); });
#endif
}
