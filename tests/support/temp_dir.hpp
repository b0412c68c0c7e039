/// \file support/temp_dir.hpp
/// A scratch directory under the system temp folder, removed before and after use. The name
/// carries the process id: ctest runs test cases as separate processes in parallel, and two of
/// them with the same name must not share (and delete) one directory.
#pragma once

#include <filesystem>
#include <string>

#ifdef _WIN32
#include <process.h>
#else
#include <unistd.h>
#endif

namespace seqrec::test {

inline long process_id() {
#ifdef _WIN32
    return long(_getpid());
#else
    return long(getpid());
#endif
}

struct TempDir {
    std::string path;
    explicit TempDir(const std::string& name)
        : path((std::filesystem::temp_directory_path() /
                ("seqrec_test_" + name + "_" + std::to_string(process_id())))
                   .string()) {
        std::filesystem::remove_all(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace seqrec::test
