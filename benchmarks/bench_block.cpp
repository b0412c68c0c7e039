// One SASRec transformer block, forward (with dropout) and backward, on a pack of equal windows,
// single-threaded: the minimum over many calls. On a shared machine whose epoch times move by
// 20% from run to run, the minimum of short calls still separates kernel changes of a few
// percent; compare two builds by running both binaries alternately. Also prints the share of
// the 1-thread fp32 GEMM ceiling (support/sgemm_ceiling.hpp) measured in the same run.
//   bench_block [--windows 16] [--length 200] [--dim 50] [--heads 1] [--dropout 0.2]
//               [--repeats 300]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <seqrec/layers/transformer_block.hpp>
#include <tuple>
#include <vector>

#include "support/args.hpp"
#include "support/guarded_main.hpp"
#include "support/sgemm_ceiling.hpp"
#include "support/timer.hpp"
#include "support/useful_flops.hpp"

int main(int argc, char** argv) {
    using namespace seqrec;
    return bench::guarded_main([&] {
        bench::Args args(argc, argv,
                         "bench_block [--windows N] [--length L] [--dim d] [--heads N] "
                         "[--dropout P] [--repeats N]");
        const Index W = args.integer("windows", 16), L = args.integer("length", 200);
        const Index d = args.integer("dim", 50), heads = args.integer("heads", 1);
        const double p = args.real("dropout", 0.2);
        const long repeats = args.integer("repeats", 300);
        args.finish();
        SEQREC_CHECK(W >= 1 && L >= 1 && d >= 1 && heads >= 1 && d % heads == 0 && repeats >= 1,
                     ConfigError,
                     "bench_block: sizes and repeats must be >= 1, dim a multiple of heads");
        BlockConfig cfg;
        cfg.dim = d;
        cfg.heads = heads;
        cfg.maxlen = L;
        cfg.dropout = p;
        TransformerBlock<float> block(cfg), grad(cfg);
        block.for_each_param("", [](const std::string&, Param<float>& m) {
            for (Index i = 0; i < m.size(); ++i) m.data()[i] = 0.2f * std::sin(1.3f * float(i + 1));
        });
        std::vector<Index> offsets(std::size_t(W + 1));
        for (Index w = 0; w <= W; ++w) offsets[std::size_t(w)] = w * L;
        const PackRows pack{offsets.data(), W};
        Buffer<float> X(W * L, d), dXout(W * L, d), Xout, dX(W * L, d);
        for (Index i = 0; i < X.size(); ++i) {
            X.data()[i] = std::sin(0.37f * float(i));
            dXout.data()[i] = std::cos(0.11f * float(i));
        }
        TransformerBlock<float>::Cache cache;
        double forward = 1e30, backward = 1e30, checksum = 0;
        for (long r = 0; r <= repeats; ++r) {  // call 0 warms the caches and buffers up
            Rng rng(std::uint64_t(7 + r));
            const double t0 = bench::now_seconds();
            block.forward(X, pack, Xout, cache, &rng);
            const double t1 = bench::now_seconds();
            dX.setZero();
            block.backward(dXout, X, pack, cache, grad, dX);
            const double t2 = bench::now_seconds();
            if (r == 0) continue;
            forward = std::min(forward, t1 - t0);
            backward = std::min(backward, t2 - t1);
            checksum += double(dX.sum());
        }
        const double flops = double(W) * bench::forward_flops(double(L), double(d), 1);
        set_threads(1);
        const double ceiling = bench::sgemm_ceiling_gflops();
        std::printf(
            "%ld windows of %ld rows, d %ld, %ld head(s), dropout %g, 1 thread, min of %ld\n",
            long(W), long(L), long(d), long(heads), p, repeats);
        std::printf("fp32 GEMM ceiling (2048^3, same run, 1 thread): %.1f GFLOP/s\n", ceiling);
        std::printf("| pass | ms | GFLOP/s (useful) | %% of ceiling |\n|---|---:|---:|---:|\n");
        for (const auto& [pass, seconds, work] :
             {std::tuple{"forward", forward, flops}, std::tuple{"backward", backward, 2 * flops}})
            std::printf("| %s | %.3f | %.1f | %.0f%% |\n", pass, seconds * 1e3,
                        work / seconds / 1e9, 100.0 * work / seconds / 1e9 / ceiling);
        std::printf("(checksum %.9g)\n", checksum);
        return 0;
    });
}
