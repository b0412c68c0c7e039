// The HTTP server example (examples/server/http_service.hpp) on a loopback port: answers equal
// the library's, every malformed request gets a 4xx JSON error and the server keeps serving,
// and a reload under load loses no request.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <http_client.hpp>
#include <http_service.hpp>
#include <memory>
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
    server::HttpClient client(double timeout_seconds = 10) const {
        return server::HttpClient(port, timeout_seconds);
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

    auto res = cli.get("/health");
    REQUIRE(res.status != 0);
    CHECK(res.status == 200);
    CHECK(Json::parse(res.body) == Json{{"status", "ok"}});
    res = cli.get("/model");
    REQUIRE(res.status != 0);
    CHECK(res.status == 200);
    const Json info = Json::parse(res.body);
    CHECK(info["kind"] == "sasrec");
    CHECK(info["items"] == data().num_items);

    const auto model = srv.service.current();
    Json batch = {{"requests", Json::array()}};
    for (Index u = 0; u < 20; ++u) {
        Json body = request_json(u, 1 + u % 6);
        if (u % 3 == 0) body["exclude"] = {101, 102};
        if (u % 4 == 1) body["candidates"] = {103, 104, 105, 99999};
        res = cli.post("/recommend", body.dump());
        REQUIRE(res.status != 0);
        CHECK(res.status == 200);
        const Json got = Json::parse(res.body);
        CHECK(got == direct(*model, body));
        CHECK(!got["items"].empty());
        CHECK(got["items"].size() == got["scores"].size());
        batch["requests"].push_back(body);
    }
    res = cli.post("/recommend/batch", batch.dump());
    REQUIRE(res.status != 0);
    CHECK(res.status == 200);
    const Json results = Json::parse(res.body)["results"];
    REQUIRE(results.size() == 20);
    for (std::size_t u = 0; u < 20; ++u) CHECK(results[u] == direct(*model, batch["requests"][u]));
    // Unknown ids come back.
    res = cli.post("/recommend", R"({"history": [101, 7, 102], "exclude": [8]})");
    REQUIRE(res.status != 0);
    CHECK(Json::parse(res.body)["unknown"] == Json{7, 8});
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
        INFO(std::string(c.what));
        auto cli = srv.client();  // a refused body closes its connection
        const auto res = cli.post(c.path, c.body);
        REQUIRE(res.status != 0);
        CHECK(res.status == c.status);
        const Json j = Json::parse(res.body, nullptr, false);
        REQUIRE(j.is_object());
        REQUIRE(j.contains("error"));
        CHECK(j["error"].get<std::string>().find(c.says) != std::string::npos);
    }
    auto cli = srv.client();
    const auto res = cli.get("/health");  // still serving
    REQUIRE(res.status != 0);
    CHECK(res.status == 200);
    const auto ok = cli.post("/recommend", "{\"history\": [101, 102]}");
    REQUIRE(ok.status != 0);
    CHECK(ok.status == 200);
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
                const auto res = cli.post("/recommend", body.dump());
                if (res.status != 200) {
                    ++failed;
                    continue;
                }
                ++answered;
                if (Json::parse(res.body) != before) ++wrong;
            }
        });
    auto admin = srv.client();
    for (int r = 0; r < 5; ++r) {  // the same directory: the same answers, no request lost
        const auto res = admin.post("/reload", "");
        REQUIRE(res.status != 0);
        CHECK(res.status == 200);
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
    REQUIRE(admin.post("/reload", "").status == 200);
    const Json after = direct(*srv.service.current(), body);
    CHECK(after != before);
    auto res = admin.post("/recommend", body.dump());
    REQUIRE(res.status != 0);
    CHECK(Json::parse(res.body) == after);

    // A broken directory: the reload fails with a message, the old model keeps answering.
    {
        const auto cfg = Json::parse(read_file(dir.path + "/config.json"));
        std::ofstream broken(dir.path + "/" + cfg["weights"]["file"].get<std::string>(),
                             std::ios::trunc);
        broken << "not weights";
    }
    res = admin.post("/reload", "");
    REQUIRE(res.status != 0);
    CHECK(res.status == 500);
    CHECK(Json::parse(res.body)["error"].get<std::string>().find("reload failed") !=
          std::string::npos);
    res = admin.post("/recommend", body.dump());
    REQUIRE(res.status != 0);
    CHECK(res.status == 200);
    CHECK(Json::parse(res.body) == after);
}

