/// \file http_service.hpp
/// seqrec's HTTP front end (cpp-httplib), shared by `seqrec-server`, its test and
/// benchmarks/bench_server:
///   POST /recommend        one request  (serve/request_json.hpp)  -> one answer
///   POST /recommend/batch  {"requests": [...]}  -> {"results": [...]}, in request order, through
///                          the batched scoring path (one GEMM per block of requests)
///   GET  /health           {"status": "ok"}
///   GET  /model            the loaded model's metadata (serve/served_model.hpp)
///   POST /reload           re-reads the model directory and swaps it in; requests in flight
///                          finish on the old model, none is dropped; a failed load keeps the old
/// Every error is a JSON body {"error": "..."} with a 4xx status (5xx only for a failed reload).
/// Connections and scoring are separate: up to `connections` clients are held open (keep-alive),
/// while at most `threads` requests are scored at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <seqrec/seqrec.hpp>
#include <string>
#include <utility>
#include <vector>

// After Eigen: httplib pulls in <resolv.h>, whose `_res` macro breaks Eigen's headers.
#include <httplib.h>

namespace seqrec::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;  ///< 0: any free port (bind() returns it)
    int threads = 2;  ///< requests scored at once
    int connections = 64;
    std::size_t max_body = 1 << 20;  ///< bytes; larger bodies get 413
    RequestLimits limits;
};

/// At most `n` holders at once (C++17 has no std::counting_semaphore).
class Gate {
public:
    explicit Gate(int n) : free_(n) {}
    void enter() {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return free_ > 0; });
        --free_;
    }
    void leave() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            ++free_;
        }
        cv_.notify_one();
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    int free_;
};

class HttpService {
public:
    HttpService(std::shared_ptr<const ServedModel> model, ServerOptions options)
        : options_(std::move(options)), gate_(options_.threads), model_(std::move(model)) {
        if (options_.threads < 1 || options_.connections < 1)
            throw ConfigError("the server needs at least one thread and one connection");
        model_->reserve(std::size_t(options_.threads));
        const int connections = options_.connections;
        server_.new_task_queue = [connections] { return new httplib::ThreadPool(connections); };
        server_.set_payload_max_length(options_.max_body);
        server_.set_keep_alive_max_count(100000);
        server_.set_keep_alive_timeout(5);
        server_.set_tcp_nodelay(true);
        server_.set_socket_options([this](socket_t sock) {
            httplib::default_socket_options(sock);  // SO_REUSEADDR / SO_REUSEPORT
            listen_socket_ = sock;
        });
        server_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
            reply(res, 200, {{"status", "ok"}});
        });
        server_.Get("/model", [this](const httplib::Request&, httplib::Response& res) {
            reply(res, 200, current()->info().to_json());
        });
        server_.Post("/recommend", [this](const httplib::Request& req, httplib::Response& res) {
            const auto request = request_from_json(parse_request_body(req.body), options_.limits);
            const auto served = current();  // one model for the whole request, even if swapped
            RecommendResponse answer;
            score([&] { served->recommend(request, answer); });
            reply(res, 200, response_to_json(answer));
        });
        server_.Post("/recommend/batch", [this](const httplib::Request& req,
                                                httplib::Response& res) {
            const auto requests = requests_from_json(parse_request_body(req.body), options_.limits);
            const auto served = current();
            std::vector<RecommendResponse> answers;
            score([&] { served->recommend_many(requests, answers); });
            nlohmann::json results = nlohmann::json::array();
            for (const auto& a : answers) results.push_back(response_to_json(a));
            reply(res, 200, {{"results", std::move(results)}});
        });
        server_.Post("/reload", [this](const httplib::Request&, httplib::Response& res) {
            try {
                reload();
            } catch (const Error& e) {  // the old model keeps serving
                reply(res, 500, {{"error", std::string("reload failed: ") + e.what()}});
                return;
            }
            reply(res, 200, {{"reloaded", true}, {"model", current()->info().to_json()}});
        });
        server_.set_exception_handler(
            [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
                try {
                    std::rethrow_exception(ep);
                } catch (const RequestError& e) {
                    reply(res, 400, {{"error", e.what()}});
                } catch (const std::bad_alloc&) {
                    reply(res, 503, {{"error", "out of memory"}});
                } catch (const std::exception& e) {
                    reply(res, 500, {{"error", e.what()}});
                }
            });
        // Statuses httplib sets itself (404, 413, 400 for a bad request line, ...) get a JSON body.
        server_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return;
            std::string what = res.status == 404   ? "no such endpoint: " + req.path
                               : res.status == 413 ? "the body is too large"
                                                   : "bad request";
            reply(res, res.status, {{"error", what}});
        });
    }

    /// Binds the socket; returns the port (useful with port 0). Throws IoError on failure.
    int bind() {
        int port = options_.port;
        if (port == 0) {
            port = server_.bind_to_any_port(options_.host);
            if (port < 0) port = 0;
        } else if (!server_.bind_to_port(options_.host, port)) {
            port = 0;
        }
        if (port <= 0)
            throw IoError("cannot listen on " + options_.host + ":" +
                          std::to_string(options_.port));
        // Debian's compiled httplib listens with a backlog of 5: clients connecting at once then
        // wait a second for a SYN retry or fail. listen() again on the bound socket enlarges it.
        if (listen_socket_ >= 0) ::listen(listen_socket_, SOMAXCONN);
        return port;
    }
    /// Serves until stop(); call after bind().
    void listen() { server_.listen_after_bind(); }
    void stop() { server_.stop(); }
    bool running() const { return server_.is_running(); }

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

private:
    static void reply(httplib::Response& res, int status, const nlohmann::json& body) {
        res.status = status;
        res.set_content(body.dump(), "application/json");
    }
    template <typename F>
    void score(F&& f) {
        gate_.enter();
        try {
            f();
        } catch (...) {
            gate_.leave();
            throw;
        }
        gate_.leave();
    }

    ServerOptions options_;
    Gate gate_;
    std::shared_ptr<const ServedModel> model_;  // read and swapped with std::atomic_*
    std::mutex reload_mu_;
    std::atomic<long> reloads_{0};
    socket_t listen_socket_ = -1;
    httplib::Server server_;
};

}  // namespace seqrec::server
