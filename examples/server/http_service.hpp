/// \file http_service.hpp
/// seqrec's HTTP endpoints over its own transport (http_server.hpp), shared by `seqrec-server`,
/// its test and benchmarks/bench_server:
///   POST /recommend        one request  (serve/request_json.hpp)  -> one answer
///   POST /recommend/batch  {"requests": [...]}  -> {"results": [...]}, in request order, through
///                          the batched scoring path (one GEMM per block of requests)
///   GET  /health           {"status": "ok"}
///   GET  /model            the loaded model's metadata (runtime/served_model.hpp), without paths
///   POST /reload           re-reads the model directory and swaps it in; requests in flight
///                          finish on the old model, none is dropped; a failed load keeps the old
/// Every error is a JSON body {"error": "..."} with a 4xx status (5xx only for a failed reload).
/// Answers never carry a server path or file contents: a failed reload says what kind of thing
/// was wrong and the server log (stderr) keeps the details.
/// Connections and scoring are separate: up to `connections` clients are held open by one I/O
/// thread, while `threads` workers score complete requests.
#pragma once

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <seqrec/seqrec.hpp>
#include <string>
#include <utility>
#include <vector>

#include "http_server.hpp"

namespace seqrec::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;  ///< 0: any free port (bind() returns it)
    int threads = 2;  ///< requests scored at once
    int connections = 64;
    std::size_t max_body = 1 << 20;     ///< bytes, whatever the transfer encoding; larger: 413
    std::size_t max_header = 16 << 10;  ///< request line and headers, bytes; larger: 431
    double request_seconds = 10;        ///< a whole request must arrive within this
    double idle_seconds = 5;            ///< idle keep-alive connections close after this
    RequestLimits limits;
};

/// What went wrong in a load, in the user's terms: the exception's text, which may name server
/// paths or quote a file, goes to the server log only.
inline std::string load_failure(const std::exception& e) {
    if (dynamic_cast<const std::bad_alloc*>(&e)) return "the model does not fit in memory";
    return "the model directory cannot be loaded (a file is missing, unreadable, damaged or does "
           "not match config.json; the server log has the details)";
}

class HttpService {
public:
    HttpService(std::shared_ptr<const ServedModel> model, ServerOptions options)
        : options_(std::move(options)),
          model_(std::move(model)),
          server_(transport(options_), [this](const HttpRequest& r) { return handle(r); }) {
        model_->reserve(std::size_t(options_.threads));
    }

    /// Binds the socket; returns the port (useful with port 0). IoError naming the port when
    /// it is in use.
    int bind() { return server_.bind(); }
    /// Serves until stop(); call after bind().
    void listen() { server_.run(); }
    void stop() { server_.stop(); }
    bool running() const { return server_.running(); }

    /// The model now being served (callers keep it alive as long as they hold it).
    std::shared_ptr<const ServedModel> current() const { return std::atomic_load(&model_); }
    /// Loads the directory again (a new model written there) and swaps it in.
    void reload() {
        std::lock_guard<std::mutex> lock(reload_mu_);  // one reload at a time
        auto next = load_served_model(current()->info().directory);
        next->reserve(std::size_t(options_.threads));
        std::atomic_store(&model_, std::shared_ptr<const ServedModel>(std::move(next)));
        reloads_.fetch_add(1);
    }
    long reloads() const { return reloads_.load(); }

    /// The model's metadata as /model answers it: no server path.
    static nlohmann::ordered_json public_info(const ServedModel& m) {
        auto j = m.info().to_json();
        j.erase("directory");
        return j;
    }

private:
    static HttpServerOptions transport(const ServerOptions& o) {
        HttpServerOptions t;
        t.host = o.host;
        t.port = o.port;
        t.workers = o.threads;
        t.connections = o.connections;
        t.request_seconds = o.request_seconds;
        t.idle_seconds = o.idle_seconds;
        t.limits.max_body = o.max_body;
        t.limits.max_header = o.max_header;
        return t;
    }
    static HttpResponse reply(int status, const nlohmann::ordered_json& body) {
        return {status, body.dump(), "application/json"};
    }

    HttpResponse handle(const HttpRequest& req) {
        const std::string path = req.target.substr(0, req.target.find('?'));
        const bool get = req.method == "GET";
        const bool post = req.method == "POST";
        try {
            if (path == "/health") {
                if (!get) return not_allowed("GET");
                return reply(200, {{"status", "ok"}});
            }
            if (path == "/model") {
                if (!get) return not_allowed("GET");
                return reply(200, public_info(*current()));
            }
            if (path == "/recommend") {
                if (!post) return not_allowed("POST");
                const auto request =
                    request_from_json(parse_request_body(req.body), options_.limits);
                const auto served = current();  // one model for the whole request, even if swapped
                RecommendResponse answer;
                served->recommend(request, answer);
                return reply(200, response_to_json(answer));
            }
            if (path == "/recommend/batch") {
                if (!post) return not_allowed("POST");
                const auto requests =
                    requests_from_json(parse_request_body(req.body), options_.limits);
                const auto served = current();
                std::vector<RecommendResponse> answers;
                served->recommend_many(requests, answers);
                nlohmann::json results = nlohmann::json::array();
                for (const auto& a : answers) results.push_back(response_to_json(a));
                return {200, nlohmann::json{{"results", std::move(results)}}.dump(),
                        "application/json"};
            }
            if (path == "/reload") {
                if (!post) return not_allowed("POST");
                try {
                    reload();
                } catch (const std::exception& e) {  // the old model keeps serving
                    std::fprintf(stderr, "seqrec-server: reload failed, old model kept: %s\n",
                                 e.what());
                    return reply(500, {{"error", "reload failed, the old model is still served: " +
                                                     load_failure(e)}});
                }
                return reply(200, {{"reloaded", true}, {"model", public_info(*current())}});
            }
            return error_response(404, "no such endpoint: " + path.substr(0, 100));
        } catch (const RequestError& e) {
            return error_response(400, e.what());
        } catch (const std::bad_alloc&) {
            return error_response(503, "out of memory");
        } catch (const std::exception& e) {
            std::fprintf(stderr, "seqrec-server: internal error: %s\n", e.what());
            return error_response(500, "internal error");
        }
    }
    static HttpResponse not_allowed(const char* method) {
        return error_response(405, std::string("use ") + method + " here");
    }

    ServerOptions options_;
    std::shared_ptr<const ServedModel> model_;  // read and swapped with std::atomic_*
    std::mutex reload_mu_;
    std::atomic<long> reloads_{0};
    HttpServer server_;
};

}  // namespace seqrec::server
