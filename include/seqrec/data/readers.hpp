/// \file data/readers.hpp
/// Readers for interaction logs. Every error names file, line and problem.
///  - lines: `user item item ...` per line (S3-Rec / STOSA format of ../shared/data);
///  - pairs: `user item` per line, in time order (SASRec format);
///  - timestamped tables, one interaction per row, sorted per user by time, stable on ties
///    (file order): csv (comma), tsv (tab), movielens (`user::item::rating::time`, as in
///    MovieLens' ratings.dat), recbole (`.inter`: tab-separated, typed header
///    `user_id:token item_id:token ... timestamp:float`). csv and tsv take an optional header;
///    with one, columns are chosen by name (ReadOptions), and any other columns are ignored.
/// Ids are positive integers. ReadOptions can then drop consecutive repeats and apply a k-core.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <istream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/data/dataset.hpp"
#include "seqrec/data/filters.hpp"

namespace seqrec {

enum class DataFormat { lines, pairs, csv, tsv, movielens, recbole };

inline DataFormat parse_data_format(const std::string& s) {
    if (s == "lines") return DataFormat::lines;
    if (s == "pairs") return DataFormat::pairs;
    if (s == "csv") return DataFormat::csv;
    if (s == "tsv") return DataFormat::tsv;
    if (s == "movielens") return DataFormat::movielens;
    if (s == "recbole") return DataFormat::recbole;
    throw ConfigError("format must be lines, pairs, csv, tsv, movielens or recbole, got '" + s +
                      "'");
}

/// The format a file name suggests: .csv, .tsv, .inter (RecBole), .dat (MovieLens), else lines.
inline DataFormat data_format_for_path(const std::string& path) {
    auto ends = [&](const char* ext) {
        const std::string e(ext);
        return path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
    };
    if (ends(".csv")) return DataFormat::csv;
    if (ends(".tsv")) return DataFormat::tsv;
    if (ends(".inter")) return DataFormat::recbole;
    if (ends(".dat")) return DataFormat::movielens;
    return DataFormat::lines;
}

namespace detail {

/// Fields of `line`: for sep " ", runs of spaces and tabs separate; otherwise each `sep`
/// separates (so empty fields count) and fields lose surrounding spaces and double quotes.
inline std::vector<std::string_view> split_fields(std::string_view line, std::string_view sep) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    if (sep == " ") {
        while (i < line.size()) {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
            if (i >= line.size()) break;
            std::size_t j = i;
            while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
            out.push_back(line.substr(i, j - i));
            i = j;
        }
        return out;
    }
    while (true) {
        std::size_t j = line.find(sep, i);
        if (j == std::string_view::npos) j = line.size();
        std::string_view f = line.substr(i, j - i);
        while (!f.empty() && f.front() == ' ') f.remove_prefix(1);
        while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
        if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
        out.push_back(f);
        if (j == line.size()) return out;
        i = j + sep.size();
    }
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
    /// Timestamped tables with a header: the columns to read, by name (case-insensitive, a
    /// RecBole `:type` suffix ignored). Empty = the first present of user_id, user, userid /
    /// item_id, item, itemid, movie_id, movieid / timestamp, time, ts.
    std::string user_column, item_column, time_column;
    /// After sorting: drop an interaction whose item equals the user's previous one.
    bool drop_consecutive_repeats = false;
    /// Then keep only users and items with at least k interactions, repeated until stable
    /// (0 or 1 = keep all).
    Index k_core = 0;
    /// A line longer than this is an error (the input is not an interaction log).
    std::size_t max_line_bytes = std::size_t(64) << 20;
};

namespace detail {

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
}

inline bool is_number(std::string_view tok) {
    if (tok.empty()) return false;
    const std::string t(tok);
    char* end = nullptr;
    std::strtod(t.c_str(), &end);
    return end == t.c_str() + t.size();
}

/// Which fields of a timestamped table hold user, item and time.
struct TableColumns {
    std::size_t user = 0, item = 1, time = 2, fields = 3;
    bool header = false;
};

/// Columns from a header row (`names`), by ReadOptions' names or the defaults.
inline TableColumns columns_from_header(const std::vector<std::string_view>& names,
                                        const ReadOptions& o, const std::string& where) {
    std::vector<std::string> norm;
    std::string listed;
    for (auto n : names) {
        const auto colon = n.find(':');  // RecBole: name:type
        norm.push_back(lower(colon == std::string_view::npos ? n : n.substr(0, colon)));
        listed += (listed.empty() ? "" : ", ") + printable(n);
    }
    auto find = [&](const std::string& given, std::initializer_list<const char*> defaults,
                    const char* what, const char* flag) {
        std::vector<std::string> wanted;
        if (!given.empty())
            wanted.push_back(lower(given));
        else
            for (const char* d : defaults) wanted.push_back(d);
        for (const auto& w : wanted)
            for (std::size_t i = 0; i < norm.size(); ++i)
                if (norm[i] == w) return i;
        std::string looked;
        for (const auto& w : wanted) looked += (looked.empty() ? "" : ", ") + w;
        throw DataError(where + ": no " + what + " column (looked for " + looked +
                        "; the header has " + listed + "); name it with " + flag);
    };
    TableColumns c;
    c.header = true;
    c.fields = names.size();
    c.user = find(o.user_column, {"user_id", "user", "userid"}, "user", "--user-column");
    c.item = find(o.item_column, {"item_id", "item", "itemid", "movie_id", "movieid"}, "item",
                  "--item-column");
    c.time = find(o.time_column, {"timestamp", "time", "ts"}, "timestamp", "--time-column");
    return c;
}

inline const char* separator_of(DataFormat f) {
    switch (f) {
        case DataFormat::csv:
            return ",";
        case DataFormat::movielens:
            return "::";
        default:
            return "\t";  // tsv, recbole
    }
}

}  // namespace detail

