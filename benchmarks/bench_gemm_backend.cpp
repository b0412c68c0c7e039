// Eigen's GEMM kernel (what seqrec uses: kernels/gemm.hpp) against OpenBLAS's sgemm on the
// products issue #10 names, one thread each (seqrec threads over windows and user blocks, never
// inside a product), alternating rounds, median GFLOP/s and the ratio. Built only where CMake
// finds OpenBLAS (Debian: libopenblas-dev); it decides whether an OpenBLAS backend is worth
// offering.
//   bench_gemm_backend [--repeats N] [--seconds S]
#include <cblas.h>

#include <algorithm>
#include <cstdio>
#include <seqrec/seqrec.hpp>
#include <string>
#include <vector>

#include "support/args.hpp"
#include "support/guarded_main.hpp"
#include "support/timer.hpp"

using namespace seqrec;

extern "C" void openblas_set_num_threads(int);  // OpenBLAS's own; not in every cblas.h

namespace {

struct Shape {
    const char* what;
    Index m, n, k;  // C (m x n, row-major) += A (m x k) * B^T, B (n x k): every product here
};

/// Times `reps` calls of f and returns GFLOP/s for a product of `flops`.
template <typename F>
double gflops(F&& f, double flops, int reps) {
    const double t0 = bench::now_seconds();
    for (int i = 0; i < reps; ++i) f();
    return flops * reps / (bench::now_seconds() - t0) / 1e9;
}

int run(int argc, char** argv) {
    bench::Args args(argc, argv, "bench_gemm_backend [--repeats N] [--seconds S]");
    const int repeats = int(args.integer("repeats", 5));
    const double seconds = args.real("seconds", 0.2);
    args.finish();
    set_threads(1);
    openblas_set_num_threads(1);
    const std::vector<Shape> shapes = {
        {"CE logits: 256 rows x 1,024-item chunk, d 64", 256, 1024, 64},
        {"scoring: 64 users x 3,416 items (ml-1m), d 50", 64, 3416, 50},
        {"scoring: 64 users x 20,033 items (Yelp), d 64", 64, 20033, 64},
        {"linear, packed: 2,400 rows x 64 x 64", 2400, 64, 64},
        {"linear, one window: 10 rows x 64 x 64", 10, 64, 64},
        {"linear, ml-1m window: 200 rows x 50 x 50", 200, 50, 50},
        {"ceiling: 2,048 x 2,048 x 2,048", 2048, 2048, 2048},
    };
    std::printf("%-50s %10s %10s %8s\n", "product (one thread)", "Eigen", "OpenBLAS", "ratio");
    for (const Shape& s : shapes) {
        const Matrix<float> A = Matrix<float>::Random(s.m, s.k),
                            B = Matrix<float>::Random(s.n, s.k);
        Matrix<float> C1 = Matrix<float>::Zero(s.m, s.n), C2 = C1;
        const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
        const int reps = std::max(1, int(seconds * 20e9 / flops));  // about `seconds` at 20 GFLOP/s
        auto eigen = [&] { detail::gemm_scale_add(C1, A, B.transpose(), 1.0f); };
        auto blas = [&] {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(s.m), int(s.n), int(s.k), 1.0f,
                        A.data(), int(s.k), B.data(), int(s.k), 1.0f, C2.data(), int(s.n));
        };
        eigen();
        blas();
        std::vector<double> e, o;
        for (int r = 0; r < repeats; ++r) {
            e.push_back(gflops(eigen, flops, reps));
            o.push_back(gflops(blas, flops, reps));
        }
        std::sort(e.begin(), e.end());
        std::sort(o.begin(), o.end());
        const double me = bench::median(e), mo = bench::median(o);
        std::printf("%-50s %10.1f %10.1f %8.2f\n", s.what, me, mo, mo / me);
    }
    std::printf("(GFLOP/s, median of %d alternating rounds; ratio = OpenBLAS / Eigen)\n", repeats);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return bench::guarded_main([&] { return run(argc, argv); });
}
