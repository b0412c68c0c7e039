/// \file io/atomic_file.hpp
/// Writes a file via `path.tmp` + rename, so readers never see half a file. The data is synced
/// to the disk before the rename, and the directory after it: otherwise a crash (power loss) can
/// leave the new name pointing at an empty file.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>

#include "seqrec/core/error.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace seqrec {

namespace detail {
/// fsync of a file or directory; false when it cannot be opened or synced (where the platform
/// has no such call, true: nothing to do).
inline bool sync_path(const std::string& path, bool directory) {
#if defined(__unix__) || defined(__APPLE__)
    const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
#else
    (void)path;
    (void)directory;
    return true;
#endif
}
inline std::string parent_directory(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace detail

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
    if (!detail::sync_path(tmp, false)) {
        std::remove(tmp.c_str());
        throw IoError(path + ": cannot sync '" + tmp + "' to the disk");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw IoError(path + ": cannot rename '" + tmp + "' into place");
    }
    detail::sync_path(detail::parent_directory(path), true);  // best effort: the rename itself
}

}  // namespace seqrec
