/// \file support/guarded_main.hpp
/// Runs a benchmark's body and turns any library error (a malformed data file, a bad
/// configuration) into a one-line message and exit status 1 instead of std::terminate.
#pragma once

#include <cstdio>
#include <exception>

namespace seqrec::bench {

template <typename Body>
int guarded_main(Body&& body) {
    try {
        return body();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

}  // namespace seqrec::bench
