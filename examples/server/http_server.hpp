/// \file http_server.hpp
/// The server's HTTP/1.1 transport on POSIX sockets: one thread holds every connection with
/// poll(), a pool of worker threads runs the handler on complete requests.
///
/// Why not a thread per connection (what cpp-httplib 0.11, Debian 12's, does): a connection
/// that sends a byte a second then holds a thread for as long as it likes, and as many such
/// clients as threads stop the server. Here a connection costs a buffer until its request is
/// complete; only complete requests reach a worker. Hostile clients are bounded by:
///   - a deadline for the whole request (request line, headers and body) from its first byte,
///     and one for writing the answer: 408 or a close when it passes;
///   - an idle timeout for keep-alive connections between requests;
///   - a connection limit: when it is reached, a new connection closes the one that has waited
///     longest without a complete request (idle, or a slow client's), if that is over half a
///     second; otherwise the newcomer is refused;
///   - the parser's limits (http_request_parser.hpp), whatever the transfer encoding.
/// The listening socket is bound without SO_REUSEPORT: a port in use is an error, never a
/// second server sharing it.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <seqrec/core/error.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http_request_parser.hpp"

namespace seqrec::server {

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;              ///< 0: any free port (bind() returns it)
    int workers = 2;              ///< requests handled at once
    int connections = 64;         ///< connections held open at once
    double request_seconds = 10;  ///< a whole request must arrive within this, from its first byte
    double idle_seconds = 5;      ///< a keep-alive connection with no request is closed after this
    HttpLimits limits;
};

struct HttpResponse {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

/// {"error": message} with `status`: how the transport answers what it refuses itself.
inline HttpResponse error_response(int status, const std::string& message) {
    return {status, nlohmann::json{{"error", message}}.dump(), "application/json"};
}

inline const char* reason_phrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 413:
            return "Content Too Large";
        case 417:
            return "Expectation Failed";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 503:
            return "Service Unavailable";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return status < 400 ? "OK" : "Error";
    }
}

