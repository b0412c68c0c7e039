// kernels/gemm.hpp: lower_product_assign gives the bits of Eigen's triangular assignment.
#include <doctest/doctest.h>

#include <seqrec/kernels/gemm.hpp>

using namespace seqrec;

namespace {
template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename T>
void check_lower_product(Index L, Index depth) {
    CAPTURE(L);
    CAPTURE(depth);
    const RowMat<T> P = RowMat<T>::Random(L + 3, depth), Q = RowMat<T>::Random(L + 1, depth);
    const auto lhs = P.middleRows(2, L);  // blocks with an outer stride, as in a pack
    const auto rhs = Q.topRows(L).transpose();
    const T s = T(0.37);
    RowMat<T> expected = RowMat<T>::Constant(L, L, T(-7));
    expected.template triangularView<Eigen::Lower>() = s * lhs * rhs;
    RowMat<T> got = RowMat<T>::Constant(L, L, T(-7));  // the sentinel marks the untouched half
    lower_product_assign(got, s * lhs, rhs);
    CHECK(got == expected);  // bit for bit, upper triangle left as it was
    for (Index i = 0; i < L; ++i)
        for (Index j = i + 1; j < L; ++j) REQUIRE(got(i, j) == T(-7));
    // The lower triangle is the product (not only Eigen's same mistake twice).
    const RowMat<T> plain = s * (lhs * rhs);
    for (Index i = 0; i < L; ++i)
        for (Index j = 0; j <= i; ++j)
            REQUIRE(std::abs(double(got(i, j) - plain(i, j))) < 1e-4 * (1 + std::abs(plain(i, j))));
}
}  // namespace

TEST_CASE("lower_product_assign: Eigen's triangular assignment, bit for bit, upper half kept") {
    for (Index L : {1, 2, 7, 50, 201}) {  // 201: past the 48-row panel and the stack blocks
        check_lower_product<float>(L, 50);
        check_lower_product<double>(L, 13);
    }
}
