// Batched item scores (kernels/item_scores.hpp): a user's row is the same bits alone and at any
// position of any block, so evaluation, batched serving and one request agree exactly.
#include <doctest/doctest.h>

#include <random>
#include <seqrec/kernels/item_scores.hpp>

using namespace seqrec;

TEST_CASE("score_items: a row does not depend on the block it is scored in") {
    std::mt19937 g(1);
    std::normal_distribution<float> n;
    Matrix<float> items(1001, 50), Q(64, 50);
    for (Index i = 0; i < items.size(); ++i) items.data()[i] = n(g);
    for (Index i = 0; i < Q.size(); ++i) Q.data()[i] = n(g);
    Buffer<float> all, part;
    score_items<float>(Q, items, all);
    REQUIRE(all.rows() == 64);
    REQUIRE(all.cols() == 1002);
    CHECK(all.col(0).isZero());
    // Against a plain product, to rounding.
    const Matrix<float> ref = Q * items.transpose();
    CHECK((ref - Matrix<float>(all.rightCols(1001))).cwiseAbs().maxCoeff() < 1e-4f);
    for (Index B : {1, 2, 3, 5, 17, 63}) {
        for (Index first : {Index(0), 64 - B, (64 - B) / 2}) {
            Matrix<float> q = Matrix<float>::Zero(padded_score_rows(B), 50);
            q.topRows(B) = Q.middleRows(first, B);
            score_items<float>(q, items, part);
            for (Index j = 0; j < B; ++j) {
                CAPTURE(B);
                CAPTURE(first);
                CAPTURE(j);
                CHECK(part.row(j) == all.row(first + j));
            }
        }
    }
    Matrix<float> odd(3, 50);
    CHECK_THROWS_AS(score_items<float>(odd, items, part), ShapeError);
}
