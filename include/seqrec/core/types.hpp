/// \file core/types.hpp
/// Basic matrix types. Row-major throughout: row t of a sequence matrix is slot t (MODELS.md §0).
#pragma once

// Products stay single-threaded: seqrec parallelises over sequences and users itself, and
// Eigen's threaded GEMM busy-waits when another process holds a core. The CMake
// target defines this too, so that it holds whichever header a program includes first.
#ifndef EIGEN_DONT_PARALLELIZE
#define EIGEN_DONT_PARALLELIZE
#endif
#include <Eigen/Core>
#include <cstdint>

namespace seqrec {

using Index = Eigen::Index;

/// The longest window (maxlen) a model accepts: its n x n attention scores take 1 GiB per head
/// here. A larger value is a typo or an edited file, refused before anything is allocated.
inline constexpr Index kMaxWindow = 16384;

/// Dense row-major matrix; a window of L slots and width d is an (L x d) Matrix.
template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// A (1 x d) row, used for biases and layer-norm gains.
template <typename T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;
/// A column vector (per-row statistics).
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// Internal item id: 1..N, 0 is padding.
using ItemId = std::int32_t;

}  // namespace seqrec
