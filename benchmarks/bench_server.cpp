// Load test of the HTTP server (examples/server): starts it on a free 127.0.0.1 port in this
// process, runs concurrent keep-alive clients for a bounded number of requests and a bounded
// time, checks every answer against the library's direct answer, and prints requests/s and
// latency percentiles.
//   bench_server [--load MODEL_DIR] [--data FILE] [--clients 16] [--threads 2]
//                [--requests 50000] [--seconds 30] [--k 10] [--reloads 0] [--history N]
// Without --load it trains a small SASRec on the built-in synthetic data first. Requests are the
// users' histories from --data (external ids, as the model was trained on them), or from the
// synthetic data, each cut to its last --history items (default: the model's window, what a
// client that knows the model sends; 0 = whole histories). --reloads N posts N reloads of the
// model directory during the run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <http_service.hpp>
#include <mutex>
#include <seqrec/seqrec.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/args.hpp"
#include "support/guarded_main.hpp"
#include "support/timer.hpp"

using namespace seqrec;
using Json = nlohmann::json;

namespace {

/// A minimal HTTP/1.1 keep-alive client over one socket: sends prepared request bytes and reads
/// one response (status line, Content-Length, body). A load generator should cost little next
/// to the server it loads; a general client (httplib's) costs about as much as the server here.
class RawClient {
public:
    explicit RawClient(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(std::uint16_t(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // only ever 127.0.0.1
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw IoError("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
    ~RawClient() { ::close(fd_); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    /// Sends `request`; returns the status (0 on a transport error) and fills `body`.
    int exchange(const std::string& request, std::string& body) {
        for (std::size_t sent = 0; sent < request.size();) {
            const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, 0);
            if (n <= 0) return 0;
            sent += std::size_t(n);
        }
        std::size_t header_end;
        while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return 0;
        const int status = std::atoi(buf_.c_str() + 9);  // "HTTP/1.1 200 OK"
        const auto cl = buf_.find("Content-Length: ");
        if (cl == std::string::npos || cl > header_end) return 0;
        const std::size_t length = std::strtoul(buf_.c_str() + cl + 16, nullptr, 10);
        while (buf_.size() < header_end + 4 + length)
            if (!fill()) return 0;
        body.assign(buf_, header_end + 4, length);
        buf_.erase(0, header_end + 4 + length);
        return status;
    }

private:
    bool fill() {
        char chunk[16384];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        buf_.append(chunk, std::size_t(n));
        return true;
    }
    int fd_ = -1;
    std::string buf_;
};

std::string train_small_model() {
    const Dataset ds = synthetic_dataset();
    auto model = make_model("sasrec", {{"num_items", ds.num_items()}, {"maxlen", 50}});
    model->init(1);
    TrainOptions t;
    t.epochs = 1;
    const Split split = leave_one_out(ds);
    model->fit(split, t);
    const std::string dir =
        (std::filesystem::temp_directory_path() / "seqrec_bench_server_model").string();
    model->save(dir, ds.items);
    return dir;
}

int run_benchmark(int argc, char** argv) {
    bench::Args args(argc, argv,
                     "bench_server [--load MODEL_DIR] [--data FILE] [--clients 16] [--threads 2] "
                     "[--requests 50000] [--seconds 30] [--k 10] [--reloads 0] [--history N]");
    std::string dir = args.text("load", "");
    const std::string data = args.text("data", "");
    const long clients = args.integer("clients", 16), threads = args.integer("threads", 2),
               total = args.integer("requests", 50000), k = args.integer("k", 10),
               reloads = args.integer("reloads", 0), history = args.integer("history", -1);
    const double seconds = args.real("seconds", 30.0);
    args.finish();
    if (clients < 1 || threads < 1 || total < 1 || k < 1) args.fail("counts must be positive");
    if (dir.empty()) dir = train_small_model();
    set_threads(1);

    // Requests: each user's whole history, in external ids.
    const Dataset ds = data.empty() ? synthetic_dataset() : read_dataset(data, DataFormat::lines);
    std::vector<std::string> bodies;
    std::vector<std::string> expected;  // byte for byte: the server writes the same JSON
    const auto served = load_served_model(dir);
    const std::size_t keep = history < 0    ? std::size_t(served->info().maxlen)
                             : history == 0 ? SIZE_MAX
                                            : std::size_t(history);
    double items_sent = 0, direct_seconds = 0;
    for (Index u = 0; u < ds.num_users(); ++u) {
        Json h = Json::array();
        const auto& seq = ds.sequences[std::size_t(u)];
        for (std::size_t p = seq.size() - std::min(keep, seq.size()); p < seq.size(); ++p)
            h.push_back(ds.items.external(seq[p]));
        items_sent += double(h.size());
        const Json body = {{"history", h}, {"k", k}};
        const std::string json = body.dump();
        bodies.push_back(
            "POST /recommend HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(json.size()) + "\r\n\r\n" + json);
        const RecommendRequest request = request_from_json(body, {});
        const double s0 = bench::now_seconds();
        const RecommendResponse answer = served->recommend(request);
        direct_seconds += bench::now_seconds() - s0;
        expected.push_back(response_to_json(answer).dump());
    }

    server::ServerOptions o;
    o.port = 0;
    o.threads = int(threads);
    o.connections = int(std::max<long>(64, clients + 4));
    o.limits.max_items = 1 << 20;
    server::HttpService service(served, o);
    const int port = service.bind();
    std::thread listener([&] { service.listen(); });
    while (!service.running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    std::atomic<long> next{0}, errors{0}, wrong{0};
    std::mutex error_mu;
    std::string first_error;
    std::atomic<bool> stop{false};
    std::vector<std::vector<double>> latency(static_cast<std::size_t>(clients));
    const double t0 = bench::now_seconds();
    std::vector<std::thread> pool;
    for (long c = 0; c < clients; ++c)
        pool.emplace_back([&, c] {
            RawClient cli(port);
            std::string answer;
            auto& lat = latency[std::size_t(c)];
            for (;;) {
                const long n = next.fetch_add(1);
                if (n >= total || stop) return;
                const std::size_t r = std::size_t(n) % bodies.size();
                const double s = bench::now_seconds();
                const int status = cli.exchange(bodies[r], answer);
                lat.push_back(bench::now_seconds() - s);
                if (status != 200) {
                    if (errors.fetch_add(1) == 0) {
                        std::lock_guard<std::mutex> lock(error_mu);
                        first_error = status ? "status " + std::to_string(status) + ": " + answer
                                             : "transport error";
                    }
                    if (!status) return;  // the connection is gone
                } else if (answer != expected[r]) {
                    ++wrong;
                }
                if (bench::now_seconds() - t0 > seconds) stop = true;
            }
        });
    std::thread reloader([&] {
        httplib::Client admin("127.0.0.1", port);
        for (long r = 0; r < reloads && !stop; ++r) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            const auto res = admin.Post("/reload", "", "application/json");
            if (!res || res->status != 200) ++errors;
        }
    });
    for (auto& t : pool) t.join();
    const double elapsed = bench::now_seconds() - t0;
    stop = true;
    reloader.join();
    service.stop();
    listener.join();

    std::vector<double> all;
    for (const auto& l : latency) all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    const auto pct = [&](double p) {
        return all.empty() ? 0.0
                           : all[std::min(all.size() - 1, std::size_t(p * double(all.size())))];
    };
    const auto info = service.current()->info();
    std::printf("seqrec-server load test: %s (%s, %ld items, maxlen %ld), %zu distinct requests\n",
                dir.c_str(), info.variant.c_str(), long(info.num_items), long(info.maxlen),
                bodies.size());
    std::printf(
        "%ld clients (keep-alive), %ld scoring threads, k %ld, %.1f history items per request on "
        "average, %ld reloads, on 127.0.0.1\n",
        clients, threads, k, items_sent / double(bodies.size()), service.reloads());
    std::printf(
        "| requests | seconds | requests/s | p50 ms | p99 ms | max ms | errors | wrong |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    std::printf("| %zu | %.2f | %.0f | %.3f | %.3f | %.3f | %ld | %ld |\n", all.size(), elapsed,
                double(all.size()) / elapsed, 1e3 * pct(0.50), 1e3 * pct(0.99),
                1e3 * (all.empty() ? 0.0 : all.back()), errors.load(), wrong.load());
    std::printf("the library alone (same requests, one thread, no HTTP): %.0f requests/s\n",
                double(bodies.size()) / direct_seconds);
    if (!first_error.empty()) std::printf("first error: %s\n", first_error.c_str());
    return errors == 0 && wrong == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return seqrec::bench::guarded_main([&] { return run_benchmark(argc, argv); });
}
