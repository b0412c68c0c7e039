/// \file core/json_fields.hpp
/// Strict reading of JSON objects against a template of defaults: unknown keys, wrong types and
/// missing required keys are ConfigErrors in our words, naming where (file and JSON pointer),
/// never the JSON library's own message.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "seqrec/core/error.hpp"

namespace seqrec {

namespace detail {
inline const char* json_kind(const nlohmann::json& v) {
    if (v.is_boolean()) return "a boolean";
    if (v.is_number_integer()) return "an integer";
    if (v.is_number()) return "a number";
    if (v.is_string()) return "a string";
    return v.is_null() ? "null" : v.is_array() ? "an array" : "an object";
}
inline bool same_json_type(const nlohmann::json& want, const nlohmann::json& got) {
    if (want.is_number_integer()) return got.is_number_integer();
    if (want.is_number()) return got.is_number();  // 1 is a fine real
    return want.type() == got.type();
}
}  // namespace detail

/// Every key of `j` must be a key of `defaults`, with a value of the same JSON type.
/// `where` prefixes the message ("run.json: /config").
inline void check_json_fields(const nlohmann::json& j, const nlohmann::json& defaults,
                              const std::string& where) {
    if (!j.is_object()) throw ConfigError(where + " must be a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it) {
        const auto d = defaults.find(it.key());
        if (d == defaults.end()) {
            std::string known;
            for (auto k = defaults.begin(); k != defaults.end(); ++k)
                known += (known.empty() ? "" : ", ") + k.key();
            throw ConfigError(where + ": unknown key \"" + it.key() + "\" (known: " + known + ")");
        }
        if (!detail::same_json_type(*d, *it))
            throw ConfigError(where + "/" + it.key() + " must be " + detail::json_kind(*d) +
                              ", got " + detail::json_kind(*it));
    }
}

/// The value of a key a config cannot do without (its from_json); ConfigError "missing key".
template <typename V>
V required_field(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end()) throw ConfigError(std::string("missing key \"") + key + "\"");
    return it->get<V>();
}

}  // namespace seqrec
