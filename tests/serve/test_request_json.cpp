// The JSON wire format of requests (serve/request_json.hpp): what it accepts, and that every
// malformed request is a RequestError naming the field and the rule.
#include <doctest/doctest.h>

#include <seqrec/serve/request_json.hpp>
#include <string>

using namespace seqrec;
using Json = nlohmann::json;

namespace {
std::string error_of(const std::string& body, RequestLimits limits = {}) {
    try {
        request_from_json(parse_request_body(body), limits);
    } catch (const RequestError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("a full request parses into its fields, only history is required") {
    const auto r = request_from_json(
        Json::parse(R"({"history": [3, 9007199254740993, 2], "k": 7, "exclude": [4],
                        "candidates": [5, 6], "exclude_history": false, "max_history": 2})"),
        {});
    CHECK(r.history == std::vector<std::int64_t>{3, 9007199254740993LL, 2});
    CHECK(r.k == 7);
    CHECK(r.exclude == std::vector<std::int64_t>{4});
    CHECK(r.candidates == std::vector<std::int64_t>{5, 6});
    CHECK(!r.exclude_history);
    CHECK(r.max_history == 2);
    const auto d = request_from_json(Json::parse(R"({"history": []})"), {});
    CHECK(d.k == 10);
    CHECK(d.exclude_history);
    CHECK(d.history.empty());

    RecommendResponse a;
    a.items = {{12, 0.5}, {7, -1.25}};
    a.unknown = {99};
    CHECK(response_to_json(a) ==
          Json::parse(R"({"items": [12, 7], "scores": [0.5, -1.25], "unknown": [99]})"));
}

TEST_CASE("malformed requests name the field and the rule") {
    RequestLimits small;
    small.max_k = 20;
    small.max_items = 3;
    small.max_requests = 2;
    CHECK(error_of("{") == "the body is not valid JSON");
    CHECK(error_of("7") == "a request must be a JSON object, got a number");
    CHECK(error_of("{}") == "missing field \"history\" (an array of item ids)");
    CHECK(error_of(R"({"history": "1 2"})") ==
          "\"history\" must be an array of item ids, got a string");
    CHECK(error_of(R"({"history": [1, 2.5]})") ==
          "\"history\"[1] must be an integer item id, got a non-integer number");
    CHECK(error_of(R"({"history": [1, -2]})") == "\"history\"[1] = -2: item ids are positive");
    CHECK(error_of(R"({"history": [1], "exclude": [0]})") ==
          "\"exclude\"[0] = 0: item ids are positive");
    CHECK(error_of(R"({"history": [18446744073709551615]})") ==
          "\"history\"[0] is too large for an item id");
    CHECK(error_of(R"({"history": [1, 2, 3, 4]})", small) ==
          "\"history\" has 4 entries; the limit is 3");
    CHECK(error_of(R"({"history": [1], "k": 21})", small) == "\"k\" = 21 must be in [1, 20]");
    CHECK(error_of(R"({"history": [1], "k": -1})") == "\"k\" = -1 must be in [1, 1000]");
    CHECK(error_of(R"({"history": [1], "k": 1e3})") ==
          "\"k\" must be an integer, got a non-integer number");
    CHECK(error_of(R"({"history": [1], "max_history": -3})") ==
          "\"max_history\" = -3 must be in [0, 10000]");
    CHECK(error_of(R"({"history": [1], "exclude_history": "no"})") ==
          "\"exclude_history\" must be true or false, got a string");
    CHECK(error_of(R"({"history": [1], "K": 3})").find("unknown field \"K\"") == 0);

    CHECK_THROWS_WITH_AS(requests_from_json(Json::parse(R"({"requests": [{"history": [1]},
                             {"history": [1]}, {"history": [1]}]})"),
                                            small),
                         "the batch has 3 requests; the limit is 2", RequestError);
    CHECK_THROWS_WITH_AS(
        requests_from_json(Json::parse(R"({"requests": [{"history": [1]}, {"k": 2}]})"), small),
        "requests[1]: missing field \"history\" (an array of item ids)", RequestError);
    CHECK_THROWS_AS(requests_from_json(Json::parse(R"([{"history": [1]}])"), small), RequestError);
}
