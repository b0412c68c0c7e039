// Early stopping: best epoch, patience counted in epochs between validations, metric names.
#include <doctest/doctest.h>

#include <seqrec/train/early_stopping.hpp>

using namespace seqrec;

namespace {
Metrics with(double ndcg10) {
    Metrics m;
    m.values = {{"NDCG@10", ndcg10}, {"MRR", 1.0 - ndcg10}};
    return m;
}
}  // namespace

TEST_CASE("early stopping keeps the first best epoch and stops after patience epochs") {
    EarlyStopping s("NDCG@10", 4);
    CHECK(s.update(1, with(0.10)));
    CHECK(s.update(2, with(0.20)));
    CHECK_FALSE(s.update(3, with(0.20)));  // ties are not gains
    CHECK_FALSE(s.should_stop());
    CHECK_FALSE(s.update(5, with(0.15), 2));
    CHECK_FALSE(s.should_stop());  // 3 epochs since the best
    CHECK_FALSE(s.update(6, with(0.19)));
    CHECK(s.should_stop());  // 4
    CHECK(s.best_epoch() == 2);
    CHECK(s.best_score() == 0.20);
}

TEST_CASE("patience 0 never stops, unknown metrics are rejected by name") {
    EarlyStopping s("MRR", 0);
    for (Index e = 1; e < 50; ++e) s.update(e, with(0.5));
    CHECK_FALSE(s.should_stop());
    CHECK(s.best_epoch() == 1);
    try {
        EarlyStopping bad("NDCG@7", 3);
        FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) ==
              "metric 'NDCG@7' is not one of HR@1, HR@5, HR@10, HR@20, NDCG@5, NDCG@10, NDCG@20, "
              "MRR");
    }
}
