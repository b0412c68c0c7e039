// seqrec-server: serves a saved model over HTTP (see http_service.hpp for the endpoints).
//   seqrec-server --load MODEL_DIR [--port 8080] [--host 127.0.0.1] [--threads 2]
//                 [--connections 64] [--max-body BYTES] [--max-k 1000] [--max-items 10000]
//                 [--request-timeout 10]
// SIGHUP reloads the model directory (like POST /reload); SIGINT / SIGTERM stop the server.
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "http_service.hpp"

namespace {

constexpr const char* kUsage =
    "usage: seqrec-server --load MODEL_DIR [--port 8080] [--host 127.0.0.1] [--threads 2]\n"
    "                     [--connections 64] [--max-body BYTES] [--max-k 1000] "
    "[--max-items 10000]\n"
    "                     [--request-timeout SECONDS]\n"
    "A request (headers and body) must arrive within --request-timeout seconds (default 10);\n"
    "idle keep-alive connections close after 5 s. A port in use is an error.\n";

struct Usage : seqrec::Error {
    using Error::Error;
};

long integer_flag(const std::map<std::string, std::string>& flags, const std::string& name,
                  long def, long lo, long hi) {
    const auto it = flags.find(name);
    if (it == flags.end()) return def;
    std::size_t pos = 0;
    long v = 0;
    try {
        v = std::stol(it->second, &pos);
    } catch (...) {
        pos = std::string::npos;
    }
    if (pos != it->second.size() || v < lo || v > hi)
        throw Usage("--" + name + " = '" + it->second + "' must be an integer in [" +
                    std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
}

int run(int argc, char** argv) {
    std::map<std::string, std::string> flags;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (a.rfind("--", 0) != 0 || i + 1 >= argc)
            throw Usage("expected '--option value', got '" + a + "'");
        flags[a.substr(2)] = argv[++i];
    }
    for (const auto& [k, v] : flags)
        if (k != "load" && k != "port" && k != "host" && k != "threads" && k != "connections" &&
            k != "max-body" && k != "max-k" && k != "max-items" && k != "request-timeout")
            throw Usage("unknown option --" + k);
    if (!flags.count("load")) throw Usage("--load MODEL_DIR is required");
    seqrec::server::ServerOptions o;
    o.host = flags.count("host") ? flags["host"] : o.host;
    o.port = int(integer_flag(flags, "port", o.port, 0, 65535));
    o.threads = int(integer_flag(flags, "threads", o.threads, 1, 1024));
    o.connections = int(integer_flag(flags, "connections", o.connections, 1, 4096));
    o.max_body = std::size_t(integer_flag(flags, "max-body", long(o.max_body), 1, 1L << 30));
    o.limits.max_k = integer_flag(flags, "max-k", o.limits.max_k, 1, 1L << 30);
    o.limits.max_items = integer_flag(flags, "max-items", o.limits.max_items, 1, 1L << 30);
    o.request_seconds = double(integer_flag(flags, "request-timeout", 10, 1, 3600));

    // Signals go to one thread that waits for them; the others never see them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    seqrec::set_threads(1);  // single requests never fan out; the server's threads are the pool
    seqrec::server::HttpService service(seqrec::load_served_model(flags["load"]), o);
    const int port = service.bind();
    const auto info = service.current()->info();
    std::fprintf(stderr, "seqrec-server: %s (%s, %ld items) on http://%s:%d, %d scoring threads\n",
                 flags["load"].c_str(), info.variant.c_str(), long(info.num_items), o.host.c_str(),
                 port, o.threads);
    std::thread waiter([&] {
        for (;;) {
            int sig = 0;
            sigwait(&signals, &sig);
            if (sig == SIGHUP) {
                try {
                    service.reload();
                    std::fprintf(stderr, "seqrec-server: reloaded %s\n", flags["load"].c_str());
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "seqrec-server: reload failed, old model kept: %s\n",
                                 e.what());
                }
                continue;
            }
            service.stop();
            return;
        }
    });
    service.listen();
    kill(getpid(), SIGTERM);  // wakes the waiter if listen() ended without a signal
    waiter.join();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const Usage& e) {
        std::fprintf(stderr, "seqrec-server: %s\n%s", e.what(), kUsage);
        return 2;
    } catch (const seqrec::ConfigError& e) {
        std::fprintf(stderr, "seqrec-server: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "seqrec-server: error: %s\n", e.what());
        return 1;
    }
}
