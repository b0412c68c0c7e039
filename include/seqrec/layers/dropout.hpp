/// \file layers/dropout.hpp
/// Inverted dropout (MODELS.md §0): y = x * xi / (1 - p). The mask is drawn in forward from the
/// caller's stream and kept, so backward and gradient checks reuse it.
#pragma once

#include <cstdint>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/rng.hpp"

namespace seqrec {

/// Fills `mask` (rows x cols) with 0 or 1/(1-p). Two 32-bit draws per 64-bit word.
template <typename T>
void draw_dropout_mask(Buffer<T>& mask, Index rows, Index cols, double p, Rng& rng) {
    mask.resize(rows, cols);
    const auto threshold = static_cast<std::uint64_t>(p * 4294967296.0);
    const T keep = T(1.0 / (1.0 - p));
    T* m = mask.data();
    const Index n = mask.size();
    Index i = 0;
    for (; i + 1 < n; i += 2) {
        const std::uint64_t r = rng();
        m[i] = (r & 0xFFFFFFFFULL) < threshold ? T(0) : keep;
        m[i + 1] = (r >> 32) < threshold ? T(0) : keep;
    }
    if (i < n) m[i] = (rng() & 0xFFFFFFFFULL) < threshold ? T(0) : keep;
}

/// In-place dropout on x (any matrix). `mask` is left empty when dropout is off (rng == nullptr or
/// p == 0), and backward is then the identity.
template <typename Derived, typename T>
void dropout_forward(Eigen::MatrixBase<Derived>& x, Buffer<T>& mask, double p, Rng* rng) {
    if (!rng || p <= 0.0) {
        mask.resize(0, 0);
        return;
    }
    draw_dropout_mask(mask, x.rows(), x.cols(), p, *rng);
    x.array() *= mask.array();
}

/// In-place backward: dx = dy * mask (same xi as forward).
template <typename Derived, typename T>
void dropout_backward(Eigen::MatrixBase<Derived>& dy, const Buffer<T>& mask) {
    if (mask.size() != 0) dy.array() *= mask.array();
}

}  // namespace seqrec
