/// \file support/temp_dir.hpp
/// A scratch directory under the system temp folder, removed before and after use.
#pragma once

#include <filesystem>
#include <string>

namespace seqrec::test {

struct TempDir {
    std::string path;
    explicit TempDir(const std::string& name)
        : path((std::filesystem::temp_directory_path() / ("seqrec_test_" + name)).string()) {
        std::filesystem::remove_all(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace seqrec::test
