/// \file core/buffer.hpp
/// Reusable working memory. A `Buffer` is a row-major matrix view over storage it owns, with a
/// capacity: resizing within the capacity never touches the heap. Windows change length from one
/// sequence to the next, and a plain Eigen matrix frees and reallocates on every such change; the
/// allocator then hands the memory back to the kernel and every window faults it in again
/// (design/PERF-NOTES.md §0). Caches and workspaces hold Buffers, so a steady-state training step,
/// evaluation pass or request allocates nothing once each buffer has seen its largest shape.
#pragma once

#include <algorithm>
#include <type_traits>
#include <utility>

#include "seqrec/core/types.hpp"

namespace seqrec {

/// T in a non-deduced context: lets a function deduce T from its other arguments.
template <typename T>
struct type_identity {
    using type = T;
};

/// Read-only view of any row-major matrix with unit inner stride (Matrix, Buffer, a block of
/// either): binds without a copy.
template <typename T>
using ConstRef = Eigen::Ref<const Matrix<typename type_identity<T>::type>>;

template <typename T>
class Buffer : public Eigen::Map<Matrix<T>> {
public:
    using Base = Eigen::Map<Matrix<T>>;

    Buffer() : Base(nullptr, 0, 0) {}
    Buffer(Index rows, Index cols) : Base(nullptr, 0, 0) { resize(rows, cols); }
    Buffer(const Buffer& o) : Base(nullptr, 0, 0) { *this = o; }
    /// A buffer holding a copy of `e` (explicit: copies allocate).
    template <typename Derived>
    explicit Buffer(const Eigen::DenseBase<Derived>& e) : Base(nullptr, 0, 0) {
        *this = e;
    }
    Buffer(Buffer&& o) noexcept : Base(nullptr, 0, 0) { swap(o); }
    Buffer& operator=(const Buffer& o) {
        if (this != &o) {
            resize(o.rows(), o.cols());
            Base::operator=(static_cast<const Base&>(o));
        }
        return *this;
    }
    Buffer& operator=(Buffer&& o) noexcept {
        swap(o);
        return *this;
    }
    /// Resizes to the expression's shape (within capacity when possible), then assigns it, as a
    /// Matrix would. A product on the right goes through a temporary: write `noalias()` for those.
    /// The expression must not read this buffer when the assignment grows it past its capacity.
    template <typename Derived>
    Buffer& operator=(const Eigen::DenseBase<Derived>& e) {
        resize(e.rows(), e.cols());
        if constexpr (std::is_base_of<Eigen::ArrayBase<Derived>, Derived>::value)
            this->array() = e.derived();  // an array expression assigned to a matrix
        else
            Base::operator=(e.derived());
        return *this;
    }

    /// New shape; contents are unspecified (like Matrix::resize). Allocates only above capacity.
    Buffer& resize(Index rows, Index cols) {
        if (rows * cols > storage_.size()) storage_.resize(rows * cols);
        new (static_cast<Base*>(this)) Base(storage_.data(), rows, cols);  // re-seat the view
        return *this;
    }
    /// `rows` rows, keeping the existing ones (row-major: they stay where they are), for packs
    /// filled window by window. Above capacity it grows to at least twice the old capacity.
    Buffer& conservative_resize_rows(Index rows) {
        const Index cols = this->cols(), used = this->size();
        if (rows * cols > storage_.size()) {
            Vector<T> bigger(std::max(rows * cols, 2 * storage_.size()));
            bigger.head(used) = storage_.head(used);
            storage_.swap(bigger);
        }
        new (static_cast<Base*>(this)) Base(storage_.data(), rows, cols);
        return *this;
    }
    /// The first n scalars as an aligned column vector (the buffer becomes n x 1): per-row
    /// statistics keep the vector code paths (and summation order) of an Eigen Vector.
    Eigen::Map<Vector<T>, Eigen::AlignedMax> vector(Index n) {
        resize(n, 1);
        return Eigen::Map<Vector<T>, Eigen::AlignedMax>(storage_.data(), n);
    }
    Buffer& setZero(Index rows, Index cols) {
        resize(rows, cols);
        Base::setZero();
        return *this;
    }
    using Base::setZero;

    /// `buf.noalias() = A * B` resizes `buf` first, like Matrix::noalias() does.
    class NoAlias {
    public:
        explicit NoAlias(Buffer& b) : b_(b) {}
        template <typename Derived>
        Buffer& operator=(const Eigen::DenseBase<Derived>& e) {
            b_.resize(e.rows(), e.cols());
            static_cast<Base&>(b_).noalias() = e.derived();
            return b_;
        }
        template <typename Derived>
        Buffer& operator+=(const Eigen::DenseBase<Derived>& e) {
            static_cast<Base&>(b_).noalias() += e.derived();
            return b_;
        }

    private:
        Buffer& b_;
    };
    NoAlias noalias() { return NoAlias(*this); }

    void swap(Buffer& o) noexcept {
        const Index r = this->rows(), c = this->cols(), ro = o.rows(), co = o.cols();
        storage_.swap(o.storage_);
        new (static_cast<Base*>(this)) Base(storage_.data(), ro, co);
        new (static_cast<Base*>(&o)) Base(o.storage_.data(), r, c);
    }

private:
    Vector<T> storage_;
};

template <typename T>
void swap(Buffer<T>& a, Buffer<T>& b) noexcept {
    a.swap(b);
}

}  // namespace seqrec
