/// \file io/atomic_file.hpp
/// Writes a file via `path.tmp` + rename, so readers never see half a file.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>

#include "seqrec/core/error.hpp"

namespace seqrec {

/// Calls write(std::ostream&) on a temporary file next to `path`, then renames it over `path`.
/// On any failure the temporary is removed and IoError is thrown; `path` is left untouched.
template <typename Writer>
void write_file_atomically(const std::string& path, Writer&& write) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw IoError(path + ": cannot open '" + tmp + "' for writing");
        try {
            write(out);
        } catch (...) {
            out.close();
            std::remove(tmp.c_str());
            throw;
        }
        out.flush();
        if (!out) {
            out.close();
            std::remove(tmp.c_str());
            throw IoError(path + ": write failed (disk full?)");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw IoError(path + ": cannot rename '" + tmp + "' into place");
    }
}

}  // namespace seqrec
