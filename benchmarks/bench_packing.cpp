// Does packing a batch's windows into one matrix speed up the row-wise products? (issue #10)
// Times the three products of a Linear layer (forward y = x W, input gradient dx += dy W^T,
// weight gradient dW += x^T dy) run per window on L x d slices, against the same products run
// once on the packed (windows * L) x d matrix, and prints GFLOP/s side by side. The calls
// layers/linear.hpp makes (kernels/gemm.hpp: Eigen's kernels with reused packing memory; plain
// Eigen products allocate a packing block per call once it passes 128 KiB, which at d = 64 and
// a few thousand packed rows made the weight gradient 5x slower), single-threaded.
//   bench_packing [--windows 16] [--length 150] [--dim 50] [--repeats 200]
#include <chrono>
#include <cstdio>
#include <seqrec/kernels/gemm.hpp>

#include "support/args.hpp"
#include "support/guarded_main.hpp"

namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename F>
double seconds_per_call(long repeats, F&& f) {
    f();  // warm-up: packing memory, caches
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < repeats; ++i) f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
           double(repeats);
}

}  // namespace

int main(int argc, char** argv) {
    return seqrec::bench::guarded_main([&] {
        seqrec::bench::Args args(
            argc, argv, "bench_packing [--windows N] [--length L] [--dim d] [--repeats N]");
        const long W = args.integer("windows", 16), L = args.integer("length", 150);
        const long d = args.integer("dim", 50), repeats = args.integer("repeats", 200);
        args.finish();
        Mat X = Mat::Random(W * L, d), G = Mat::Random(W * L, d), Wt = Mat::Random(d, d);
        Mat Y(W * L, d), dX = Mat::Zero(W * L, d), dW = Mat::Zero(d, d);
        const double flops = 2.0 * double(W * L) * double(d) * double(d);
        struct Row {
            const char* what;
            double per_window, packed;
        } rows[3];
        using seqrec::gemm_add;
        using seqrec::gemm_assign;
        rows[0] = {"forward  y = x W",
                   seconds_per_call(repeats,
                                    [&] {
                                        for (long w = 0; w < W; ++w) {
                                            auto y = Y.middleRows(w * L, L);
                                            gemm_assign(y, X.middleRows(w * L, L), Wt);
                                        }
                                    }),
                   seconds_per_call(repeats, [&] { gemm_assign(Y, X, Wt); })};
        rows[1] = {"input    dx += dy W^T",
                   seconds_per_call(repeats,
                                    [&] {
                                        for (long w = 0; w < W; ++w) {
                                            auto dx = dX.middleRows(w * L, L);
                                            gemm_add(dx, G.middleRows(w * L, L), Wt.transpose());
                                        }
                                    }),
                   seconds_per_call(repeats, [&] { gemm_add(dX, G, Wt.transpose()); })};
        rows[2] = {"weight   dW += x^T dy",
                   seconds_per_call(repeats,
                                    [&] {
                                        for (long w = 0; w < W; ++w)
                                            gemm_add(dW, X.middleRows(w * L, L).transpose(),
                                                     G.middleRows(w * L, L));
                                    }),
                   seconds_per_call(repeats, [&] { gemm_add(dW, X.transpose(), G); })};
        std::printf("%ld windows of %ld rows, d = %ld, 1 thread\n", W, L, d);
        std::printf("| product | per window GFLOP/s | packed GFLOP/s | packed / per window |\n");
        std::printf("|---|---:|---:|---:|\n");
        for (const Row& r : rows)
            std::printf("| %s | %.1f | %.1f | %.2fx |\n", r.what, flops / r.per_window / 1e9,
                        flops / r.packed / 1e9, r.per_window / r.packed);
        std::printf("(checksum %g)\n", double(Y.sum() + dX.sum() + dW.sum()) * 0.0);
        return 0;
    });
}
