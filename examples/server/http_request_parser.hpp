/// \file http_request_parser.hpp
/// An incremental HTTP/1.1 request parser with hard limits, for the server's own transport
/// (http_server.hpp). It reads the bytes a connection has received so far and says: more bytes
/// needed, a complete request (and how many bytes it took), or an error with its HTTP status.
/// Limits hold before anything is buffered past them: a header block above `max_header` is 431,
/// a Content-Length above `max_body` is 413 before the body is read, and a chunked body is 413
/// as soon as its chunk sizes add up past `max_body`. What a proxy could read differently from
/// us (two Content-Length headers, Content-Length beside Transfer-Encoding, whitespace before a
/// header's colon, folded header lines) is 400: the request-smuggling cases.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>

namespace seqrec::server {

struct HttpLimits {
    std::size_t max_header = 16 * 1024;  ///< request line and headers, bytes
    std::size_t max_body = 1 << 20;      ///< decoded body, bytes
    std::size_t max_headers = 100;       ///< header lines
};

struct HttpRequest {
    std::string method, target, body;
    bool keep_alive = true;
};

class HttpRequestParser {
public:
    enum class Status { more, done, error };

    explicit HttpRequestParser(HttpLimits limits = {}) : limits_(limits) {}

    /// Parses `in`, the connection's unconsumed bytes, which start at this request. Call again
    /// with the same bytes plus more after Status::more; reset() before the next request.
    Status parse(const std::string& in) {
        if (status_ != Status::more) return status_;
        if (header_end_ == 0 && !find_header_end(in)) return status_;
        if (header_end_ != 0 && !headers_parsed_ && !parse_headers(in)) return status_;
        return chunked_ ? parse_chunked(in) : parse_sized(in);
    }

    void reset() { *this = HttpRequestParser(limits_); }

    const HttpRequest& request() const { return request_; }
    HttpRequest take_request() { return std::move(request_); }
    /// Bytes of the input the complete request took (the next request starts there).
    std::size_t consumed() const { return consumed_; }
    int error_status() const { return error_status_; }
    const std::string& error() const { return error_; }
    /// Headers read, body still to come, and the client asked to be told to send it.
    bool wants_continue() const {
        return status_ == Status::more && headers_parsed_ && expect_continue_;
    }

private:
    Status fail(int status, std::string message) {
        status_ = Status::error;
        error_status_ = status;
        error_ = std::move(message);
        return status_;
    }

    bool find_header_end(const std::string& in) {
        // Leading empty lines before a request are allowed (RFC 9112 2.2).
        while (skip_ + 1 < in.size() && in[skip_] == '\r' && in[skip_ + 1] == '\n') skip_ += 2;
        const std::size_t from = std::max(scanned_, skip_);
        const std::size_t at = in.find("\r\n\r\n", from);
        if (at == std::string::npos) {
            scanned_ = in.size() >= 3 ? in.size() - 3 : 0;
            if (in.size() - skip_ > limits_.max_header)
                fail(431, "the request line and headers exceed " +
                              std::to_string(limits_.max_header) + " bytes");
            return false;
        }
        if (at + 4 - skip_ > limits_.max_header) {
            fail(431, "the request line and headers exceed " + std::to_string(limits_.max_header) +
                          " bytes");
            return false;
        }
        header_end_ = at + 4;
        return true;
    }

    static bool is_token_char(char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string("!#$%&'*+-.^_`|~").find(c) != std::string::npos;
    }
    static std::string lower(std::string s) {
        for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
        return s;
    }
    static std::string trim(const std::string& s) {
        std::size_t a = 0, b = s.size();
        while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
        return s.substr(a, b - a);
    }

    bool parse_request_line(const std::string& line) {
        const std::size_t sp1 = line.find(' ');
        const std::size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
        if (sp1 == 0 || sp2 == std::string::npos || sp2 == sp1 + 1 ||
            line.find(' ', sp2 + 1) != std::string::npos) {
            fail(400, "malformed request line");
            return false;
        }
        request_.method = line.substr(0, sp1);
        request_.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        const std::string version = line.substr(sp2 + 1);
        for (char c : request_.method)
            if (!is_token_char(c)) {
                fail(400, "malformed request line");
                return false;
            }
        for (char c : request_.target)
            if (static_cast<unsigned char>(c) <= 32 || c == 127) {
                fail(400, "malformed request line");
                return false;
            }
        if (version == "HTTP/1.1") {
            request_.keep_alive = true;
        } else if (version == "HTTP/1.0") {
            request_.keep_alive = false;
        } else if (version.rfind("HTTP/", 0) == 0) {
            fail(505, "only HTTP/1.0 and HTTP/1.1 are served");
            return false;
        } else {
            fail(400, "malformed request line");
            return false;
        }
        return true;
    }

