/// \file layers/attention_refinement.hpp
/// AWRSR's attention-weight refinement (MODELS.md §4, reconstructed [I1]-[I6]): trainable n x n
/// matrices turn the host's attention matrix A into refined weights R that replace A in the value
/// aggregation. One set of matrices per layer, shared by the heads [I4]; no biases.
///   simple (M1):     R = softmax_causal(c (A W_Q')(A W_K')^T)                         (4.3)-(4.5)
///   value (M2):      R = (R_simple (A W_V')) masked to the causal set                 (4.6)-(4.7)
///   additive (M3):   R = A + R_simple                                                 (4.8)
///   stochastic (M4): U = A W_mu, G = ELU(A W_Sigma) + 1, R = softmax_causal(-c W2(U, G))
///   (4.9)-(4.12)
/// Compact windows: a window of L real items sits in slots n-L..n-1, so the full-width products
/// A_full W use rows n-L..n-1 of W (all n columns), and V' only needs its bottom-right L x L block.
#pragma once

#include <cmath>
#include <string>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/error.hpp"
#include "seqrec/core/param.hpp"
#include "seqrec/kernels/activations.hpp"
#include "seqrec/kernels/causal_softmax.hpp"
#include "seqrec/kernels/gemm.hpp"

namespace seqrec {

enum class Refinement { none, simple, value, additive, stochastic };

inline Refinement parse_refinement(const std::string& s) {
    if (s == "none") return Refinement::none;
    if (s == "simple" || s == "simp" || s == "m1") return Refinement::simple;
    if (s == "value" || s == "m2") return Refinement::value;
    if (s == "additive" || s == "add" || s == "m3") return Refinement::additive;
    if (s == "stochastic" || s == "stoc" || s == "m4") return Refinement::stochastic;
    throw ConfigError("refine must be none, simple, value, additive or stochastic, got '" + s +
                      "'");
}
inline const char* to_string(Refinement r) {
    switch (r) {
        case Refinement::simple:
            return "simple";
        case Refinement::value:
            return "value";
        case Refinement::additive:
            return "additive";
        case Refinement::stochastic:
            return "stochastic";
        default:
            return "none";
    }
}

template <typename T>
struct AttentionRefinement {
    /// Per head and window; reuse across calls.
    struct Cache {
        Buffer<T> Qp, Kp, Rs, Vp;                  // Q', K' (L x n), R_simple (L x L), V' (L x L)
        Buffer<T> U, Zs, G, g;                     // stochastic: U, A W_Sigma, G, sqrt(G) (L x n)
        Buffer<T> nu;                              // stochastic: |U_t|^2 + sum G_t (L x 1)
        Buffer<T> dS, dQ, dK, tmp, dVp, Gam, gam;  // backward scratch
    };
    Refinement mechanism = Refinement::none;
    Param<T> W1, W2, W3;  ///< simple/additive: W_Q', W_K'; value: + W_V'; stochastic: W_mu, W_Sigma
    double scale = 0.0;   ///< c; default 1/sqrt(n) [I2]

    AttentionRefinement() = default;
    AttentionRefinement(Refinement m, Index n, double c = 0.0)
        : mechanism(m), scale(c > 0.0 ? c : 1.0 / std::sqrt(double(n))) {
        if (m == Refinement::none) return;
        W1 = Param<T>(n, n, ParamRole::refinement);
        W2 = Param<T>(n, n, ParamRole::refinement);
        if (m == Refinement::value) W3 = Param<T>(n, n, ParamRole::refinement);
    }
    bool enabled() const { return mechanism != Refinement::none; }

    /// A (L x L, causal, rows sum to 1) -> R (L x L, zero above the diagonal).
    void forward(const ConstRef<T>& A, Buffer<T>& R, Cache& c) const {
        const Index L = A.rows();
        const T s = T(scale);
        if (mechanism == Refinement::stochastic) {
            c.U.resize(L, W1.cols());
            gemm_assign(c.U, A, W1.bottomRows(L));  // (4.9)
            c.Zs.resize(L, W2.cols());
            gemm_assign(c.Zs, A, W2.bottomRows(L));
            c.G = c.Zs.unaryExpr([](T v) { return (v > T(0) ? v : std::expm1(v)) + T(1); });
            c.g = c.G.cwiseSqrt();
            // D'_tj = |U_t|^2 + |U_j|^2 - 2 U_t.U_j + sum G_t + sum G_j - 2 g_t.g_j   (4.10)
            auto nu = c.nu.vector(L);
            nu = c.U.rowwise().squaredNorm() + c.G.rowwise().sum();
            R.resize(L, L);
            // Both products in full, then summed on the triangle: `tri = P1 + P2` without its
            // heap temporaries. The row-major buffers hold the bytes of Eigen's column-major
            // temporaries (the same kernel call), i.e. P^T: read them transposed.
            c.dQ.resize(L, L);
            c.dK.resize(L, L);
            gemm_assign(c.dQ, c.U, c.U.transpose());
            gemm_assign(c.dK, c.g, c.g.transpose());
            R.template triangularView<Eigen::Lower>() = (c.dQ + c.dK).transpose();
            for (Index t = 0; t < L; ++t)
                for (Index j = 0; j <= t; ++j) R(t, j) = -s * (nu(t) + nu(j) - T(2) * R(t, j));
            causal_softmax(R);  // (4.11)-(4.12)
            return;
        }
        c.Qp.resize(L, W1.cols());
        gemm_assign(c.Qp, A, W1.bottomRows(L));  // (4.3)
        c.Kp.resize(L, W2.cols());
        gemm_assign(c.Kp, A, W2.bottomRows(L));
        c.Rs.resize(L, L);
        lower_product_assign(c.Rs, s * c.Qp, c.Kp.transpose());  // (4.4)
        causal_softmax(c.Rs);                                    // (4.5)
        if (mechanism == Refinement::simple) {
            R = c.Rs;
        } else if (mechanism == Refinement::additive) {
            R = A + c.Rs;  // (4.8)
        } else {           // value (4.6)-(4.7)
            c.Vp.resize(L, L);
            gemm_assign(c.Vp, A, W3.bottomRightCorner(L, L));
            R.resize(L, L);
            trmm_assign(R, c.Rs.template triangularView<Eigen::Lower>(), c.Vp);
            R.template triangularView<Eigen::StrictlyUpper>().setZero();
        }
    }