namespace {

/// A raw loopback connection for what no polite client sends.
struct RawSocket {
    int fd = -1;
    explicit RawSocket(int port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(std::uint16_t(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    }
    ~RawSocket() { ::close(fd); }
    bool send(const std::string& s) const {
        return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size());
    }
    /// Everything the server sends until it closes or stays silent for the read timeout.
    std::string read_all() const {
        std::string out;
        char buf[4096];
        ssize_t n;
        while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, std::size_t(n));
        return out;
    }
};

int status_of(const std::string& answer) {
    return answer.size() > 12 ? std::atoi(answer.c_str() + 9) : 0;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("the request parser: limits, chunked bodies, smuggling and pipelining") {
    using P = server::HttpRequestParser;
    server::HttpLimits lim;
    lim.max_body = 100;
    lim.max_header = 200;
    auto parse_all = [&](const std::string& in) {
        P p(lim);
        return std::make_pair(p.parse(in), p);
    };
    const std::string body = "{\"history\": [1]}";
    // Content-Length and chunked give the same request, fed whole or one byte at a time.
    const std::string sized =
        "POST /recommend HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
        body;
    const std::string chunked =
        "POST /recommend HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n" + body.substr(0, 5) +
        "\r\nb;ext=1\r\n" + body.substr(5) + "\r\n0\r\nX-Trailer: 1\r\n\r\n";
    for (const std::string& in : {sized, chunked}) {
        auto [st, p] = parse_all(in);
        REQUIRE(st == P::Status::done);
        CHECK(p.request().method == "POST");
        CHECK(p.request().target == "/recommend");
        CHECK(p.request().body == body);
        CHECK(p.consumed() == in.size());
        P q(lim);
        std::string fed;
        P::Status s = P::Status::more;
        for (char c : in) {
            CHECK(s == P::Status::more);
            fed += c;
            s = q.parse(fed);
        }
        CHECK(s == P::Status::done);
        CHECK(q.request().body == body);
    }
    // Two pipelined requests: the first takes exactly its bytes.
    {
        const std::string two = sized + "GET /health HTTP/1.1\r\n\r\n";
        auto [st, p] = parse_all(two);
        REQUIRE(st == P::Status::done);
        CHECK(p.consumed() == sized.size());
        P q(lim);
        CHECK(q.parse(two.substr(sized.size())) == P::Status::done);
        CHECK(q.request().target == "/health");
    }
    struct Bad {
        const char* what;
        std::string in;
        int status;
    };
    const std::vector<Bad> bad = {
        {"two Content-Length", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
         400},
        {"negative length", "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400},
        {"huge length", "POST / HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\n", 413},
        {"length over the limit", "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
        {"length and chunked",
         "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"space before the colon", "POST / HTTP/1.1\r\nContent-Length : 3\r\n\r\nabc", 400},
        {"folded header", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400},
        {"gzip transfer", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"HTTP/2", "GET / HTTP/2.0\r\n\r\n", 505},
        {"no version", "GET /\r\n\r\n", 400},
        {"chunks over the limit",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + std::string(100, 'a') +
             "\r\n1\r\n",
         413},
        {"one giant chunk",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 413},
        {"bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"chunk without its CRLF",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n", 400},
        {"headers over the limit", "GET / HTTP/1.1\r\nX: " + std::string(300, 'a'), 431},
    };
    for (const Bad& b : bad) {
        INFO(std::string(b.what));
        auto [st, p] = parse_all(b.in);
        CHECK(st == P::Status::error);
        CHECK(p.error_status() == b.status);
    }
}

TEST_CASE("hostile clients: slow, idle and oversized requests do not stop normal ones") {
    TempDir dir("http_hostile");
    save_model(dir.path, 4);
    server::ServerOptions o;
    o.threads = 1;
    o.connections = 4;
    o.request_seconds = 2;
    o.max_body = 1 << 20;
    Running srv(dir.path, o);
    const std::string body = request_json(1).dump();

    // Twice as many slow clients as connections, each sending a byte at a time.
    std::vector<std::unique_ptr<RawSocket>> slow;
    for (int i = 0; i < 8; ++i) {
        slow.push_back(std::make_unique<RawSocket>(srv.port));
        slow.back()->send("P");
    }
    // A new client replaces a connection that has waited over half a second, never a fresher one.
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    for (int round = 0; round < 3; ++round) {
        for (auto& s : slow) s->send("O");  // some were closed to make room: send fails, fine
        const auto t0 = std::chrono::steady_clock::now();
        auto cli = srv.client();
        const auto res = cli.post("/recommend", body);
        CHECK(res.status == 200);
        CHECK(seconds_since(t0) < 1.0);
    }
    // A slow request that stays connected past the deadline gets 408 and a close.
    {
        RawSocket late(srv.port);
        late.send("POST /recommend HTTP/1.1\r\nContent-Length: 10\r\n\r\n{");
        const auto t0 = std::chrono::steady_clock::now();
        const std::string answer = late.read_all();
        CHECK(status_of(answer) == 408);
        CHECK(seconds_since(t0) < 4.0);
    }
    slow.clear();

    // Idle connections beyond the limit: the oldest idle ones make room.
    std::vector<std::unique_ptr<RawSocket>> idle;
    for (int i = 0; i < 10; ++i) idle.push_back(std::make_unique<RawSocket>(srv.port));
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    {
        auto cli = srv.client();
        CHECK(cli.post("/recommend", body).status == 200);
    }
    idle.clear();

    // Sizes refused at once, before any body arrives.
    for (const std::string length : {"1000000000000", "-5", "2000000"}) {
        INFO(length);
        RawSocket s(srv.port);
        const auto t0 = std::chrono::steady_clock::now();
        s.send("POST /recommend HTTP/1.1\r\nContent-Length: " + length + "\r\n\r\n");
        const int status = status_of(s.read_all());
        CHECK((status == 413 || status == 400));
        CHECK(seconds_since(t0) < 1.0);
    }
    {
        RawSocket s(srv.port);
        s.send("POST /recommend HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}");
        CHECK(status_of(s.read_all()) == 400);
    }
    // A chunked body past --max-body: 413 while it is still being sent.
    {
        RawSocket s(srv.port);
        s.send("POST /recommend HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
        bool refused = false;
        for (int i = 0; i < 128 && !refused; ++i) refused = !s.send(chunk);  // 8 MiB
        const std::string answer = s.read_all();
        CHECK(status_of(answer) == 413);
    }
    // A chunked body within the limit is served like any other.
    {
        RawSocket s(srv.port);
        s.send(
            "POST /recommend HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            [&] {
                char size[16];
                std::snprintf(size, sizeof size, "%zx", body.size());
                return std::string(size);
            }() +
            "\r\n" + body + "\r\n0\r\n\r\n");
        const std::string answer = s.read_all();
        CHECK(status_of(answer) == 200);
        const Json expected = direct(*srv.service.current(), Json::parse(body));
        CHECK(Json::parse(answer.substr(answer.find("\r\n\r\n") + 4)) == expected);
    }
    auto cli = srv.client();
    CHECK(cli.get("/health").status == 200);
}

TEST_CASE("one server per port, and answers carry no server paths") {
    TempDir dir("http_paths");
    save_model(dir.path, 5);
    server::ServerOptions o;
    Running srv(dir.path, o);
    server::ServerOptions same = o;
    same.port = srv.port;
    server::HttpService second(load_served_model(dir.path), same);
    try {
        second.bind();
        FAIL("a second server bound a port in use");
    } catch (const IoError& e) {
        CHECK(std::string(e.what()).find(std::to_string(srv.port)) != std::string::npos);
        CHECK(std::string(e.what()).find("in use") != std::string::npos);
    }

    auto cli = srv.client();
    const auto info = cli.get("/model");
    CHECK(info.status == 200);
    CHECK(info.body.find(dir.path) == std::string::npos);
    CHECK(!Json::parse(info.body).contains("directory"));

    // Reload errors say what was wrong, not where or what the file held.
    const Json cfg = Json::parse(read_file(dir.path + "/config.json"));
    const std::string weights = dir.path + "/" + cfg["weights"]["file"].get<std::string>();
    {
        std::ofstream broken(dir.path + "/config.json", std::ios::trunc);
        broken << "{\"secret_token\": ";
    }
    auto res = cli.post("/reload", "");
    CHECK(res.status == 500);
    CHECK(res.body.find(dir.path) == std::string::npos);
    CHECK(res.body.find("secret_token") == std::string::npos);
    CHECK(res.body.find("reload failed") != std::string::npos);

    // Sizes in config.json far beyond the weights file: refused before allocating.
    for (const auto& edit : std::vector<std::pair<std::string, Json>>{
             {"num_items", Json(std::int64_t(1) << 40)}, {"maxlen", Json(1000000000)}}) {
        INFO(edit.first);  // not a structured binding: clang 14 cannot capture one
        Json big = cfg;
        big["config"][edit.first] = edit.second;
        {
            std::ofstream out(dir.path + "/config.json", std::ios::trunc);
            out << big.dump();
        }
        res = cli.post("/reload", "");
        CHECK(res.status == 500);
        CHECK(res.body.find("out of memory") == std::string::npos);
        CHECK(res.body.find("cannot be loaded") != std::string::npos);
    }
    CHECK(cli.post("/recommend", request_json(2).dump()).status == 200);  // the old model

    // An empty candidate list is an error, not "every item".
    res = cli.post("/recommend", R"({"history": [101], "candidates": []})");
    CHECK(res.status == 400);
    CHECK(res.body.find("candidates") != std::string::npos);
}
