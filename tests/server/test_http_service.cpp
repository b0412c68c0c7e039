// The HTTP server example (examples/server/http_service.hpp) on a loopback port: answers equal
// the library's, every malformed request gets a 4xx JSON error and the server keeps serving,
// and a reload under load loses no request.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <http_service.hpp>
#include <seqrec/seqrec.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace seqrec;
using seqrec::test::TempDir;
using Json = nlohmann::json;

namespace {

const Split& data() {
    static const Split s = test::synthetic_split(30, 20, 3, 12);
    return s;
}

void save_model(const std::string& dir, std::uint64_t seed) {
    auto model = make_model("sasrec", {{"num_items", data().num_items}, {"maxlen", 6}, {"dim", 8}});
    model->init(seed);
    IdMap items;
    for (Index i = 1; i <= data().num_items; ++i) items.add(100 + i);
    model->save(dir, items);
}

/// A server on a free loopback port, stopped and joined on destruction.
struct Running {
    server::HttpService service;
    int port;
    std::thread thread;
    static server::ServerOptions any_port(server::ServerOptions o) {
        o.port = 0;
        return o;
    }
    Running(const std::string& dir, const server::ServerOptions& o)
        : service(load_served_model(dir), any_port(o)), port(service.bind()) {
        thread = std::thread([this] { service.listen(); });
        for (int i = 0; i < 500 && !service.running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ~Running() {
        service.stop();
        thread.join();
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(10, 0);
        return c;
    }
};

Json request_json(Index u, Index k = 5) {
    Json h = Json::array();
    for (ItemId i : data().train[std::size_t(u)]) h.push_back(100 + i);
    return {{"history", h}, {"k", k}};
}

/// The library's answer to the same request, as the server writes it.
Json direct(const ServedModel& m, const Json& body) {
    return response_to_json(m.recommend(request_from_json(body, RequestLimits{})));
}

}  // namespace

TEST_CASE("the server answers like the library, one request or a batch") {
    TempDir dir("http_answers");
    save_model(dir.path, 1);
    server::ServerOptions o;
    Running srv(dir.path, o);
    auto cli = srv.client();

    auto res = cli.Get("/health");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(Json::parse(res->body) == Json{{"status", "ok"}});
    res = cli.Get("/model");
    REQUIRE(res);
    CHECK(res->status == 200);
    const Json info = Json::parse(res->body);
    CHECK(info["kind"] == "sasrec");
    CHECK(info["items"] == data().num_items);

    const auto model = srv.service.current();
    Json batch = {{"requests", Json::array()}};
    for (Index u = 0; u < 20; ++u) {
        Json body = request_json(u, 1 + u % 6);
        if (u % 3 == 0) body["exclude"] = {101, 102};
        if (u % 4 == 1) body["candidates"] = {103, 104, 105, 99999};
        res = cli.Post("/recommend", body.dump(), "application/json");
        REQUIRE(res);
        CHECK(res->status == 200);
        const Json got = Json::parse(res->body);
        CHECK(got == direct(*model, body));
        CHECK(!got["items"].empty());
        CHECK(got["items"].size() == got["scores"].size());
        batch["requests"].push_back(body);
    }
    res = cli.Post("/recommend/batch", batch.dump(), "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
    const Json results = Json::parse(res->body)["results"];
    REQUIRE(results.size() == 20);
    for (std::size_t u = 0; u < 20; ++u) CHECK(results[u] == direct(*model, batch["requests"][u]));
    // Unknown ids come back.
    res =
        cli.Post("/recommend", R"({"history": [101, 7, 102], "exclude": [8]})", "application/json");
    REQUIRE(res);
    CHECK(Json::parse(res->body)["unknown"] == Json{7, 8});
}

TEST_CASE("malformed requests get a 4xx JSON error and the server keeps serving") {
    TempDir dir("http_malformed");
    save_model(dir.path, 2);
    server::ServerOptions o;
    o.max_body = 4096;
    o.limits.max_k = 50;
    o.limits.max_items = 100;
    o.limits.max_requests = 3;
    Running srv(dir.path, o);
    auto cli = srv.client();
    std::string long_history = "{\"history\": [";
    for (int i = 0; i < 101; ++i) long_history += (i ? "," : "") + std::to_string(101 + i % 20);
    long_history += "]}";
    const std::string nested = std::string(2000, '[') + std::string(2000, ']');
    struct Case {
        const char* what;
        std::string path, body;
        int status;
        const char* says;
    };
    const std::vector<Case> cases = {
        {"not JSON", "/recommend", "{\"history\": [1,", 400, "not valid JSON"},
        {"empty body", "/recommend", "", 400, "not valid JSON"},
        {"an array, not an object", "/recommend", "[101, 102]", 400, "must be a JSON object"},
        {"deeply nested arrays", "/recommend", nested, 400, "must be a JSON object"},
        {"no history", "/recommend", "{\"k\": 3}", 400, "missing field \"history\""},
        {"history not an array", "/recommend", "{\"history\": 101}", 400, "must be an array"},
        {"string id", "/recommend", "{\"history\": [\"101\"]}", 400, "must be an integer"},
        {"fractional id", "/recommend", "{\"history\": [101.5]}", 400, "non-integer number"},
        {"negative id", "/recommend", "{\"history\": [101, -4]}", 400, "item ids are positive"},
        {"zero id", "/recommend", "{\"history\": [0]}", 400, "item ids are positive"},
        {"id beyond int64", "/recommend", "{\"history\": [18446744073709551615]}", 400,
         "too large"},
        {"huge k", "/recommend", "{\"history\": [101], \"k\": 100000000000}", 400,
         "must be in [1, 50]"},
        {"k = 0", "/recommend", "{\"history\": [101], \"k\": 0}", 400, "must be in [1, 50]"},
        {"k a string", "/recommend", "{\"history\": [101], \"k\": \"5\"}", 400,
         "must be an integer"},
        {"unknown field", "/recommend", "{\"history\": [101], \"kk\": 5}", 400,
         "unknown field \"kk\""},
        {"exclude_history not a bool", "/recommend", "{\"history\": [101], \"exclude_history\": 1}",
         400, "true or false"},
        {"candidates with null", "/recommend", "{\"history\": [101], \"candidates\": [null]}", 400,
         "must be an integer"},
        {"history too long", "/recommend", long_history, 400, "the limit is 100"},
        {"body too large", "/recommend", std::string(5000, ' '), 413, "too large"},
        {"batch too large", "/recommend/batch",
         "{\"requests\": [{\"history\":[101]},{\"history\":[101]},{\"history\":[101]},"
         "{\"history\":[101]}]}",
         400, "the limit is 3"},
        {"bad request inside a batch", "/recommend/batch",
         "{\"requests\": [{\"history\":[101]},{\"history\":[-1]}]}", 400, "requests[1]"},
        {"batch without requests", "/recommend/batch", "{\"history\": [101]}", 400,
         "a batch must be"},
        {"unknown endpoint", "/recommendations", "{\"history\": [101]}", 404, "no such endpoint"},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        const auto res = cli.Post(c.path, c.body, "application/json");
        REQUIRE(res);
        CHECK(res->status == c.status);
        const Json j = Json::parse(res->body, nullptr, false);
        REQUIRE(j.is_object());
        REQUIRE(j.contains("error"));
        CHECK(j["error"].get<std::string>().find(c.says) != std::string::npos);
    }
    const auto res = cli.Get("/health");  // still serving
    REQUIRE(res);
    CHECK(res->status == 200);
    const auto ok = cli.Post("/recommend", "{\"history\": [101, 102]}", "application/json");
    REQUIRE(ok);
    CHECK(ok->status == 200);
}

TEST_CASE("a reload under load loses no request, a failed reload keeps the old model") {
    TempDir dir("http_reload");
    save_model(dir.path, 3);
    server::ServerOptions o;
    o.threads = 2;
    Running srv(dir.path, o);
    const Json body = request_json(4);
    const Json before = direct(*srv.service.current(), body);

    std::atomic<bool> done{false};
    std::atomic<long> answered{0}, wrong{0}, failed{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t)
        clients.emplace_back([&] {
            auto cli = srv.client();
            while (!done) {
                const auto res = cli.Post("/recommend", body.dump(), "application/json");
                if (!res || res->status != 200) {
                    ++failed;
                    continue;
                }
                ++answered;
                if (Json::parse(res->body) != before) ++wrong;
            }
        });
    auto admin = srv.client();
    for (int r = 0; r < 5; ++r) {  // the same directory: the same answers, no request lost
        const auto res = admin.Post("/reload", "", "application/json");
        REQUIRE(res);
        CHECK(res->status == 200);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    done = true;
    for (auto& c : clients) c.join();
    CHECK(srv.service.reloads() == 5);
    CHECK(answered > 0);
    CHECK(failed == 0);
    CHECK(wrong == 0);

    // A new model written into the directory is served after a reload.
    save_model(dir.path, 99);
    REQUIRE(admin.Post("/reload", "", "application/json")->status == 200);
    const Json after = direct(*srv.service.current(), body);
    CHECK(after != before);
    auto res = admin.Post("/recommend", body.dump(), "application/json");
    REQUIRE(res);
    CHECK(Json::parse(res->body) == after);

    // A broken directory: the reload fails with a message, the old model keeps answering.
    {
        const auto cfg = Json::parse(read_file(dir.path + "/config.json"));
        std::ofstream broken(dir.path + "/" + cfg["weights"]["file"].get<std::string>(),
                             std::ios::trunc);
        broken << "not weights";
    }
    res = admin.Post("/reload", "", "application/json");
    REQUIRE(res);
    CHECK(res->status == 500);
    CHECK(Json::parse(res->body)["error"].get<std::string>().find("reload failed") !=
          std::string::npos);
    res = admin.Post("/recommend", body.dump(), "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(Json::parse(res->body) == after);
}
