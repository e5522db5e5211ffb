#pragma once
// A small HTTP/1.1 server on the control loop (SPEC §8): requests parsed by
// http_parser, one at a time per connection (keep-alive, no pipelining ahead of
// an answer), each bounded in size and in time. A handler answers, at once or
// later (a reload finishes on a later turn of the loop). A bad request gets a
// 4xx with a reason and never takes the process down.
#include <http_parser.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/address.hpp"

namespace dnsd::control::http {

struct Header {
    std::string name;
    std::string value;
};

struct Request {
    std::string method;  // as http_parser names it: "GET", "PUT", ...
    std::string path;    // the target up to '?', as sent (percent-encoded)
    std::string query;   // after '?', as sent; empty when none
    std::vector<Header> headers;
    std::string body;

    // The value of the first header called `name` (case-insensitive), or nullptr.
    const std::string* header(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<Header> headers;  // besides Content-Type, Content-Length and Connection

    // `{"error": reason}` with `status`.
    static Response error(int status, std::string_view reason);
};

// "OK", "Not Found", ...; "Unknown" for a status this server never sends.
std::string_view reason_phrase(int status);

// The response's bytes: status line, headers, blank line, body.
std::string serialize(const Response& response, bool keep_alive);

struct Limits {
    size_t header_bytes = 32 * 1024;  // request line and headers → 431 beyond
    size_t body_bytes = 1024 * 1024;  // → 413 beyond; POST /v1/latency's 10,000 beacons fit
    // From a request's first byte to its last: a client that trickles a
    // request in (slowloris) gets 408 and is closed.
    uint32_t request_timeout_ms = 5000;
    uint32_t idle_timeout_ms = 30000;  // between requests on a kept-alive connection
    size_t max_connections = 64;       // past it, a new connection is closed at once
};

// Reads one request at a time out of a connection's byte stream.
class RequestParser {
public:
    enum class Status { incomplete, complete, failed };

    explicit RequestParser(const Limits& limits);
    RequestParser(const RequestParser&) = delete;
    RequestParser& operator=(const RequestParser&) = delete;

    // Parses `data` up to the end of one request; sets `used` to the bytes
    // taken. Complete: request() is ready. Failed: error() says why; the
    // connection cannot be read further.
    Status feed(std::string_view data, size_t& used);
    // Whether part of a request has been read since the last reset.
    bool started() const { return started_; }
    // After complete: whether the client asked to keep the connection.
    bool keep_alive() const { return keep_alive_; }
    Request& request() { return request_; }
    const Response& error() const { return error_; }
    // Ready for the next request.
    void reset();

private:
    static int on_message_begin(http_parser* parser);
    static int on_url(http_parser* parser, const char* at, size_t size);
    static int on_header_field(http_parser* parser, const char* at, size_t size);
    static int on_header_value(http_parser* parser, const char* at, size_t size);
    static int on_headers_complete(http_parser* parser);
    static int on_body(http_parser* parser, const char* at, size_t size);
    static int on_message_complete(http_parser* parser);
    // Counts `size` header bytes; false (and the 431) past the limit.
    bool take_header_bytes(size_t size);
    int fail(int status, std::string_view reason);

    Limits limits_;
    http_parser_settings settings_{};
    http_parser parser_{};
    Request request_;
    std::string target_;
    size_t header_bytes_ = 0;
    bool in_value_ = false;  // the last header callback was for a value
    bool started_ = false;
    bool complete_ = false;
    bool keep_alive_ = false;
    Response error_;
    bool failed_ = false;
};

// Called once per request; the handler must call `respond` exactly once, now
// or later on the same loop. A response for a connection that has gone is dropped.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(Request&, Respond)>;

class Server {
public:
    // Binds and listens on `endpoint` (port 0: a free one). Throws
    // std::runtime_error("cannot listen on http ADDR:PORT: reason").
    Server(uv_loop_t* loop, const core::Endpoint& endpoint, Handler handler, Limits limits = {});
    // close() must have run and the loop must have closed the handles.
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // The bound address, with the real port.
    const core::Endpoint& endpoint() const { return endpoint_; }
    // Stops listening and closes every connection; responses not yet written are dropped.
    void close();

private:
    struct Connection;
    static void on_connection(uv_stream_t* listener, int status);
    void accept();

    uv_loop_t* loop_;
    Handler handler_;
    Limits limits_;
    core::Endpoint endpoint_;
    uv_tcp_t listener_;
    bool closed_ = false;
    std::list<std::shared_ptr<Connection>> connections_;
};

}  // namespace dnsd::control::http
