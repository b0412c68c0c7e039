/// \file layers/dropout.hpp
/// Inverted dropout (MODELS.md §0): y = x * xi / (1 - p). The mask is drawn in forward from the
/// caller's stream and kept, so backward and gradient checks reuse it.
#pragma once

#include <algorithm>
#include <cstdint>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/rng.hpp"

namespace seqrec {

namespace detail {
/// SplitMix64's output function of a counter: independent bits per index, so a mask's loop has
/// no carried state and vectorises, and any subset of it (a lower triangle) can be drawn alone.
inline std::uint64_t counter_bits(std::uint64_t key, std::uint64_t index) {
    std::uint64_t z = key + (index + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
}  // namespace detail

/// Fills `mask` (rows x cols) with 0 or 1/(1-p), taking one draw from `rng` as the mask's key;
/// columns 2k and 2k+1 of a row share one 64-bit word (32 bits each). With `lower_only`, only
/// the lower triangle (j <= i) is drawn and the rest is 0: attention weights are causal, and
/// drawing the masked-out half was a quarter of a training step (profiled on ml-1m).
template <typename T>
void draw_dropout_mask(Buffer<T>& mask, Index rows, Index cols, double p, Rng& rng,
                       bool lower_only = false) {
    mask.resize(rows, cols);
    const auto threshold = static_cast<std::uint64_t>(p * 4294967296.0);
    const T keep = T(1.0 / (1.0 - p));
    const std::uint64_t key = rng();
    const Index words_per_row = (cols + 1) / 2;
    for (Index r = 0; r < rows; ++r) {
        T* m = mask.data() + r * cols;
        const Index n = lower_only ? std::min(cols, r + 1) : cols;
        const Index pairs = n / 2;
        const std::uint64_t first = std::uint64_t(r * words_per_row);
        for (Index k = 0; k < pairs; ++k) {
            const std::uint64_t b = detail::counter_bits(key, first + std::uint64_t(k));
            m[2 * k] = (b & 0xFFFFFFFFULL) < threshold ? T(0) : keep;
            m[2 * k + 1] = (b >> 32) < threshold ? T(0) : keep;
        }
        if (n % 2) {
            const std::uint64_t b = detail::counter_bits(key, first + std::uint64_t(pairs));
            m[n - 1] = (b & 0xFFFFFFFFULL) < threshold ? T(0) : keep;
        }
        for (Index j = n; j < cols; ++j) m[j] = T(0);
    }
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