namespace detail {
/// std::getline with a bound: DataError naming the line when it is longer than `limit` bytes.
/// Past ReadOptions::max_line_bytes (64 MiB: a user with millions of items in the lines format)
/// the input is not an interaction log (`--data /dev/zero`), and reading on would fill memory.
inline bool read_bounded_line(std::istream& in, std::string& line, std::size_t limit,
                              const std::string& path, std::size_t lineno) {
    line.clear();
    std::streambuf* sb = in.rdbuf();
    if (!sb) return false;
    for (;;) {
        const auto c = sb->sbumpc();
        if (c == std::char_traits<char>::eof()) {
            in.setstate(std::ios::eofbit);
            return !line.empty();
        }
        if (c == '\n') return true;
        if (line.size() >= limit)
            throw DataError(path + ":" + std::to_string(lineno) + ": the line is longer than " +
                            std::to_string(limit) + " bytes (not an interaction log?)");
        line.push_back(char(c));
    }
}
}  // namespace detail

/// Reads interactions from `in` in `format`; `path` names the source in messages. Throws
/// DataError (malformed, empty), ConfigError (options that do not fit the format) or IoError.
inline Dataset read_dataset(std::istream& in, const std::string& path, DataFormat format,
                            const ReadOptions& options = {}) {
    Dataset ds;
    const bool table = format != DataFormat::lines && format != DataFormat::pairs;
    const bool named = !options.user_column.empty() || !options.item_column.empty() ||
                       !options.time_column.empty();
    if (named && (format == DataFormat::lines || format == DataFormat::pairs ||
                  format == DataFormat::movielens))
        throw ConfigError(path + ": column names are for csv, tsv and recbole files with a header");
    struct Event {
        double time;
        std::size_t order;
        ItemId item;
    };
    std::vector<std::vector<Event>> events;  // timestamped tables
    std::vector<std::size_t> first_line;     // lines: each user's line
    std::string line;
    std::size_t lineno = 0, order = 0;
    std::string sep = detail::separator_of(format);
    detail::TableColumns cols;
    if (format == DataFormat::movielens) cols = {0, 1, 3, 4, false};
    bool first = true;
    while (detail::read_bounded_line(in, line, options.max_line_bytes, path, lineno + 1)) {
        ++lineno;
        std::string_view v = detail::strip_cr(line);
        if (lineno == 1 && v.substr(0, 3) == "\xEF\xBB\xBF") v.remove_prefix(3);  // UTF-8 BOM
        const std::string where = path + ":" + std::to_string(lineno);
        if (v.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
        if (format == DataFormat::lines) {
            const auto f = detail::split_fields(v, " ");
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
            continue;
        }
        if (format == DataFormat::pairs) {
            const auto f = detail::split_fields(v, " ");
            if (f.size() != 2)
                throw DataError(where + ": expected 2 fields (user item), got " +
                                std::to_string(f.size()));
            const auto u = ds.users.add(detail::parse_id(f[0], where, "user"));
            if (std::size_t(u) > ds.sequences.size()) ds.sequences.emplace_back();
            ds.sequences[std::size_t(u) - 1].push_back(
                ds.items.add(detail::parse_id(f[1], where, "item")));
            continue;
        }
        // A timestamped table. A csv file whose first row has tabs and no comma is a tsv one.
        if (first && format == DataFormat::csv && v.find(',') == std::string_view::npos &&
            v.find('\t') != std::string_view::npos)
            sep = "\t";
        const auto f = detail::split_fields(v, sep);
        if (first) {
            first = false;
            bool any_number = false;
            for (auto x : f) any_number = any_number || detail::is_number(x);
            // A header names columns: no field of it is a number (a data row has a timestamp).
            if (format == DataFormat::recbole || (format != DataFormat::movielens && !any_number)) {
                cols = detail::columns_from_header(f, options, where);
                continue;
            }
            if (named)
                throw ConfigError(where +
                                  ": columns are chosen by name, but the file has no "
                                  "header row");
        }
        if (f.size() != cols.fields) {
            const char* shape = format == DataFormat::movielens ? " (user::item::rating::timestamp)"
                                : cols.header                   ? " (as many as the header)"
                                                                : " (user, item, timestamp)";
            throw DataError(where + ": expected " + std::to_string(cols.fields) + " fields" +
                            shape + ", got " + std::to_string(f.size()));
        }
        const auto u = ds.users.add(detail::parse_id(f[cols.user], where, "user"));
        const auto item = ds.items.add(detail::parse_id(f[cols.item], where, "item"));
        const std::string ts(f[cols.time]);
        char* end = nullptr;
        const double time = std::strtod(ts.c_str(), &end);
        if (ts.empty() || end != ts.c_str() + ts.size() || !std::isfinite(time))
            throw DataError(where + ": timestamp '" + detail::printable(ts) + "' is not a number");
        if (std::size_t(u) > events.size()) events.emplace_back();
        events[std::size_t(u) - 1].push_back({time, order++, item});
    }
    if (in.bad()) throw IoError(path + ": read error");
    if (table) {
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
    if (options.drop_consecutive_repeats) drop_consecutive_repeats(ds);
    if (options.k_core > 1) {
        k_core(ds, options.k_core);
        if (ds.sequences.empty())
            throw DataError(path + ": no user or item is left after the " +
                            std::to_string(options.k_core) + "-core filter");
    }
    return ds;
}

/// Reads the file `path` in `format`; the dataset is named after the file (no directory or
/// extension). Throws IoError (unreadable) or as above.
inline Dataset read_dataset(const std::string& path, DataFormat format,
                            const ReadOptions& options = {}) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw IoError(path + ": is a directory, not a file of interactions");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path + ": cannot open for reading");
    Dataset ds = read_dataset(in, path, format, options);
    const auto slash = path.find_last_of("/\\");
    ds.name = slash == std::string::npos ? path : path.substr(slash + 1);
    const auto dot = ds.name.rfind('.');
    if (dot != std::string::npos && dot > 0) ds.name = ds.name.substr(0, dot);
    return ds;
}

}  // namespace seqrec
