/// \file kernels/gemm.hpp
/// Matrix products whose packing memory is reused. Eigen's GEMM and triangular-matrix kernels pack
/// blocks of their operands into scratch memory; blocks above EIGEN_STACK_ALLOCATION_LIMIT
/// (128 KiB) come from the heap on every call (design/PERF-NOTES.md §0). At seqrec's shapes that
/// is the full-softmax CE products (a few hundred rows by thousands of items) and the L x L
/// attention products once L passes about 180. These functions run the very same Eigen kernels
/// with the very same block sizes (so results are bit-identical to the plain expression) but hand
/// them packing memory that each thread keeps and reuses.
///
/// Uses Eigen 3.4's internal product kernels (`general_matrix_matrix_product`,
/// `product_triangular_matrix_matrix`, `level3_blocking`), which seqrec pins (CMake: Eigen 3.4).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <type_traits>

#include "seqrec/core/buffer.hpp"

namespace seqrec {
namespace detail {

/// Per-thread packing memory, grown to the largest product seen and then reused.
template <typename T>
struct PackingMemory {
    Vector<T> a, b;
    static PackingMemory& local() {
        thread_local PackingMemory memory;
        return memory;
    }
    T* block_a(Index n) {
        if (a.size() < n) a.resize(n);
        return a.data();
    }
    T* block_b(Index n) {
        if (b.size() < n) b.resize(n);
        return b.data();
    }
};

/// Eigen's blocking descriptor, pointed at our memory instead of memory it allocates.
template <typename T>
class ReusedBlocking : public Eigen::internal::level3_blocking<T, T> {
public:
    template <typename Sizes>
    explicit ReusedBlocking(const Sizes& s) {
        PackingMemory<T>& mem = PackingMemory<T>::local();
        this->m_mc = s.mc();
        this->m_nc = s.nc();
        this->m_kc = s.kc();
        this->m_blockA = mem.block_a(s.mc() * s.kc());
        this->m_blockB = mem.block_b(s.kc() * s.nc());
    }
};

/// True when Eigen's own call would place both packing blocks on the stack.
template <typename T, typename Sizes>
bool fits_stack(const Sizes& s) {
    const auto bytes = [](Index n) { return std::size_t(n) * sizeof(T); };
    return bytes(s.mc() * s.kc()) <= EIGEN_STACK_ALLOCATION_LIMIT &&
           bytes(s.kc() * s.nc()) <= EIGEN_STACK_ALLOCATION_LIMIT;
}

template <typename E>
constexpr int storage_order() {
    return (Eigen::internal::traits<std::remove_cv_t<std::remove_reference_t<E>>>::Flags &
            Eigen::RowMajorBit)
               ? Eigen::RowMajor
               : Eigen::ColMajor;
}

/// dst += alpha * lhs * rhs through Eigen's GEMM kernel with reused packing memory. Mirrors
/// Eigen's generic_product_impl<..., GemmProduct>::scaleAndAddTo for the single-thread case.
template <typename Dst, typename Lhs, typename Rhs>
void gemm_scale_add(Dst& dst, const Lhs& a_lhs, const Rhs& a_rhs, typename Dst::Scalar alpha) {
    namespace ei = Eigen::internal;
    using T = typename Dst::Scalar;
    using LhsTraits = ei::blas_traits<Lhs>;
    using RhsTraits = ei::blas_traits<Rhs>;
    const auto& lhs = LhsTraits::extract(a_lhs);
    const auto& rhs = RhsTraits::extract(a_rhs);
    const T actual_alpha =
        alpha * LhsTraits::extractScalarFactor(a_lhs) * RhsTraits::extractScalarFactor(a_rhs);
    constexpr int dst_order = storage_order<Dst>();
    ei::gemm_blocking_space<dst_order, T, T, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic> sizes(
        dst.rows(), dst.cols(), lhs.cols(), 1, true);  // computes sizes, allocates nothing
    ReusedBlocking<T> blocking(sizes);
    ei::general_matrix_matrix_product<
        Index, T, storage_order<decltype(lhs)>(), bool(LhsTraits::NeedToConjugate), T,
        storage_order<decltype(rhs)>(), bool(RhsTraits::NeedToConjugate), dst_order,
        1>::run(dst.rows(), dst.cols(), lhs.cols(), &lhs.coeffRef(0, 0), lhs.outerStride(),
                &rhs.coeffRef(0, 0), rhs.outerStride(), &dst.coeffRef(0, 0), dst.innerStride(),
                dst.outerStride(), actual_alpha, blocking, nullptr);
}

/// True when Eigen would run lhs * rhs -> dst as a blocked GEMM with heap-allocated packing.
template <typename Dst, typename Lhs, typename Rhs>
bool gemm_needs_heap(const Dst& dst, const Lhs& lhs, const Rhs& rhs) {
    namespace ei = Eigen::internal;
    using T = typename Dst::Scalar;
    if (rhs.rows() + dst.rows() + dst.cols() < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD) return false;
    if (dst.rows() <= 1 || dst.cols() <= 1 || lhs.cols() == 0) return false;  // GEMV / empty
    ei::gemm_blocking_space<storage_order<Dst>(), T, T, Eigen::Dynamic, Eigen::Dynamic,
                            Eigen::Dynamic>
        sizes(dst.rows(), dst.cols(), lhs.cols(), 1, true);
    return !fits_stack<T>(sizes);
}

/// Buffers and Params are Eigen Maps by inheritance; Eigen's kernel traits want the Map itself.
template <typename X>
auto& eigen_view(X& x) {
    using Plain = std::remove_const_t<X>;
    using Map = Eigen::Map<Matrix<typename Plain::Scalar>>;
    if constexpr (std::is_base_of<Map, Plain>::value && !std::is_same<Map, Plain>::value) {
        if constexpr (std::is_const<X>::value)
            return static_cast<const Map&>(x);
        else
            return static_cast<Map&>(x);
    } else {
        return x;
    }
}

template <typename Dst, typename Lhs, typename Rhs>
void gemm_assign(Dst& dst, const Lhs& lhs, const Rhs& rhs) {
    if (!gemm_needs_heap(dst, lhs, rhs)) {
        dst.noalias() = lhs * rhs;
        return;
    }
    dst.setZero();
    gemm_scale_add(dst, lhs, rhs, typename Dst::Scalar(1));
}

template <typename Dst, typename Lhs, typename Rhs>
void gemm_add(Dst& dst, const Lhs& lhs, const Rhs& rhs) {
    if (!gemm_needs_heap(dst, lhs, rhs)) {
        dst.noalias() += lhs * rhs;
        return;
    }
    gemm_scale_add(dst, lhs, rhs, typename Dst::Scalar(1));
}

template <typename D, typename Tri, typename Rhs>
void trmm_assign(D& dst, const Tri& tri, const Rhs& a_rhs) {
    namespace ei = Eigen::internal;
    using T = typename D::Scalar;
    using Nested = std::decay_t<typename Tri::NestedExpression>;
    constexpr int mode = Tri::Mode;
    constexpr bool lower = (mode & Eigen::Lower) == Eigen::Lower;
    const auto& a_lhs = tri.nestedExpression();
    using LhsTraits = ei::blas_traits<Nested>;
    using RhsTraits = ei::blas_traits<Rhs>;
    const auto& lhs = LhsTraits::extract(a_lhs);
    const auto& rhs = RhsTraits::extract(a_rhs);
    const Index rows = lower ? lhs.rows() : std::min(lhs.rows(), lhs.cols());
    const Index cols = rhs.cols();
    const Index depth = lower ? std::min(lhs.cols(), lhs.rows()) : lhs.cols();
    ei::gemm_blocking_space<storage_order<D>(), T, T, Eigen::Dynamic, Eigen::Dynamic,
                            Eigen::Dynamic, 4>
        sizes(rows, cols, depth, 1, false);
    if (fits_stack<T>(sizes)) {
        dst.noalias() = tri * a_rhs;
        return;
    }
    static_assert((mode & Eigen::UnitDiag) == 0, "trmm_assign: unit diagonals not supported");
    dst.setZero();
    ReusedBlocking<T> blocking(sizes);
    const T alpha = LhsTraits::extractScalarFactor(a_lhs) * RhsTraits::extractScalarFactor(a_rhs);
    ei::product_triangular_matrix_matrix<
        T, Index, mode, true, storage_order<decltype(lhs)>(), bool(LhsTraits::NeedToConjugate),
        storage_order<decltype(rhs)>(), bool(RhsTraits::NeedToConjugate), storage_order<D>(),
        D::InnerStrideAtCompileTime>::run(rows, cols, depth, &lhs.coeffRef(0, 0), lhs.outerStride(),
                                          &rhs.coeffRef(0, 0), rhs.outerStride(),
                                          &dst.coeffRef(0, 0), dst.innerStride(), dst.outerStride(),
                                          alpha, blocking);
}

}  // namespace detail

/// dst = lhs * rhs (dst sized by the caller; operands with direct access, possibly transposed
/// or scaled). Same result as `dst.noalias() = lhs * rhs`, with no heap allocation. Call it
/// outside Eigen's own threading (inside seqrec's parallel loops, or with one thread).
template <typename Dst, typename Lhs, typename Rhs>
void gemm_assign(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
    detail::gemm_assign(detail::eigen_view(dst), detail::eigen_view(lhs), detail::eigen_view(rhs));
}

/// dst += lhs * rhs, as `dst.noalias() += lhs * rhs`, with no heap allocation.
template <typename Dst, typename Lhs, typename Rhs>
void gemm_add(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
    detail::gemm_add(detail::eigen_view(dst), detail::eigen_view(lhs), detail::eigen_view(rhs));
}

/// dst's lower triangle (diagonal included) = lhs * rhs (operands may be scaled or transposed);
/// the strict upper triangle is left as it is. Same bits as `dst.triangularView<Eigen::Lower>() =
/// lhs * rhs`, which first zeroes the triangle column by column: on a row-major dst that is one
/// cache line per element: a third to a half of the block's own time in the ml-1m epoch profile.
/// Zeroing row by row and adding the product onto the zeros gives the same sums.
template <typename Dst, typename Lhs, typename Rhs>
void lower_product_assign(Dst& dst, const Lhs& lhs, const Rhs& rhs) {
    for (Index i = 0; i < dst.rows(); ++i)
        dst.row(i).head(std::min<Index>(i + 1, dst.cols())).setZero();
    dst.template triangularView<Eigen::Lower>() += lhs * rhs;
}

/// dst = tri * rhs for a triangular view `tri` (e.g. `A.triangularView<Eigen::Lower>()` or its
/// transpose), as `dst.noalias() = tri * rhs`, with no heap allocation.
template <typename Dst, typename Tri, typename Rhs>
void trmm_assign(Dst&& dst, const Tri& tri, const Rhs& rhs) {
    detail::trmm_assign(detail::eigen_view(dst), tri, detail::eigen_view(rhs));
}

}  // namespace seqrec
