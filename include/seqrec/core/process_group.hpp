/// \file core/process_group.hpp
/// The processes of a data-parallel run (MPI ranks; design/ARCHITECTURE-2.md problem 3), seen by
/// training and evaluation through two collective operations. Every process holds the model and
/// the data, runs the same batches and takes the same optimiser step; what it computes alone is
/// its share of each batch's fixed chunks and of each evaluation's fixed user blocks.
///
/// Determinism: nothing here adds floats across processes. Chunk gradients travel whole and every
/// process sums them in chunk order, exactly as one process does; evaluation ranks are integers.
/// So 1, 2 or 3 processes give the same bits (MPI_Allreduce's float order is unspecified).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <utility>
#include <vector>

#include "seqrec/core/types.hpp"

namespace seqrec {

class ProcessGroup {
public:
    virtual ~ProcessGroup() = default;
    virtual int rank() const = 0;
    virtual int world() const = 0;
    /// Collective: every process passes its bytes; on return `all` holds every process's bytes in
    /// rank order and offsets[r] .. offsets[r + 1] are process r's (offsets has world() + 1).
    virtual void all_gather(const std::vector<char>& mine, std::vector<char>& all,
                            std::vector<std::size_t>& offsets) = 0;
    /// Collective: v[0, n) becomes its sum over every process (integers: exact in any order).
    virtual void sum(std::int64_t* v, Index n) = 0;
};

/// The contiguous part [first, second) of items 0..count-1 that process `rank` of `world` owns.
/// Fixed by the three numbers alone, so every process agrees on every owner.
inline std::pair<Index, Index> owned_range(Index count, int rank, int world) {
    return {count * rank / world, count * (rank + 1) / world};
}

/// True when this process was started by an MPI launcher with more than one process (Open MPI,
/// MPICH / Hydra): only then is it worth initialising MPI.
inline bool launched_by_mpirun() {
    for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
        const char* v = std::getenv(var);
        if (v && std::atoi(v) > 1) return true;
    }
    return false;
}

/// One process: collectives are the identity.
class LocalProcessGroup final : public ProcessGroup {
public:
    int rank() const override { return 0; }
    int world() const override { return 1; }
    void all_gather(const std::vector<char>& mine, std::vector<char>& all,
                    std::vector<std::size_t>& offsets) override {
        all = mine;
        offsets = {0, mine.size()};
    }
    void sum(std::int64_t*, Index) override {}
};

}  // namespace seqrec
