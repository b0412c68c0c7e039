/// \file core/error.hpp
/// One exception base with a few kinds, so callers can catch all of seqrec's errors or one kind.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace seqrec {

/// Base of every exception seqrec throws.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
/// A bad option or configuration value (names the option and the rule).
struct ConfigError : Error {
    using Error::Error;
};
/// Malformed input data (names file, line and problem).
struct DataError : Error {
    using Error::Error;
};
/// A file that cannot be read or written, or a corrupt / mismatched checkpoint.
struct IoError : Error {
    using Error::Error;
};
/// A malformed recommendation request (serve/request_json.hpp): names the field and the rule.
struct RequestError : Error {
    using Error::Error;
};
/// API misuse: matrices of the wrong shape.
struct ShapeError : Error {
    using Error::Error;
};

namespace detail {
/// A short, printable excerpt of input for an error message: bytes outside printable ASCII as
/// \xNN, cut after `max` characters (a binary file must not fill a terminal with raw bytes).
inline std::string printable(std::string_view s, std::size_t max = 40) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (out.size() >= max) return out + "...";
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += char(c);
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace detail

}  // namespace seqrec

/// Throws `Kind(message)` when `cond` is false; message is only built on failure.
#define SEQREC_CHECK(cond, Kind, message) \
    do {                                  \
        if (!(cond)) throw Kind(message); \
    } while (0)
