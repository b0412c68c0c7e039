// Adam over several steps against values computed by hand (MODELS.md §1.10, PyTorch form:
// m_hat / (sqrt(v_hat) + eps), coupled L2), so a wrong moment update, bias correction or decay
// after the first step cannot pass.
#include <doctest/doctest.h>

#include <seqrec/core/param_arena.hpp>
#include <seqrec/optim/adam.hpp>
#include <vector>

using namespace seqrec;

namespace {
/// An item table of `rows` one-value rows and a scalar weight in one arena (l2_emb applies to
/// the table only); one row by default: two scalars.
struct TableAndWeight {
    Param<double> emb, w{1, 1, ParamRole::weight};
    ParamArena<double> arena;
    explicit TableAndWeight(Index rows = 1) : emb(rows, 1, ParamRole::item_table) {
        emb.setOnes();
        w.setOnes();
        arena.bind(*this);
    }
    TableAndWeight(const TableAndWeight& o) : emb(o.emb), w(o.w) { arena.bind(*this); }
    TableAndWeight& operator=(const TableAndWeight& o) {
        arena.copy_values(o.arena);
        return *this;
    }
    template <typename F>
    void for_each_param(const std::string& p, F&& f) {
        f(p + "embedding.item", emb);
        f(p + "block0.w", w);
    }
    ParamArena<double>& params() { return arena; }
    const ParamArena<double>& params() const { return arena; }
};
using TwoScalars = TableAndWeight;
}  // namespace

TEST_CASE("Adam: first step moves each weight by lr against the gradient sign") {
    AdamOptions o;
    o.lr = 0.1;
    Adam<double> adam(o);
    TwoScalars theta, grad;
    grad.emb(0, 0) = 3.0;
    grad.w(0, 0) = -0.5;
    adam.step(theta, grad);
    CHECK(theta.emb(0, 0) == doctest::Approx(0.9).epsilon(1e-6));
    CHECK(theta.w(0, 0) == doctest::Approx(1.1).epsilon(1e-6));
    o.weight_decay = 1.0;  // coupled L2: g = 0 + 1 * 1 -> still moves by lr
    Adam<double> wd(o);
    TwoScalars t2, g2;
    g2.emb(0, 0) = g2.w(0, 0) = 0.0;
    wd.step(t2, g2);
    CHECK(t2.w(0, 0) == doctest::Approx(0.9).epsilon(1e-6));
}

TEST_CASE("Adam: three steps match hand-computed values (beta2 0.98, lr 0.1)") {
    AdamOptions o;
    o.lr = 0.1;
    Adam<double> adam(o);
    TwoScalars theta, grad;
    // Step 1, g = 3: m = 0.3, v = 0.18, m_hat = 3, v_hat = 9 -> theta = 1 - 0.1 * 3 / 3 = 0.9.
    // Step 2, g = -1: m = 0.17, v = 0.1964, m_hat = 0.17 / 0.19, v_hat = 0.1964 / 0.0396
    //   -> theta = 0.9 - 0.1 * 0.894737 / 2.227015 = 0.859823.
    // Step 3, g = 0.5 -> 0.818945.
    const double g[] = {3.0, -1.0, 0.5};
    const double expect[] = {0.9000000003333333, 0.8598234939059421, 0.8189452540887282};
    for (int t = 0; t < 3; ++t) {
        grad.emb(0, 0) = grad.w(0, 0) = g[t];
        adam.step(theta, grad);
        CHECK(theta.emb(0, 0) == doctest::Approx(expect[t]).epsilon(1e-12));
        CHECK(theta.w(0, 0) == doctest::Approx(expect[t]).epsilon(1e-12));
    }
    CHECK(adam.steps() == 3);
}

