// AWRSR refinements (MODELS.md §4, B.10-B.13, invariant 5): gradient checks of the layer alone and
// inside the attention layer; structure of the refined weights.
#include <doctest/doctest.h>

#include <seqrec/core/param.hpp>
#include <seqrec/layers/multi_head_attention.hpp>

#include "support/attention_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

namespace {
const Refinement kAll[] = {Refinement::simple, Refinement::value, Refinement::additive,
                           Refinement::stochastic};

/// A random causal attention matrix (L x L) as a softmax of random scores.
Mat random_attention(Index L, std::mt19937_64& rng) {
    Mat S(L, L);
    fill_uniform(S, rng, -2, 2);
    causal_softmax(S);
    return S;
}
}  // namespace

TEST_CASE("refinement layer: dA and every matrix match central differences") {
    for (Refinement m : kAll) {
        for (Index L : {1, 5, 7}) {
            INFO("mechanism " << to_string(m) << " L " << L);
            std::mt19937_64 rng(51);
            const Index n = 7;
            AttentionRefinement<double> ref(m, n);
            ref.for_each_param("", [&](const std::string&, auto& w) { fill_uniform(w, rng); });
            AttentionRefinement<double> g = ref;
            zero_params<double>(g);
            Mat A = random_attention(L, rng), r(L, L);
            fill_uniform(r, rng);
            auto loss = [&] {
                AttentionRefinement<double>::Cache c;
                Buf R;
                ref.forward(A, R, c);
                return (R.array() * r.array()).sum();
            };
            AttentionRefinement<double>::Cache c;
            Buf R, dA;
            ref.forward(A, R, c);
            ref.backward(A, R, r, c, g, dA);
            // Only the causal entries of A are variables (the rest are exact zeros of the mask).
            Mat num = numeric_gradient(A, loss);
            Mat ana = dA;
            ana.triangularView<Eigen::StrictlyUpper>().setZero();
            num.triangularView<Eigen::StrictlyUpper>().setZero();
            CHECK(relative_error(ana, num) < 1e-6);
            check_param_gradients(ref, g, loss);
            // Causal structure: nothing above the diagonal (future slots).
            for (Index t = 0; t < L; ++t)
                for (Index j = t + 1; j < L; ++j) CHECK(R(t, j) == 0.0);
        }
    }
}

TEST_CASE("refinement invariants: M_add - M_simp = A, stochastic distances symmetric") {
    std::mt19937_64 rng(52);
    AttentionRefinement<double> simp(Refinement::simple, 6), add(Refinement::additive, 6);
    fill_uniform(simp.W1, rng);
    fill_uniform(simp.W2, rng);
    add.W1 = simp.W1;
    add.W2 = simp.W2;
    const Mat A = random_attention(6, rng);
    AttentionRefinement<double>::Cache c;
    Buf Rs, Ra;
    simp.forward(A, Rs, c);
    add.forward(A, Ra, c);
    CHECK(relative_error(Ra - Rs, A) < 1e-15);
    for (Index t = 0; t < 6; ++t) CHECK(Rs.row(t).sum() == doctest::Approx(1.0));
    // Identity init: M1 starts as softmax(c A A^T) (the similarity of attention rows).
    AttentionRefinement<double> id(Refinement::simple, 6);
    id.W1.setIdentity();
    id.W2.setIdentity();
    Buf Ri;
    Mat expect = (A * A.transpose()) / std::sqrt(6.0);
    id.forward(A, Ri, c);
    causal_softmax(expect);
    CHECK(relative_error(Ri, expect) < 1e-14);
}

TEST_CASE("attention with a refinement: gradient check and causality") {
    for (Refinement m : kAll) {
        for (double p : {0.0, 0.3}) {
            INFO("mechanism " << to_string(m) << " p " << p);
            std::mt19937_64 rng(53);
            MultiHeadAttention<double> attn(4, 2, p);
            attn.refine = AttentionRefinement<double>(m, 8);
            randomize(attn, rng);
            const Index L = 6;
            Mat Z = random_input(L, 4, rng), X = random_input(L, 4, rng);
            const Mat O = check_attention_gradients(attn, Z, X, 4);
            if (p == 0.0) {  // causality (invariant 1)
                MultiHeadAttention<double>::Cache c;
                Buf O2;
                Z.row(5).setConstant(2.0);
                X.row(5).setConstant(-1.0);
                attn.forward(Z, X, O2, c, nullptr);
                CHECK(O.topRows(5) == O2.topRows(5));
            }
        }
    }
}
