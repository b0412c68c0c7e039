/// \file train/mpi_process_group.hpp
/// The processes of an `mpirun` launch as a ProcessGroup (core/process_group.hpp). Optional: the
/// rest of the library never includes this header; a program that does links MPI (CMake:
/// seqrec::mpi, present when find_package(MPI) succeeds).
#pragma once

#include <mpi.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/process_group.hpp"

namespace seqrec {

/// MPI_Init on construction, MPI_Finalize on destruction (if this object initialised it).
/// Funnelled threading: only the thread that created it makes MPI calls, between OpenMP regions.
class MpiSession {
public:
    MpiSession(int* argc, char*** argv) {
        int done = 0;
        MPI_Initialized(&done);
        if (done) return;
        int provided = 0;
        MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
        owner_ = true;
    }
    ~MpiSession() {
        int done = 0;
        MPI_Finalized(&done);
        if (owner_ && !done) MPI_Finalize();
    }
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

private:
    bool owner_ = false;
};

class MpiProcessGroup final : public ProcessGroup {
public:
    explicit MpiProcessGroup(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
        MPI_Comm_rank(comm_, &rank_);
        MPI_Comm_size(comm_, &world_);
    }
    int rank() const override { return rank_; }
    int world() const override { return world_; }

    void all_gather(const std::vector<char>& mine, std::vector<char>& all,
                    std::vector<std::size_t>& offsets) override {
        const long long n = static_cast<long long>(mine.size());
        sizes_.resize(std::size_t(world_));
        check(MPI_Allgather(&n, 1, MPI_LONG_LONG, sizes_.data(), 1, MPI_LONG_LONG, comm_),
              "MPI_Allgather");
        offsets.assign(std::size_t(world_) + 1, 0);
        counts_.resize(std::size_t(world_));
        displs_.resize(std::size_t(world_));
        for (int r = 0; r < world_; ++r) {
            const std::size_t at = offsets[std::size_t(r)];
            SEQREC_CHECK(at + std::size_t(sizes_[std::size_t(r)]) <= std::size_t(INT_MAX),
                         ConfigError,
                         "MPI exchange of " + std::to_string(at + sizes_[std::size_t(r)]) +
                             " bytes exceeds MPI's int counts: use a smaller --batch or more "
                             "chunks per process");
            counts_[std::size_t(r)] = int(sizes_[std::size_t(r)]);
            displs_[std::size_t(r)] = int(at);
            offsets[std::size_t(r) + 1] = at + std::size_t(sizes_[std::size_t(r)]);
        }
        all.resize(offsets.back());
        check(MPI_Allgatherv(mine.data(), int(n), MPI_BYTE, all.data(), counts_.data(),
                             displs_.data(), MPI_BYTE, comm_),
              "MPI_Allgatherv");
    }
    void sum(std::int64_t* v, Index n) override {
        SEQREC_CHECK(n <= Index(INT_MAX), ConfigError, "MPI sum of more than INT_MAX values");
        check(MPI_Allreduce(MPI_IN_PLACE, v, int(n), MPI_INT64_T, MPI_SUM, comm_), "MPI_Allreduce");
    }

private:
    static void check(int rc, const char* what) {
        SEQREC_CHECK(rc == MPI_SUCCESS, IoError, std::string(what) + " failed");
    }
    MPI_Comm comm_;
    int rank_ = 0, world_ = 1;
    std::vector<long long> sizes_;
    std::vector<int> counts_, displs_;
};

/// MPI and the group of every process when mpirun started this one (launched_by_mpirun()),
/// else nothing: a program runs alone or as one of a group with the same code.
class MpiLaunch {
public:
    MpiLaunch(int* argc, char*** argv) {
        if (!launched_by_mpirun()) return;
        session_ = std::make_unique<MpiSession>(argc, argv);
        group_ = std::make_unique<MpiProcessGroup>();
    }
    ProcessGroup* group() const { return group_.get(); }
    /// Ends every process of the launch: after an error on one, the others would wait in a
    /// collective forever. Returns `code` when alone.
    int abort(int code) const {
        if (group_) MPI_Abort(MPI_COMM_WORLD, code);
        return code;
    }

private:
    std::unique_ptr<MpiSession> session_;  // declared first: finalised after the group is gone
    std::unique_ptr<MpiProcessGroup> group_;
};

}  // namespace seqrec