    /// dR (L x L; read on the lower triangle) -> dA (assigned), adding parameter gradients
    /// (B.10)-(B.13). A and R are the forward input and output.
    void backward(const ConstRef<T>& A, const ConstRef<T>& R, const ConstRef<T>& dR, Cache& c,
                  AttentionRefinement& grad, Buffer<T>& dA) const {
        const Index L = A.rows();
        const T s = T(scale);
        if (mechanism == Refinement::stochastic) {
            c.dS = dR;
            causal_softmax_backward(R, c.dS);  // dS'
            c.dS *= -s;                        // dD' = -c dS'
            c.Gam = c.dS + c.dS.transpose();
            auto gam = c.gam.vector(L);
            gam = c.Gam.rowwise().sum();
            // Products first, scale after: a scaled one-row operand is copied to the heap.
            c.dQ.resize(L, c.U.cols());
            gemm_assign(c.dQ, c.Gam, c.U);  // dU = 2 (gam * U - Gam U)
            c.dQ *= T(-2);
            c.dQ += T(2) * (gam.asDiagonal() * c.U);
            // dG = gam 1^T - (Gam g) / g. Gam g is formed as (g^T Gam^T) in a row-major buffer:
            // the same kernel call, and bytes, as the column-major temporary of -(Gam g).
            c.tmp.resize(c.g.cols(), L);
            gemm_assign(c.tmp, c.g.transpose(), c.Gam.transpose());
            c.dK = -c.tmp.transpose();
            c.dK.array() /= c.g.array();
            c.dK.colwise() += gam;
            c.dK.array() *=
                c.Zs.unaryExpr([](T v) { return v > T(0) ? T(1) : std::exp(v); }).array();
            gemm_add(grad.W1.bottomRows(L), A.transpose(), c.dQ);
            gemm_add(grad.W2.bottomRows(L), A.transpose(), c.dK);
            dA.resize(L, L);
            gemm_assign(dA, c.dQ, W1.bottomRows(L).transpose());
            gemm_add(dA, c.dK, W2.bottomRows(L).transpose());
            return;
        }
        // dR_simple from the mechanism's output.
        if (mechanism == Refinement::value) {
            c.tmp = dR;
            c.tmp.template triangularView<Eigen::StrictlyUpper>().setZero();  // dPi = dR * 1_A
            c.dS.resize(L, L);
            gemm_assign(c.dS, c.tmp, c.Vp.transpose());  // dR_simple
            c.dVp.resize(L, L);
            gemm_assign(c.dVp, c.Rs.transpose(), c.tmp);  // dV'
            gemm_add(grad.W3.bottomRightCorner(L, L), A.transpose(), c.dVp);
            dA.resize(L, L);
            gemm_assign(dA, c.dVp, W3.bottomRightCorner(L, L).transpose());
        } else {
            c.dS = dR;
            if (mechanism == Refinement::additive)
                dA = dR;
            else
                dA.setZero(L, L);
        }
        causal_softmax_backward(c.Rs, c.dS);  // dS' (B.10)
        c.dS *= s;
        c.dQ.resize(L, c.Kp.cols());
        gemm_assign(c.dQ, c.dS, c.Kp);  // dQ' = c dS' K'
        c.dK.resize(L, c.Qp.cols());
        gemm_assign(c.dK, c.dS.transpose(), c.Qp);  // dK' = c dS'^T Q'
        gemm_add(grad.W1.bottomRows(L), A.transpose(), c.dQ);
        gemm_add(grad.W2.bottomRows(L), A.transpose(), c.dK);
        gemm_add(dA, c.dQ, W1.bottomRows(L).transpose());
        gemm_add(dA, c.dK, W2.bottomRows(L).transpose());
    }

    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        if (!enabled()) return;
        const bool stoc = mechanism == Refinement::stochastic;
        f(prefix + (stoc ? "W_mu" : "W_q"), W1);
        f(prefix + (stoc ? "W_sigma" : "W_k"), W2);
        if (mechanism == Refinement::value) f(prefix + "W_v", W3);
    }
};

}  // namespace seqrec
