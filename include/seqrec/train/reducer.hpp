/// \file train/reducer.hpp
/// The seam between a process's own gradient (chunks reduced in a fixed order) and the optimiser
/// step: a GradientReducer sums the flat gradient across processes in place (MPI data parallel,
/// design/ARCHITECTURE-2.md problem 3). Without one, training is single-process.
#pragma once

#include "seqrec/core/types.hpp"

namespace seqrec {

template <typename T>
class GradientReducer {
public:
    virtual ~GradientReducer() = default;
    /// Replaces data[0..n) by its sum over every process, the same on each (deterministically:
    /// the same inputs give the same bits).
    virtual void sum(T* data, Index n) = 0;
    virtual int rank() const = 0;
    virtual int world() const = 0;
};

/// One process: the sum is the data itself.
template <typename T>
class LocalReducer final : public GradientReducer<T> {
public:
    void sum(T*, Index) override {}
    int rank() const override { return 0; }
    int world() const override { return 1; }
};

}  // namespace seqrec
