/// \file serve/request_json.hpp
/// The JSON form of requests and answers (the wire format of examples/server):
///   request  {"history": [ids], "k": 10, "exclude": [ids], "candidates": [ids],
///             "exclude_history": true, "max_history": 0}     (only "history" is required;
///             "candidates", when given, is a non-empty allow-list: leave it out to rank every
///             item; ids the model does not know are reported in "unknown" and not ranked)
///   answer   {"items": [ids], "scores": [numbers], "unknown": [ids]}
/// Parsing is strict, because a server must answer every malformed body with a clear message
/// rather than guess: unknown fields, wrong types, ids that are not positive integers and lists
/// or k beyond the limits are RequestErrors naming the field and the rule.
#pragma once

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/serve/request.hpp"

namespace seqrec {

struct RequestLimits {
    Index max_k = 1000;         ///< k in [1, max_k]
    Index max_items = 10000;    ///< entries of each of history, exclude, candidates
    Index max_requests = 1024;  ///< requests in one batch
};

namespace detail {
inline std::string json_type(const nlohmann::json& v) {
    if (v.is_number_float()) return "a non-integer number";
    return std::string("a ") + v.type_name();
}
inline std::vector<std::int64_t> id_list(const nlohmann::json& v, const char* field,
                                         const RequestLimits& limits) {
    if (!v.is_array())
        throw RequestError(std::string("\"") + field + "\" must be an array of item ids, got " +
                           json_type(v));
    if (Index(v.size()) > limits.max_items)
        throw RequestError(std::string("\"") + field + "\" has " + std::to_string(v.size()) +
                           " entries; the limit is " + std::to_string(limits.max_items));
    std::vector<std::int64_t> ids;
    ids.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        const auto& e = v[i];
        const std::string where = std::string("\"") + field + "\"[" + std::to_string(i) + "]";
        if (e.is_number_unsigned()) {
            if (e.get<std::uint64_t>() > std::uint64_t(INT64_MAX))
                throw RequestError(where + " is too large for an item id");
            ids.push_back(std::int64_t(e.get<std::uint64_t>()));
        } else if (e.is_number_integer()) {
            ids.push_back(e.get<std::int64_t>());
        } else {
            throw RequestError(where + " must be an integer item id, got " + json_type(e));
        }
        if (ids.back() <= 0)
            throw RequestError(where + " = " + std::to_string(ids.back()) +
                               ": item ids are positive");
    }
    return ids;
}
inline Index bounded_integer(const nlohmann::json& v, const char* field, Index lo, Index hi) {
    if (!v.is_number_integer())
        throw RequestError(std::string("\"") + field + "\" must be an integer, got " +
                           json_type(v));
    const std::int64_t x = v.is_number_unsigned()
                               ? std::int64_t(std::min<std::uint64_t>(v.get<std::uint64_t>(),
                                                                      std::uint64_t(INT64_MAX)))
                               : v.get<std::int64_t>();
    if (x < lo || x > hi)
        throw RequestError(std::string("\"") + field + "\" = " + v.dump() + " must be in [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return Index(x);
}
}  // namespace detail

/// A request from its JSON object.
inline RecommendRequest request_from_json(const nlohmann::json& j, const RequestLimits& limits) {
    if (!j.is_object())
        throw RequestError("a request must be a JSON object, got " + detail::json_type(j));
    RecommendRequest r;
    bool has_history = false;
    for (const auto& [key, v] : j.items()) {
        if (key == "history") {
            r.history = detail::id_list(v, "history", limits);
            has_history = true;
        } else if (key == "k") {
            r.k = detail::bounded_integer(v, "k", 1, limits.max_k);
        } else if (key == "exclude") {
            r.exclude = detail::id_list(v, "exclude", limits);
        } else if (key == "candidates") {
            r.candidates = detail::id_list(v, "candidates", limits);
            if (r.candidates.empty())  // one meaning: absent ranks every item, a list ranks it
                throw RequestError("\"candidates\" is empty: leave it out to rank every item");
        } else if (key == "exclude_history") {
            if (!v.is_boolean())
                throw RequestError("\"exclude_history\" must be true or false, got " +
                                   detail::json_type(v));
            r.exclude_history = v.get<bool>();
        } else if (key == "max_history") {
            r.max_history = detail::bounded_integer(v, "max_history", 0, limits.max_items);
        } else {
            throw RequestError("unknown field \"" + key.substr(0, 64) +
                               "\" (known: history, k, exclude, candidates, exclude_history, "
                               "max_history)");
        }
    }
    if (!has_history) throw RequestError("missing field \"history\" (an array of item ids)");
    return r;
}

/// Parses a request body: not JSON at all is a RequestError too.
inline nlohmann::json parse_request_body(const std::string& body) {
    nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw RequestError("the body is not valid JSON");
    return j;
}

/// A batch {"requests": [request, ...]}.
inline std::vector<RecommendRequest> requests_from_json(const nlohmann::json& j,
                                                        const RequestLimits& limits) {
    if (!j.is_object() || j.size() != 1 || !j.contains("requests") || !j["requests"].is_array())
        throw RequestError("a batch must be {\"requests\": [request, ...]}");
    const auto& list = j["requests"];
    if (Index(list.size()) > limits.max_requests)
        throw RequestError("the batch has " + std::to_string(list.size()) +
                           " requests; the limit is " + std::to_string(limits.max_requests));
    std::vector<RecommendRequest> out;
    out.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
        try {
            out.push_back(request_from_json(list[i], limits));
        } catch (const RequestError& e) {
            throw RequestError("requests[" + std::to_string(i) + "]: " + e.what());
        }
    }
    return out;
}

inline nlohmann::json response_to_json(const RecommendResponse& r) {
    nlohmann::json items = nlohmann::json::array(), scores = nlohmann::json::array();
    for (const auto& x : r.items) {
        items.push_back(x.item);
        scores.push_back(x.score);
    }
    return {{"items", std::move(items)}, {"scores", std::move(scores)}, {"unknown", r.unknown}};
}

}  // namespace seqrec