    bool parse_headers(const std::string& in) {
        std::size_t pos = skip_;
        std::size_t eol = in.find("\r\n", pos);
        if (!parse_request_line(in.substr(pos, eol - pos))) return false;
        pos = eol + 2;
        std::size_t lines = 0, lengths = 0;
        bool has_te = false;
        while (pos + 2 < header_end_) {
            eol = in.find("\r\n", pos);
            const std::string line = in.substr(pos, eol - pos);
            pos = eol + 2;
            if (++lines > limits_.max_headers) {
                fail(431, "more than " + std::to_string(limits_.max_headers) + " header lines");
                return false;
            }
            const std::size_t colon = line.find(':');
            if (colon == 0 || colon == std::string::npos) {  // also a folded line (leading space)
                fail(400, "malformed header line");
                return false;
            }
            const std::string name = lower(line.substr(0, colon));
            for (char c : name)
                if (!is_token_char(c)) {  // whitespace before the colon: smuggling (RFC 9112 5.1)
                    fail(400, "malformed header name");
                    return false;
                }
            const std::string value = trim(line.substr(colon + 1));
            if (name == "content-length") {
                if (++lengths > 1) {
                    fail(400, "more than one Content-Length header");
                    return false;
                }
                if (value.empty() || value.size() > 18 ||
                    !std::all_of(value.begin(), value.end(),
                                 [](char c) { return c >= '0' && c <= '9'; })) {
                    fail(400, "Content-Length must be a non-negative integer");
                    return false;
                }
                length_ = std::stoull(value);
            } else if (name == "transfer-encoding") {
                if (has_te || lower(value) != "chunked") {
                    fail(501, "only the chunked transfer encoding is supported");
                    return false;
                }
                has_te = true;
            } else if (name == "connection") {
                const std::string v = lower(value);
                if (v.find("close") != std::string::npos) request_.keep_alive = false;
                if (v.find("keep-alive") != std::string::npos) request_.keep_alive = true;
            } else if (name == "expect") {
                if (lower(value) != "100-continue") {
                    fail(417, "only Expect: 100-continue is supported");
                    return false;
                }
                expect_continue_ = true;
            }
        }
        if (has_te && lengths > 0) {
            fail(400, "Content-Length and Transfer-Encoding together");
            return false;
        }
        if (lengths > 0 && length_ > limits_.max_body) {
            fail(413, "the body is too large (the limit is " + std::to_string(limits_.max_body) +
                          " bytes)");
            return false;
        }
        chunked_ = has_te;
        at_ = header_end_;
        headers_parsed_ = true;
        return true;
    }

    Status parse_sized(const std::string& in) {
        if (in.size() < header_end_ + length_) return status_;
        request_.body.assign(in, header_end_, std::size_t(length_));
        consumed_ = header_end_ + std::size_t(length_);
        return status_ = Status::done;
    }

    /// Decodes chunks from at_ as far as the input goes; the body grows only chunk by chunk
    /// after its size line passed the limit.
    Status parse_chunked(const std::string& in) {
        constexpr std::size_t kMaxLine = 1024;
        for (;;) {
            const std::size_t eol = in.find("\r\n", at_);
            if (eol == std::string::npos) {
                if (in.size() - at_ > kMaxLine) return fail(400, "malformed chunk");
                return status_;
            }
            if (eol - at_ > kMaxLine) return fail(400, "malformed chunk");
            if (in_trailers_) {
                if (eol == at_) {  // the empty line that ends the trailers
                    consumed_ = eol + 2;
                    return status_ = Status::done;
                }
                trailer_bytes_ += eol + 2 - at_;
                if (trailer_bytes_ > limits_.max_header)
                    return fail(431, "the trailers exceed " + std::to_string(limits_.max_header) +
                                         " bytes");
                at_ = eol + 2;
                continue;
            }
            std::size_t size = 0, digits = 0, i = at_;
            for (; i < eol && std::isxdigit(static_cast<unsigned char>(in[i])); ++i, ++digits) {
                if (digits >= 15) return fail(413, "a chunk exceeds the body limit");
                const char c = char(std::tolower(static_cast<unsigned char>(in[i])));
                size = size * 16 + std::size_t(c <= '9' ? c - '0' : c - 'a' + 10);
            }
            if (digits == 0 || (i < eol && in[i] != ';' && in[i] != ' ' && in[i] != '\t'))
                return fail(400, "malformed chunk size");
            if (size == 0) {
                in_trailers_ = true;
                at_ = eol + 2;
                continue;
            }
            if (request_.body.size() + size > limits_.max_body)
                return fail(413, "the body is too large (the limit is " +
                                     std::to_string(limits_.max_body) + " bytes)");
            const std::size_t data = eol + 2;
            if (in.size() < data + size + 2) return status_;
            if (in[data + size] != '\r' || in[data + size + 1] != '\n')
                return fail(400, "malformed chunk");
            request_.body.append(in, data, size);
            at_ = data + size + 2;
        }
    }

    HttpLimits limits_;
    HttpRequest request_;
    Status status_ = Status::more;
    int error_status_ = 0;
    std::string error_;
    std::size_t skip_ = 0, scanned_ = 0, header_end_ = 0, at_ = 0, consumed_ = 0;
    std::size_t trailer_bytes_ = 0;
    unsigned long long length_ = 0;
    bool headers_parsed_ = false, chunked_ = false, expect_continue_ = false, in_trailers_ = false;
};

}  // namespace seqrec::server
