/// \file support/args.hpp
/// Small helpers for the benchmark programs' command lines: `--name value` pairs, typed getters
/// that reject malformed numbers, and a final check that names every unknown option.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
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

/// `--name value` options. Every getter names the option it reads; finish() then fails on any
/// option no getter asked for, so a typo never silently runs the default configuration.
class Args {
public:
    Args(int argc, char** argv, std::string usage) : usage_(std::move(usage)) {
        for (int i = 1; i < argc; i += 2) {
            const std::string name = argv[i];
            if (name.rfind("--", 0) != 0 || i + 1 >= argc)
                fail("expected '--option value', got '" + name + "'");
            values_[name.substr(2)] = argv[i + 1];
        }
    }

    std::string text(const std::string& name, const std::string& fallback) {
        known_.insert(name);
        const auto it = values_.find(name);
        return it == values_.end() ? fallback : it->second;
    }
    long integer(const std::string& name, long fallback) {
        const std::string v = text(name, "");
        return v.empty() ? fallback : parse_integer(name, v);
    }
    /// "1,2,3" -> {1, 2, 3}; every element must be an integer.
    std::vector<long> integers(const std::string& name, const std::string& fallback) {
        std::vector<long> out;
        for (const auto& v : split_list(text(name, fallback)))
            out.push_back(parse_integer(name, v));
        if (out.empty()) fail("--" + name + " is empty");
        return out;
    }
    double real(const std::string& name, double fallback) {
        const std::string v = text(name, "");
        if (v.empty()) return fallback;
        char* end = nullptr;
        const double out = std::strtod(v.c_str(), &end);
        if (*end != '\0') fail("--" + name + " expects a number, got '" + v + "'");
        return out;
    }
    /// Call after every getter: rejects options the program does not know.
    void finish() const {
        for (const auto& [name, value] : values_)
            if (!known_.count(name)) fail("unknown option --" + name);
    }
    [[noreturn]] void fail(const std::string& message) const {
        std::fprintf(stderr, "error: %s\nusage: %s\n", message.c_str(), usage_.c_str());
        std::exit(2);
    }

private:
    long parse_integer(const std::string& name, const std::string& v) const {
        char* end = nullptr;
        const long out = std::strtol(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0') fail("--" + name + " expects an integer, got '" + v + "'");
        return out;
    }

    std::string usage_;
    std::map<std::string, std::string> values_;
    std::set<std::string> known_;
};

}  // namespace seqrec::bench
