/// \file http_client.hpp
/// A minimal blocking HTTP/1.1 keep-alive client on one loopback socket, for the server's tests
/// and its load test: sends request bytes and reads one answer (status line, Content-Length,
/// body). A load generator should cost little next to the server it loads.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <seqrec/core/error.hpp>
#include <string>

namespace seqrec::server {

class HttpClient {
public:
    struct Reply {
        int status = 0;  ///< 0: the connection failed or closed before a whole answer
        std::string body;
    };

    /// Connects to 127.0.0.1:port; every read waits at most `timeout_seconds`.
    explicit HttpClient(int port, double timeout_seconds = 10) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw IoError("cannot create a socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(std::uint16_t(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        timeval tv{};
        tv.tv_sec = long(timeout_seconds);
        tv.tv_usec = long((timeout_seconds - double(tv.tv_sec)) * 1e6);
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd_);
            throw IoError("cannot connect to 127.0.0.1:" + std::to_string(port));
        }
    }
    ~HttpClient() { ::close(fd_); }
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    static std::string request_bytes(const std::string& method, const std::string& path,
                                     const std::string& body) {
        return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
               (method == "GET" ? std::string()
                                : "Content-Type: application/json\r\nContent-Length: " +
                                      std::to_string(body.size()) + "\r\n") +
               "\r\n" + body;
    }
    Reply get(const std::string& path) { return exchange(request_bytes("GET", path, "")); }
    Reply post(const std::string& path, const std::string& body) {
        return exchange(request_bytes("POST", path, body));
    }

    /// Sends the bytes as they are; reads one answer.
    Reply exchange(const std::string& bytes) {
        Reply r;
        r.status = exchange(bytes, r.body);
        return r;
    }
    int exchange(const std::string& bytes, std::string& body) {
        if (!send_all(bytes)) return 0;
        return read_answer(body);
    }
    bool send_all(const std::string& bytes) {
        for (std::size_t sent = 0; sent < bytes.size();) {
            const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += std::size_t(n);
        }
        return true;
    }
    /// Reads one answer (after send_all); 0 when the connection ends first.
    int read_answer(std::string& body) {
        std::size_t header_end;
        while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return 0;
        const int status = std::atoi(buf_.c_str() + 9);  // "HTTP/1.1 200 OK"
        if (status == 100) {                             // 100 Continue: the real answer follows
            buf_.erase(0, header_end + 4);
            return read_answer(body);
        }
        const auto cl = buf_.find("Content-Length: ");
        if (cl == std::string::npos || cl > header_end) return 0;
        const std::size_t length = std::strtoul(buf_.c_str() + cl + 16, nullptr, 10);
        while (buf_.size() < header_end + 4 + length)
            if (!fill()) return 0;
        body.assign(buf_, header_end + 4, length);
        buf_.erase(0, header_end + 4 + length);
        return status;
    }
    /// Whether the server has closed the connection (waits up to the read timeout).
    bool closed_by_server() {
        char c;
        return ::recv(fd_, &c, 1, 0) == 0;
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

}  // namespace seqrec::server
