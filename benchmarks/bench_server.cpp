// Load test of the HTTP server (examples/server): starts it on a free 127.0.0.1 port in this
// process, runs concurrent keep-alive clients for a bounded number of requests and a bounded
// time, checks every answer against the library's direct answer, and prints requests/s and
// latency percentiles.
//   bench_server [--load MODEL_DIR] [--data FILE] [--clients 16] [--threads 2]
//                [--requests 50000] [--seconds 30] [--k 10] [--reloads 0] [--history N]
//                [--connections 64] [--slow N]
// Without --load it trains a small SASRec on the built-in synthetic data first. Requests are the
// users' histories from --data (external ids, as the model was trained on them), or from the
// synthetic data, each cut to its last --history items (default: the model's window, what a
// client that knows the model sends; 0 = whole histories). --reloads N posts N reloads of the
// model directory during the run. --slow N runs the load a second time beside N hostile clients
// that each send a byte a second of a request they never finish (slow loris), and prints both.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <http_client.hpp>
#include <http_service.hpp>
#include <memory>
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
                     "[--requests 50000] [--seconds 30] [--k 10] [--reloads 0] [--history N] "
                     "[--connections 64] [--slow N]");
    std::string dir = args.text("load", "");
    const std::string data = args.text("data", "");
    const long clients = args.integer("clients", 16), threads = args.integer("threads", 2),
               total = args.integer("requests", 50000), k = args.integer("k", 10),
               reloads = args.integer("reloads", 0), history = args.integer("history", -1),
               slow = args.integer("slow", 0), connections = args.integer("connections", 64);
    const double seconds = args.real("seconds", 30.0);
    args.finish();
    if (clients < 1 || threads < 1 || total < 1 || k < 1 || slow < 0 || connections <= clients)
        args.fail("counts must be positive, and --connections above --clients");
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
    o.connections = int(connections);
    o.limits.max_items = 1 << 20;
    server::HttpService service(served, o);
    const int port = service.bind();
    std::thread listener([&] { service.listen(); });
    while (!service.running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    // One load phase: `clients` keep-alive clients for `total` requests or `seconds`, beside
    // `slow` clients that each send one byte a second of a request they never finish (and
    // reconnect when the server closes them).
    struct Phase {
        std::vector<double> latency;
        double elapsed = 0;
        long errors = 0, wrong = 0, reconnects = 0, slow_closed = 0;
        std::string first_error;
    };
    auto run_phase = [&](long hostile, long reloads_here) {
        Phase out;
        std::atomic<long> next{0}, errors{0}, wrong{0}, reconnects{0}, slow_closed{0};
        std::mutex error_mu;
        std::atomic<bool> stop{false};
        std::vector<std::vector<double>> latency(static_cast<std::size_t>(clients));
        std::thread loris([&] {
            std::vector<std::unique_ptr<server::HttpClient>> socks;
            const std::string start = "POST /recommend HTTP/1.1\r\nContent-Length: 1000\r\n\r";
            std::vector<std::size_t> sent(std::size_t(hostile), 0);
            for (long i = 0; i < hostile; ++i)
                socks.push_back(std::make_unique<server::HttpClient>(port));
            while (!stop) {
                for (long i = 0; i < hostile && !stop; ++i) {
                    auto& sock = socks[std::size_t(i)];
                    auto& at = sent[std::size_t(i)];
                    if (!sock->send_all(std::string(1, at < start.size() ? start[at] : ' '))) {
                        ++slow_closed;
                        try {
                            sock = std::make_unique<server::HttpClient>(port);
                        } catch (const Error&) {
                        }
                        at = 0;
                        continue;
                    }
                    ++at;
                }
                for (int w = 0; w < 100 && !stop; ++w)  // a byte a second, stopping promptly
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        });
        if (hostile > 0) std::this_thread::sleep_for(std::chrono::seconds(2));  // they hold on
        const double t0 = bench::now_seconds();
        std::vector<std::thread> pool;
        for (long c = 0; c < clients; ++c)
            pool.emplace_back([&, c] {
                auto cli = std::make_unique<server::HttpClient>(port, 30);
                std::string answer;
                auto& lat = latency[std::size_t(c)];
                for (;;) {
                    const long n = next.fetch_add(1);
                    if (n >= total || stop) return;
                    const std::size_t r = std::size_t(n) % bodies.size();
                    const double s = bench::now_seconds();
                    int status = cli->exchange(bodies[r], answer);
                    if (status == 0) {  // closed to make room (or failed): connect again, once
                        ++reconnects;
                        cli = std::make_unique<server::HttpClient>(port, 30);
                        status = cli->exchange(bodies[r], answer);
                    }
                    lat.push_back(bench::now_seconds() - s);
                    if (status != 200) {
                        if (errors.fetch_add(1) == 0) {
                            std::lock_guard<std::mutex> lock(error_mu);
                            out.first_error =
                                status ? "status " + std::to_string(status) + ": " + answer
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
            server::HttpClient admin(port, 30);
            for (long r = 0; r < reloads_here && !stop; ++r) {
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                if (admin.post("/reload", "").status != 200) ++errors;
            }
        });
        for (auto& t : pool) t.join();
        out.elapsed = bench::now_seconds() - t0;
        stop = true;
        reloader.join();
        loris.join();
        for (const auto& l : latency) out.latency.insert(out.latency.end(), l.begin(), l.end());
        std::sort(out.latency.begin(), out.latency.end());
        out.errors = errors;
        out.wrong = wrong;
        out.reconnects = reconnects;
        out.slow_closed = slow_closed;
        return out;
    };
    std::vector<std::pair<long, Phase>> phases;
    phases.emplace_back(0, run_phase(0, reloads));
    if (slow > 0) phases.emplace_back(slow, run_phase(slow, 0));
    // Oversized chunked bodies (8 MiB each, --max-body 1 MiB): refused while they arrive, and
    // the server's memory stays where it was.
    std::vector<long> resident = {bench::resident_kib()};
    std::string refused;
    for (int round = 0; round < 2; ++round) {
        for (int attack = 0; attack < 3; ++attack) {
            server::HttpClient sock(port, 10);
            sock.send_all(
                "POST /recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: "
                "chunked\r\n\r\n");
            const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
            for (int c = 0; c < 128 && sock.send_all(chunk); ++c) {
            }
            std::string answer;
            refused += (refused.empty() ? "" : ", ") + std::to_string(sock.read_answer(answer));
        }
        resident.push_back(bench::resident_kib());
    }
    service.stop();
    listener.join();

    const auto info = service.current()->info();
    std::printf("seqrec-server load test: %s (%s, %ld items, maxlen %ld), %zu distinct requests\n",
                dir.c_str(), info.variant.c_str(), long(info.num_items), long(info.maxlen),
                bodies.size());
    std::printf(
        "%ld clients (keep-alive), %ld scoring threads, %d connections, k %ld, %.1f history items "
        "per request on average, %ld reloads, on 127.0.0.1\n",
        clients, threads, o.connections, k, items_sent / double(bodies.size()), service.reloads());
    std::printf(
        "| slow clients | requests | seconds | requests/s | p50 ms | p99 ms | max ms | errors | "
        "wrong | reconnects | slow ones closed |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    long errors = 0, wrong = 0;
    for (const auto& [n, ph] : phases) {
        const auto& all = ph.latency;
        const auto pct = [&](double p) {
            return all.empty() ? 0.0
                               : all[std::min(all.size() - 1, std::size_t(p * double(all.size())))];
        };
        std::printf("| %ld | %zu | %.2f | %.0f | %.3f | %.3f | %.3f | %ld | %ld | %ld | %ld |\n", n,
                    all.size(), ph.elapsed, double(all.size()) / ph.elapsed, 1e3 * pct(0.50),
                    1e3 * pct(0.99), 1e3 * (all.empty() ? 0.0 : all.back()), ph.errors, ph.wrong,
                    ph.reconnects, ph.slow_closed);
        if (!ph.first_error.empty()) std::printf("first error: %s\n", ph.first_error.c_str());
        errors += ph.errors;
        wrong += ph.wrong;
    }
    if (phases.size() == 2)
        std::printf("with %ld slow clients: %.0f%% of the throughput without them\n", slow,
                    100.0 * (double(phases[1].second.latency.size()) / phases[1].second.elapsed) /
                        (double(phases[0].second.latency.size()) / phases[0].second.elapsed));
    std::printf(
        "chunked bodies of 8 MiB (--max-body %zu), two rounds of 3: statuses %s; resident memory "
        "(server and clients) %ld KiB before, %ld after the first round, %ld after the second\n",
        o.max_body, refused.c_str(), resident[0], resident[1], resident[2]);
    std::printf("the library alone (same requests, one thread, no HTTP): %.0f requests/s\n",
                double(bodies.size()) / direct_seconds);
    return errors == 0 && wrong == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return seqrec::bench::guarded_main([&] { return run_benchmark(argc, argv); });
}