TEST_CASE("Adam: coupled L2 and l2_emb over several steps (decay follows theta)") {
    AdamOptions o;
    o.lr = 0.1;
    o.l2_emb = 0.5;  // embedding tables only: g + 0.5 theta
    Adam<double> adam(o);
    TwoScalars theta, grad;
    const double g[] = {0.0, 2.0, -4.0};
    // Embedding: g + 0.5 theta with theta before the step. Step 1: g = 0.5, m = 0.05,
    // v = 0.005, m_hat = 0.5, v_hat = 0.25 -> 1 - 0.1 = 0.9; steps 2-3 by the same recurrences.
    const double expect_emb[] = {0.900000002, 0.8140741479970615, 0.8283311958299296};
    double plain = 1.0;  // no decay: the first step has g = 0 and does not move
    for (int t = 0; t < 3; ++t) {
        grad.emb(0, 0) = grad.w(0, 0) = g[t];
        adam.step(theta, grad);
        CHECK(theta.emb(0, 0) == doctest::Approx(expect_emb[t]).epsilon(1e-12));
        if (t == 0) CHECK(theta.w(0, 0) == plain);
    }
    CHECK(theta.w(0, 0) != theta.emb(0, 0));
}

TEST_CASE("Adam: a saved state resumes the same trajectory") {
    AdamOptions o;
    o.lr = 0.1;
    o.weight_decay = 0.01;
    Adam<double> straight(o);
    TwoScalars theta, grad;
    const double g[] = {3.0, -1.0, 0.5, 2.0};
    AdamState<double> saved;
    TwoScalars at_two;
    for (int t = 0; t < 4; ++t) {
        grad.emb(0, 0) = g[t];
        grad.w(0, 0) = -g[t];
        straight.step(theta, grad);
        if (t == 1) {
            saved = straight.state();
            at_two = theta;
        }
    }
    Adam<double> resumed(o);
    resumed.restore(saved);
    CHECK(resumed.steps() == 2);
    for (int t = 2; t < 4; ++t) {
        grad.emb(0, 0) = g[t];
        grad.w(0, 0) = -g[t];
        resumed.step(at_two, grad);
    }
    CHECK(at_two.emb(0, 0) == theta.emb(0, 0));  // bit for bit
    CHECK(at_two.w(0, 0) == theta.w(0, 0));
    CHECK(resumed.steps() == 4);
}

TEST_CASE("lazy Adam: an item row without a gradient keeps its value and moments") {
    // Row 0 has g = 3, -, 0.5 (absent in step 2); row 2 has 3, -1, -; row 1 never has one.
    // Hand-computed with the recurrences above at the global step (bias correction 1 - beta^t):
    // row 0 after step 3 uses the moments of step 1: m = 0.32, v = 0.1814 -> 0.832767.
    // Dense Adam moves row 0 in step 2 on its momentum alone (-> 0.832670, then 0.770503).
    const std::vector<std::vector<std::uint32_t>> rows = {{0, 2}, {2}, {0}};
    const double g0[] = {3.0, 0.0, 0.5}, g2[] = {3.0, -1.0, 0.0};
    const double lazy0[] = {0.9000000003333333, 0.9000000003333333, 0.8327673473903794};
    const double lazy2[] = {0.9000000003333333, 0.8598234939059421, 0.8598234939059421};
    const double dense0[] = {0.9000000003333333, 0.8326700237052805, 0.7705026189449402};
    for (bool lazy : {true, false}) {
        CAPTURE(lazy);
        AdamOptions o;
        o.lr = 0.1;
        o.lazy = lazy;
        Adam<double> adam(o);
        TableAndWeight theta(3), grad(3);
        grad.emb.setZero();
        for (int t = 0; t < 3; ++t) {
            grad.emb(0, 0) = g0[t];
            grad.emb(2, 0) = g2[t];
            grad.w(0, 0) = g0[t];
            adam.step(theta, grad, &rows[std::size_t(t)]);
            CHECK(theta.emb(0, 0) == doctest::Approx(lazy ? lazy0[t] : dense0[t]).epsilon(1e-12));
            if (lazy) CHECK(theta.emb(2, 0) == doctest::Approx(lazy2[t]).epsilon(1e-12));
            CHECK(theta.emb(1, 0) == 1.0);
            CHECK(theta.w(0, 0) == doctest::Approx(dense0[t]).epsilon(1e-12));  // dense always
        }
        // Without a row list every row is updated, lazy or not.
        TableAndWeight t2(3), g(3);
        g.emb(1, 0) = 2.0;
        Adam<double>(o).step(t2, g);
        CHECK(t2.emb(1, 0) == doctest::Approx(0.9).epsilon(1e-6));
    }
}
