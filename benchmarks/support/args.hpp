/// \file support/args.hpp
/// Small helpers for the benchmark programs' command lines.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace seqrec::bench {

/// "a,b,,c" -> {"a", "b", "c"}.
inline std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

}  // namespace seqrec::bench
