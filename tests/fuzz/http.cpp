// The bytes as a client's side of an HTTP connection, fed to the control
// server's request parser the way a connection feeds it: in reads of the size
// the first byte says (0: all at once), each request answered before the next
// is parsed, until one fails or does not keep the connection alive. Complete
// requests go through a router with a plain and a capturing route, whose
// handlers read the query string, as the API's do.
#include <string>
#include <string_view>

#include "dnsd/control/http.hpp"
#include "dnsd/control/router.hpp"
#include "fuzz.hpp"

using namespace dnsd::control;

namespace {

// Small, so that short inputs reach the 431 and 413 limits.
const http::Limits limits{.header_bytes = 512, .body_bytes = 256};

const http::Router& router() {
    static const http::Router router = [] {
        http::Router r;
        auto handler = [](http::Request& request, const http::Params&, http::Respond respond) {
            respond(http::parse_query(request.query) ? http::Response{} : http::Response::error(400, "bad query"));
        };
        r.add("GET", "/v1/explain", handler);
        r.add("PUT", "/v1/zones/{zone}/pools/{pool}/members/{address}", handler);
        return r;
    }();
    return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t read_size = data[0] == 0 ? size : data[0];
    std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
    http::RequestParser parser(limits);
    std::string pending;
    for (;;) {
        size_t used = 0;
        const auto status = parser.feed(pending, used);
        dnsd::fuzz::require(used <= pending.size(), "the parser takes only what it was given");
        pending.erase(0, used);
        if (status == http::RequestParser::Status::failed) {
            const http::Response& error = parser.error();
            dnsd::fuzz::require(error.status >= 400 && error.status < 500, "a bad request gets a 4xx");
            http::serialize(error, false);
            return 0;
        }
        if (status == http::RequestParser::Status::complete) {
            http::Request& request = parser.request();
            dnsd::fuzz::require(!request.method.empty() && request.path.starts_with('/'),
                                "a complete request has a method and an origin-form path");
            int responses = 0;
            router().handle(request, [&](http::Response response) {
                ++responses;
                http::serialize(response, parser.keep_alive());
            });
            dnsd::fuzz::require(responses == 1, "every request is answered once");
            if (!parser.keep_alive()) return 0;
            parser.reset();
            continue;
        }
        if (stream.empty()) return 0;
        const size_t n = std::min(read_size, stream.size());
        pending.append(stream.substr(0, n));
        stream.remove_prefix(n);
    }
}