/// The bytes of a response on the wire.
inline std::string wire(const HttpResponse& r, bool keep_alive) {
    std::string out =
        "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) +
        "\r\nContent-Type: " + r.content_type +
        "\r\nContent-Length: " + std::to_string(r.body.size()) +
        (keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
    out += r.body;
    return out;
}

class HttpServer {
    using Clock = std::chrono::steady_clock;

public:
    HttpServer(HttpServerOptions options, HttpHandler handler)
        : options_(std::move(options)), handler_(std::move(handler)) {
        if (options_.workers < 1 || options_.connections < 1)
            throw ConfigError("the server needs at least one worker and one connection");
        if (!(options_.request_seconds > 0) || !(options_.idle_seconds > 0))
            throw ConfigError("the request deadline and idle timeout must be positive");
        if (::pipe(wake_) != 0) throw IoError("cannot create the server's wake-up pipe");
        for (int fd : wake_) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    ~HttpServer() {
        stop();
        join_workers();
        for (auto& [id, c] : conns_) ::close(c.fd);
        if (listen_fd_ >= 0) ::close(listen_fd_);
        for (int fd : wake_) ::close(fd);
    }
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds and listens; returns the port. IoError naming the port when it is in use.
    int bind() {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        addrinfo* found = nullptr;
        const std::string port = std::to_string(options_.port);
        if (::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found) != 0 || !found)
            throw IoError("cannot listen on " + options_.host + ": not a host name or address");
        int error = 0;
        for (addrinfo* a = found; a && listen_fd_ < 0; a = a->ai_next) {
            const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
            if (fd < 0) continue;
            // SO_REUSEADDR only lets a restarted server reuse a port in TIME_WAIT; on Linux it
            // never lets two sockets listen on one port (SO_REUSEPORT would, and is not set).
            const int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
                listen_fd_ = fd;
                break;
            }
            error = errno;
            ::close(fd);
        }
        ::freeaddrinfo(found);
        if (listen_fd_ < 0)
            throw IoError(error == EADDRINUSE
                              ? "port " + port + " on " + options_.host +
                                    " is already in use (is another server running?)"
                              : "cannot listen on " + options_.host + ":" + port + ": " +
                                    std::strerror(error));
        ::fcntl(listen_fd_, F_SETFL, ::fcntl(listen_fd_, F_GETFL) | O_NONBLOCK);
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        return addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                          : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    }

    /// Serves until stop(); call after bind().
    void run() {
        if (listen_fd_ < 0) throw IoError("the server is not bound (call bind() first)");
        for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
        running_ = true;
        while (!stopping_.load()) loop_once();
        running_ = false;
        join_workers();
        for (auto& [id, c] : conns_) ::close(c.fd);
        conns_.clear();
    }
    /// Ends run() (from any thread; requests being handled finish first).
    void stop() {
        stopping_ = true;
        wake();
    }
    bool running() const { return running_.load(); }

private:
    struct Connection {
        int fd = -1;
        std::string in, out;
        std::size_t out_at = 0;
        HttpRequestParser parser;
        Clock::time_point started{}, last{}, writing{};
        bool busy = false;         // its request is with a worker
        bool close_after = false;  // close once `out` is written
        bool peer_gone = false;    // closed by the client while busy
        bool continued = false;    // 100 Continue sent for this request
    };
    struct Job {
        std::uint64_t id;
        HttpRequest request;
    };
    struct Done {
        std::uint64_t id;
        std::string bytes;
        bool keep_alive;
    };

    void wake() {
        const char b = 1;
        [[maybe_unused]] const auto n = ::write(wake_[1], &b, 1);  // full pipe: already awake
    }

    void work() {
        for (;;) {
            Job job;
            {
                std::unique_lock<std::mutex> lock(mu_);
                jobs_cv_.wait(lock, [&] { return stopping_.load() || !jobs_.empty(); });
                if (jobs_.empty()) return;
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            HttpResponse r;
            try {
                r = handler_(job.request);
            } catch (...) {  // the handler answers its own errors; this is the last resort
                r = error_response(500, "internal error");
            }
            Done d{job.id, wire(r, job.request.keep_alive), job.request.keep_alive};
            {
                std::lock_guard<std::mutex> lock(mu_);
                done_.push_back(std::move(d));
            }
            wake();
        }
    }
    void join_workers() {
        jobs_cv_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
    }

    double seconds(Clock::time_point since, Clock::time_point now) const {
        return std::chrono::duration<double>(now - since).count();
    }

    void loop_once() {
        const auto now = Clock::now();
        std::vector<pollfd> fds;
        std::vector<std::uint64_t> ids;
        fds.push_back({wake_[0], POLLIN, 0});
        fds.push_back({listen_fd_, POLLIN, 0});
        double wait = 1.0;
        for (auto& [id, c] : conns_) {
            short events = 0;
            if (!c.busy) events = c.out_at < c.out.size() ? POLLOUT : POLLIN;
            fds.push_back({c.fd, events, 0});
            ids.push_back(id);
            if (!c.busy) wait = std::min(wait, time_left(c, now));
        }
        const int ms = int(std::max(0.0, wait) * 1000.0) + 1;
        if (::poll(fds.data(), nfds_t(fds.size()), ms) < 0 && errno != EINTR)
            throw IoError(std::string("poll failed: ") + std::strerror(errno));
        if (fds[0].revents) {
            char buf[256];
            while (::read(wake_[0], buf, sizeof buf) > 0) {
            }
        }
        collect_answers();
        for (std::size_t i = 2; i < fds.size(); ++i) {
            if (!fds[i].revents) continue;
            auto it = conns_.find(ids[i - 2]);
            if (it == conns_.end()) continue;
            Connection& c = it->second;
            if (c.busy) {  // only hang-ups are reported: keep the fd until the answer is back
                c.peer_gone = true;
                continue;
            }
            if (fds[i].revents & (POLLERR | POLLNVAL)) {
                close_connection(it->first);
                continue;
            }
            if (c.out_at < c.out.size()) {
                if (fds[i].revents & (POLLOUT | POLLHUP)) write_out(it->first);
            } else if (fds[i].revents & (POLLIN | POLLHUP)) {
                read_in(it->first);
            }
        }
        if (fds[1].revents & POLLIN) accept_new();
        expire(Clock::now());
    }

    /// Seconds until this connection's deadline.
    double time_left(const Connection& c, Clock::time_point now) const {
        if (c.out_at < c.out.size()) return options_.request_seconds - seconds(c.writing, now);
        if (!c.in.empty()) return options_.request_seconds - seconds(c.started, now);
        return options_.idle_seconds - seconds(c.last, now);
    }

    void expire(Clock::time_point now) {
        std::vector<std::uint64_t> late;
        for (auto& [id, c] : conns_)
            if (!c.busy && time_left(c, now) <= 0) late.push_back(id);
        for (std::uint64_t id : late) {
            Connection& c = conns_[id];
            if (!c.in.empty() && c.out_at >= c.out.size()) {  // an unfinished request: say why
                const std::string bytes = wire(
                    error_response(408, "the request did not arrive within " +
                                            std::to_string(int(options_.request_seconds)) + " s"),
                    false);
                [[maybe_unused]] const auto n =
                    ::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            close_connection(id);
        }
    }

    void accept_new() {
        for (;;) {
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;  // EAGAIN, or an error on one connection attempt
            if (conns_.size() >= std::size_t(options_.connections) && !evict_one()) {
                ::close(fd);  // every connection is being answered: try again later
                continue;
            }
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            Connection c;
            c.fd = fd;
            c.parser = HttpRequestParser(options_.limits);
            c.last = Clock::now();
            conns_.emplace(next_id_++, std::move(c));
        }
    }

    /// Makes room for a new connection: closes the one that has waited longest without a
    /// complete request (an idle keep-alive connection or a slow client's unfinished one; a
    /// client in the middle of quick requests has waited for microseconds). Never one being
    /// answered, and never one that waited under half a second.
    bool evict_one() {
        const auto now = Clock::now();
        std::uint64_t victim = 0;
        double longest = -1;
        for (auto& [id, c] : conns_) {
            if (c.busy || c.out_at < c.out.size()) continue;
            const double waited = seconds(c.in.empty() ? c.last : c.started, now);
            if (waited > longest) {
                longest = waited;
                victim = id;
            }
        }
        // A connection busy with quick requests is never the one closed: when every other
        // has waited under half a second (a burst of new connections), the newcomer is refused.
        if (longest < 0.5) return false;
        close_connection(victim);
        return true;
    }

    void close_connection(std::uint64_t id) {
        auto it = conns_.find(id);
        if (it == conns_.end()) return;
        ::close(it->second.fd);
        const bool large = it->second.in.capacity() + it->second.out.capacity() > (256u << 10);
        conns_.erase(it);
        if (large) give_back_memory();
    }
    /// A refused or finished large body leaves megabytes that glibc would keep for later; a
    /// server answering small requests would then sit above its usual size for good.
    static void give_back_memory() {
#ifdef __GLIBC__
        ::malloc_trim(0);
#endif
    }

    void read_in(std::uint64_t id) {
        Connection& c = conns_[id];
        const HttpLimits& lim = options_.limits;
        // Framing overhead allowed on top of the body (chunk size lines): a quarter of it.
        const std::size_t cap = lim.max_header + lim.max_body + lim.max_body / 4 + 4096;
        char buf[65536];
        for (;;) {
            const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                close_connection(id);
                return;
            }
            if (n < 0) break;
            if (c.in.empty()) c.started = Clock::now();
            c.in.append(buf, std::size_t(n));
            if (c.in.size() > cap) break;  // the parser refuses it below
            if (std::size_t(n) < sizeof buf) break;
        }
        advance(id);
    }

    /// Parses what has arrived: hands a complete request to a worker, or answers an error.
    void advance(std::uint64_t id) {
        Connection& c = conns_[id];
        if (c.busy || c.in.empty()) return;
        const auto status = c.parser.parse(c.in);
        if (status == HttpRequestParser::Status::error) {
            respond_now(id, error_response(c.parser.error_status(), c.parser.error()));
            return;
        }
        if (status == HttpRequestParser::Status::more) {
            const HttpLimits& lim = options_.limits;
            if (c.in.size() > lim.max_header + lim.max_body + lim.max_body / 4 + 4096) {
                respond_now(id, error_response(413, "the request exceeds the size limit"));
            } else if (c.parser.wants_continue() && !c.continued) {
                c.continued = true;
                static const std::string go = "HTTP/1.1 100 Continue\r\n\r\n";
                [[maybe_unused]] const auto n =
                    ::send(c.fd, go.data(), go.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            return;
        }
        c.in.erase(0, c.parser.consumed());
        Job job{id, c.parser.take_request()};
        c.parser.reset();
        c.continued = false;
        c.busy = true;
        {
            std::lock_guard<std::mutex> lock(mu_);
            jobs_.push_back(std::move(job));
        }
        jobs_cv_.notify_one();
    }

    void respond_now(std::uint64_t id, const HttpResponse& r) {
        Connection& c = conns_[id];
        c.out = wire(r, false);
        c.out_at = 0;
        c.close_after = true;
        c.in.clear();
        c.writing = Clock::now();
        write_out(id);
    }

    void collect_answers() {
        std::deque<Done> done;
        {
            std::lock_guard<std::mutex> lock(mu_);
            done.swap(done_);
        }
        for (Done& d : done) {
            auto it = conns_.find(d.id);
            if (it == conns_.end()) continue;
            Connection& c = it->second;
            c.busy = false;
            if (c.peer_gone) {
                close_connection(d.id);
                continue;
            }
            c.out = std::move(d.bytes);
            c.out_at = 0;
            c.close_after = !d.keep_alive;
            c.writing = Clock::now();
            write_out(d.id);
        }
    }

    void write_out(std::uint64_t id) {
        Connection& c = conns_[id];
        while (c.out_at < c.out.size()) {
            const ssize_t n = ::send(c.fd, c.out.data() + c.out_at, c.out.size() - c.out_at,
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // POLLOUT later
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                close_connection(id);
                return;
            }
            c.out_at += std::size_t(n);
        }
        if (c.close_after) {
            close_connection(id);
            return;
        }
        c.out.clear();
        c.out_at = 0;
        const auto now = Clock::now();
        c.last = now;
        c.started = now;  // pipelined bytes already here belong to the next request
        advance(id);
    }

    HttpServerOptions options_;
    HttpHandler handler_;
    int listen_fd_ = -1;
    int wake_[2] = {-1, -1};
    std::unordered_map<std::uint64_t, Connection> conns_;  // the I/O thread's alone
    std::uint64_t next_id_ = 1;
    std::mutex mu_;
    std::condition_variable jobs_cv_;
    std::deque<Job> jobs_;
    std::deque<Done> done_;
    std::vector<std::thread> workers_;
    std::atomic<bool> stopping_{false}, running_{false};
};

}  // namespace seqrec::server
