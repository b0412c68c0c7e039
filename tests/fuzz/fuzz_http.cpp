// libFuzzer target: the server's HTTP/1.1 request parser (examples/server/http_request_parser.hpp).
// The first byte chooses where the rest is cut into two arrivals; the parser must reach the same
// result either way, take no more bytes than it was given, and never accept a body over its
// limit. Every request of a pipelined input is parsed in turn.
#include <cstdint>
#include <cstdlib>
#include <http_request_parser.hpp>
#include <string>

using seqrec::server::HttpRequestParser;

namespace {
struct Outcome {
    HttpRequestParser::Status status;
    std::size_t consumed;
    int error;
    std::string method, target, body;
    bool operator!=(const Outcome& o) const {
        return status != o.status || consumed != o.consumed || error != o.error ||
               method != o.method || target != o.target || body != o.body;
    }
};

Outcome parse(const std::string& in, std::size_t cut, const seqrec::server::HttpLimits& lim) {
    HttpRequestParser p(lim);
    auto st = p.parse(in.substr(0, cut));
    if (st == HttpRequestParser::Status::more) st = p.parse(in);
    Outcome o{st, 0, 0, {}, {}, {}};
    if (st == HttpRequestParser::Status::done) {
        o.consumed = p.consumed();
        o.method = p.request().method;
        o.target = p.request().target;
        o.body = p.request().body;
    } else if (st == HttpRequestParser::Status::error) {
        o.error = p.error_status();
        if (o.error < 400 || o.error > 599) std::abort();
    }
    return o;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    seqrec::server::HttpLimits lim;
    lim.max_body = 256;
    lim.max_header = 512;
    std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
    for (int request = 0; request < 8 && !in.empty(); ++request) {
        const std::size_t cut = std::size_t(data[0]) % (in.size() + 1);
        const Outcome whole = parse(in, in.size(), lim);
        const Outcome split = parse(in, cut, lim);
        // A cut can only turn "done" into the same "done"; an error seen early stays an error.
        if (whole.status == HttpRequestParser::Status::done && split != whole) std::abort();
        if (whole.status != HttpRequestParser::Status::done) return 0;
        if (whole.consumed == 0 || whole.consumed > in.size()) std::abort();
        if (whole.body.size() > lim.max_body) std::abort();
        in.erase(0, whole.consumed);
    }
    return 0;
}
