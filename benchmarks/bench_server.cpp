// Load test of the HTTP server (examples/server): starts it on a free 127.0.0.1 port in this
// process, runs concurrent keep-alive clients for a bounded number of requests and a bounded
// time, checks every answer against the library's direct answer, and prints requests/s and
// latency percentiles.
//   bench_server [--load MODEL_DIR] [--data FILE] [--clients 16] [--threads 2]
//                [--requests 50000] [--seconds 30] [--k 10] [--reloads 0]
// Without --load it trains a small SASRec on the built-in synthetic data first. Requests are the
// users' full histories from --data (external ids, as the model was trained on them), or from the
// synthetic data. --reloads N posts N reloads of the model directory during the run.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <http_service.hpp>
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
                     "[--requests 50000] [--seconds 30] [--k 10] [--reloads 0]");
    std::string dir = args.text("load", "");
    const std::string data = args.text("data", "");
    const long clients = args.integer("clients", 16), threads = args.integer("threads", 2),
               total = args.integer("requests", 50000), k = args.integer("k", 10),
               reloads = args.integer("reloads", 0);
    const double seconds = args.real("seconds", 30.0);
    args.finish();
    if (clients < 1 || threads < 1 || total < 1 || k < 1) args.fail("counts must be positive");
    if (dir.empty()) dir = train_small_model();
    set_threads(1);

    // Requests: each user's whole history, in external ids.
    const Dataset ds = data.empty() ? synthetic_dataset() : read_dataset(data, DataFormat::lines);
    std::vector<std::string> bodies;
    std::vector<Json> expected;
    const auto served = load_served_model(dir);
    for (Index u = 0; u < ds.num_users(); ++u) {
        Json h = Json::array();
        for (ItemId i : ds.sequences[std::size_t(u)]) h.push_back(ds.items.external(i));
        const Json body = {{"history", h}, {"k", k}};
        bodies.push_back(body.dump());
        expected.push_back(response_to_json(served->recommend(request_from_json(body, {}))));
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
    std::atomic<bool> stop{false};
    std::vector<std::vector<double>> latency(static_cast<std::size_t>(clients));
    const double t0 = bench::now_seconds();
    std::vector<std::thread> pool;
    for (long c = 0; c < clients; ++c)
        pool.emplace_back([&, c] {
            httplib::Client cli("127.0.0.1", port);
            cli.set_read_timeout(30, 0);
            auto& lat = latency[std::size_t(c)];
            for (;;) {
                const long n = next.fetch_add(1);
                if (n >= total || stop) return;
                const std::size_t r = std::size_t(n) % bodies.size();
                const double s = bench::now_seconds();
                const auto res = cli.Post("/recommend", bodies[r], "application/json");
                lat.push_back(bench::now_seconds() - s);
                if (!res || res->status != 200)
                    ++errors;
                else if (Json::parse(res->body) != expected[r])
                    ++wrong;
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
    std::printf("%ld clients (keep-alive), %ld scoring threads, k %ld, %ld reloads, on 127.0.0.1\n",
                clients, threads, k, service.reloads());
    std::printf(
        "| requests | seconds | requests/s | p50 ms | p99 ms | max ms | errors | wrong |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    std::printf("| %zu | %.2f | %.0f | %.3f | %.3f | %.3f | %ld | %ld |\n", all.size(), elapsed,
                double(all.size()) / elapsed, 1e3 * pct(0.50), 1e3 * pct(0.99),
                1e3 * (all.empty() ? 0.0 : all.back()), errors.load(), wrong.load());
    return errors == 0 && wrong == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return seqrec::bench::guarded_main([&] { return run_benchmark(argc, argv); });
}
