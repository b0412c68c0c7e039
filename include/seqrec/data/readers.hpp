/// \file data/readers.hpp
/// Readers for the three input formats. Every error names file, line and problem.
///  - lines: `user item item ...` per line (S3-Rec / STOSA format of ../shared/data);
///  - pairs: `user item` per line, in time order (SASRec format);
///  - csv:   `user,item,timestamp` (comma or tab separated, optional header), sorted per user by
///           time, stable for equal timestamps.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/data/dataset.hpp"

namespace seqrec {

enum class DataFormat { lines, pairs, csv };

inline DataFormat parse_data_format(const std::string& s) {
    if (s == "lines") return DataFormat::lines;
    if (s == "pairs") return DataFormat::pairs;
    if (s == "csv" || s == "tsv") return DataFormat::csv;
    throw ConfigError("format must be lines, pairs or csv, got '" + s + "'");
}

namespace detail {

inline std::vector<std::string_view> split_fields(std::string_view line, char sep) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        if (sep == ' ') {  // any run of spaces / tabs
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
            if (i >= line.size()) break;
            std::size_t j = i;
            while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
            out.push_back(line.substr(i, j - i));
            i = j;
        } else {
            std::size_t j = line.find(sep, i);
            if (j == std::string_view::npos) j = line.size();
            std::string_view f = line.substr(i, j - i);
            while (!f.empty() && (f.front() == ' ')) f.remove_prefix(1);
            while (!f.empty() && (f.back() == ' ')) f.remove_suffix(1);
            out.push_back(f);
            i = j + 1;
            if (j + 1 == line.size()) out.push_back(std::string_view());
        }
    }
    return out;
}

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

/// Parses a positive id or throws "file:line: ...".
inline std::int64_t parse_id(std::string_view tok, const std::string& where, const char* what) {
    std::int64_t v = 0;
    const auto* end = tok.data() + tok.size();
    auto [p, ec] = std::from_chars(tok.data(), end, v);
    if (ec != std::errc() || p != end || tok.empty())
        throw DataError(where + ": " + what + " id '" + printable(tok) + "' is not an integer");
    if (v <= 0)
        throw DataError(where + ": " + what + " id " + std::to_string(v) +
                        " must be positive (0 is reserved for padding)");
    return v;
}

inline bool is_integer(std::string_view tok) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    return ec == std::errc() && p == tok.data() + tok.size() && !tok.empty();
}

inline std::string_view strip_cr(const std::string& line) {
    std::string_view v(line);
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    return v;
}

}  // namespace detail

struct ReadOptions {
    /// lines format: a user on two lines is an error (usually two files concatenated, or ids
    /// that collide); true appends the second line's items to the first's, in file order.
    bool merge_duplicate_users = false;
};

/// Reads `path` in `format`. Throws IoError (unreadable) or DataError (malformed, empty).
inline Dataset read_dataset(const std::string& path, DataFormat format,
                            const ReadOptions& options = {}) {
    std::ifstream in(path);
    if (!in) throw IoError(path + ": cannot open for reading");
    Dataset ds;
    {
        const auto slash = path.find_last_of("/\\");
        ds.name = slash == std::string::npos ? path : path.substr(slash + 1);
        const auto dot = ds.name.rfind('.');
        if (dot != std::string::npos && dot > 0) ds.name = ds.name.substr(0, dot);
    }
    struct Event {
        double time;
        std::size_t order;
        ItemId item;
    };
    std::vector<std::vector<Event>> events;  // csv only
    std::vector<std::size_t> first_line;     // lines: each user's line
    std::string line;
    std::size_t lineno = 0, order = 0;
    char csv_sep = 0;
    while (std::getline(in, line)) {
        ++lineno;
        const std::string_view v = detail::strip_cr(line);
        const std::string where = path + ":" + std::to_string(lineno);
        if (v.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
        if (format == DataFormat::lines) {
            const auto f = detail::split_fields(v, ' ');
            if (f.size() < 2)
                throw DataError(where + ": expected a user id followed by at least one item id");
            const std::int64_t user = detail::parse_id(f[0], where, "user");
            const auto u = ds.users.add(user);
            if (std::size_t(u) > ds.sequences.size()) {
                ds.sequences.emplace_back();
                first_line.push_back(lineno);
            } else if (!options.merge_duplicate_users) {
                throw DataError(where + ": user " + std::to_string(user) +
                                " already has a line (line " +
                                std::to_string(first_line[std::size_t(u) - 1]) +
                                "); the lines format holds one line per user (pass "
                                "--merge-duplicate-users to append it to the first)");
            }
            for (std::size_t i = 1; i < f.size(); ++i)
                ds.sequences[std::size_t(u) - 1].push_back(
                    ds.items.add(detail::parse_id(f[i], where, "item")));
        } else if (format == DataFormat::pairs) {
            const auto f = detail::split_fields(v, ' ');
            if (f.size() != 2)
                throw DataError(where + ": expected 2 fields (user item), got " +
                                std::to_string(f.size()));
            const auto u = ds.users.add(detail::parse_id(f[0], where, "user"));
            if (std::size_t(u) > ds.sequences.size()) ds.sequences.emplace_back();
            ds.sequences[std::size_t(u) - 1].push_back(
                ds.items.add(detail::parse_id(f[1], where, "item")));
        } else {
            if (!csv_sep) csv_sep = v.find('\t') != std::string_view::npos ? '\t' : ',';
            const auto f = detail::split_fields(v, csv_sep);
            if (f.size() != 3)
                throw DataError(where + ": expected 3 fields (user" + csv_sep + "item" + csv_sep +
                                "timestamp), got " + std::to_string(f.size()));
            if (lineno == 1 && !detail::is_integer(f[0]) && !detail::is_integer(f[1]))
                continue;  // header
            const auto u = ds.users.add(detail::parse_id(f[0], where, "user"));
            const auto item = ds.items.add(detail::parse_id(f[1], where, "item"));
            const std::string ts(f[2]);
            char* end = nullptr;
            const double time = std::strtod(ts.c_str(), &end);
            if (ts.empty() || end != ts.c_str() + ts.size())
                throw DataError(where + ": timestamp '" + detail::printable(ts) +
                                "' is not a number");
            if (std::size_t(u) > events.size()) events.emplace_back();
            events[std::size_t(u) - 1].push_back({time, order++, item});
        }
    }
    if (in.bad()) throw IoError(path + ": read error");
    if (format == DataFormat::csv) {
        ds.sequences.resize(events.size());
        for (std::size_t u = 0; u < events.size(); ++u) {
            auto& ev = events[u];
            std::stable_sort(ev.begin(), ev.end(),
                             [](const Event& a, const Event& b) { return a.time < b.time; });
            for (const auto& e : ev) ds.sequences[u].push_back(e.item);
        }
    }
    if (ds.sequences.empty())
        throw DataError(path + ":" + std::to_string(lineno) + ": no interactions in file");
    return ds;
}

}  // namespace seqrec
