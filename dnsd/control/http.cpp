#include "dnsd/control/http.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <climits>
#include <exception>
#include <stdexcept>
#include <utility>

namespace dnsd::control::http {

namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

RequestParser& self(http_parser* parser) { return *static_cast<RequestParser*>(parser->data); }

}  // namespace

const std::string* Request::header(std::string_view name) const {
    for (const auto& h : headers)
        if (equal_ignoring_case(h.name, name)) return &h.value;
    return nullptr;
}

Response Response::error(int status, std::string_view reason) {
    Response response;
    response.status = status;
    // The reason may quote the request, which need not be UTF-8.
    response.body = nlohmann::json{{"error", reason}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    return response;
}

std::string_view reason_phrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

std::string serialize(const Response& response, bool keep_alive) {
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
    out += reason_phrase(response.status);
    out += "\r\nContent-Type: " + response.content_type;
    out += "\r\nContent-Length: " + std::to_string(response.body.size());
    out += keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close";
    for (const auto& header : response.headers) out += "\r\n" + header.name + ": " + header.value;
    out += "\r\n\r\n";
    out += response.body;
    return out;
}

// ---- RequestParser ----

RequestParser::RequestParser(const Limits& limits) : limits_(limits) {
    http_parser_settings_init(&settings_);
    settings_.on_message_begin = on_message_begin;
    settings_.on_url = on_url;
    settings_.on_header_field = on_header_field;
    settings_.on_header_value = on_header_value;
    settings_.on_headers_complete = on_headers_complete;
    settings_.on_body = on_body;
    settings_.on_message_complete = on_message_complete;
    reset();
}

void RequestParser::reset() {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    request_ = Request{};
    target_.clear();
    header_bytes_ = 0;
    in_value_ = false;
    started_ = complete_ = keep_alive_ = failed_ = false;
    error_ = Response{};
}

RequestParser::Status RequestParser::feed(std::string_view data, size_t& used) {
    used = 0;
    if (failed_) return Status::failed;
    if (complete_) return Status::complete;
    if (data.empty()) return Status::incomplete;
    used = http_parser_execute(&parser_, &settings_, data.data(), data.size());
    if (failed_) return Status::failed;
    if (complete_) return Status::complete;
    const auto error = HTTP_PARSER_ERRNO(&parser_);
    if (error != HPE_OK) {
        failed_ = true;
        error_ = Response::error(error == HPE_HEADER_OVERFLOW ? 431 : 400,
                                 std::string("malformed request: ") + http_errno_description(error));
        return Status::failed;
    }
    return Status::incomplete;
}

int RequestParser::fail(int status, std::string_view reason) {
    failed_ = true;
    error_ = Response::error(status, reason);
    // Non-zero stops http_parser; from on_headers_complete, 1 and 2 would
    // mean "no body" rather than an error.
    return -1;
}

bool RequestParser::take_header_bytes(size_t size) {
    header_bytes_ += size;
    return header_bytes_ <= limits_.header_bytes;
}

int RequestParser::on_message_begin(http_parser* parser) {
    self(parser).started_ = true;
    return 0;
}

int RequestParser::on_url(http_parser* parser, const char* at, size_t size) {
    RequestParser& p = self(parser);
    p.started_ = true;
    if (!p.take_header_bytes(size)) return p.fail(431, "request line and headers too large");
    p.target_.append(at, size);
    return 0;
}

int RequestParser::on_header_field(http_parser* parser, const char* at, size_t size) {
    RequestParser& p = self(parser);
    // A new header costs its ": " and CRLF too, so that many tiny headers
    // count as what they are on the wire.
    const bool new_header = p.in_value_ || p.request_.headers.empty();
    if (!p.take_header_bytes(size + (new_header ? 4 : 0))) return p.fail(431, "request line and headers too large");
    if (new_header) p.request_.headers.emplace_back();
    p.in_value_ = false;
    p.request_.headers.back().name.append(at, size);
    return 0;
}

int RequestParser::on_header_value(http_parser* parser, const char* at, size_t size) {
    RequestParser& p = self(parser);
    if (!p.take_header_bytes(size)) return p.fail(431, "request line and headers too large");
    p.in_value_ = true;
    p.request_.headers.back().value.append(at, size);
    return 0;
}

int RequestParser::on_headers_complete(http_parser* parser) {
    RequestParser& p = self(parser);
    // http_parser leaves ULLONG_MAX when there is no Content-Length.
    if (parser->content_length != ULLONG_MAX && parser->content_length > p.limits_.body_bytes)
        return p.fail(413, "request body larger than " + std::to_string(p.limits_.body_bytes) + " bytes");
    // Origin form only: "/path?query".
    if (p.target_.empty() || p.target_.front() != '/') return p.fail(400, "request target must start with '/'");
    const size_t question = p.target_.find('?');
    p.request_.path = p.target_.substr(0, question);
    if (question != std::string::npos) p.request_.query = p.target_.substr(question + 1);
    p.request_.method = http_method_str(static_cast<http_method>(parser->method));
    return 0;
}

int RequestParser::on_body(http_parser* parser, const char* at, size_t size) {
    RequestParser& p = self(parser);
    if (p.request_.body.size() + size > p.limits_.body_bytes)
        return p.fail(413, "request body larger than " + std::to_string(p.limits_.body_bytes) + " bytes");
    p.request_.body.append(at, size);
    return 0;
}

int RequestParser::on_message_complete(http_parser* parser) {
    RequestParser& p = self(parser);
    p.complete_ = true;
    // What follows an Upgrade request is not HTTP: answer, then close.
    p.keep_alive_ = http_should_keep_alive(parser) != 0 && parser->upgrade == 0;
    // One request at a time: the rest of the bytes wait for the answer.
    http_parser_pause(parser, 1);
    return 0;
}

// ---- Server ----

// One client. Owned by Server::connections_; freed once both handles are
// closed. A handler's Respond holds it weakly, so an answer for a client that
// has gone is dropped.
struct Server::Connection : std::enable_shared_from_this<Connection> {
    explicit Connection(Server& server) : server(server), parser(server.limits_) {}

    Server& server;
    std::list<std::shared_ptr<Connection>>::iterator position;
    uv_tcp_t tcp;
    uv_timer_t timer;
    RequestParser parser;
    // Bytes read and not parsed yet: what came behind a request that is being answered.
    std::string pending;
    bool busy = false;     // a request is being answered, or its response written
    bool closing = false;
    int open_handles = 2;  // tcp and timer
    std::array<char, 16 * 1024> buffer;

    struct Write {
        uv_write_t request;
        std::string bytes;
        Connection* connection;
        bool keep_alive;
    };

    void start() {
        uv_tcp_nodelay(&tcp, 1);
        // A new client is expected to ask at once, not to hold a connection.
        arm_timer(server.limits_.request_timeout_ms);
        read();
    }

    void read() {
        uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp), on_alloc, on_read);
    }

    void arm_timer(uint32_t timeout_ms) { uv_timer_start(&timer, on_timeout, timeout_ms, 0); }

    // Parses what is pending: answers a complete request, rejects a bad one,
    // or waits for more.
    void drain() {
        while (!busy && !closing) {
            const bool was_started = parser.started();
            size_t used = 0;
            const auto status = parser.feed(pending, used);
            pending.erase(0, used);
            if (!was_started && parser.started()) arm_timer(server.limits_.request_timeout_ms);
            switch (status) {
            case RequestParser::Status::incomplete: return;
            case RequestParser::Status::failed: return reject(parser.error());
            case RequestParser::Status::complete: dispatch(); break;
            }
        }
    }

    void dispatch() {
        busy = true;
        uv_timer_stop(&timer);
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
        std::weak_ptr<Connection> weak = weak_from_this();
        const bool keep_alive = parser.keep_alive();
        Respond respond = [weak, keep_alive](Response response) {
            if (auto connection = weak.lock(); connection && !connection->closing)
                connection->send(response, keep_alive);
        };
        try {
            server.handler_(parser.request(), std::move(respond));
        } catch (const std::exception& e) {
            // The handler threw before answering: nothing else will.
            spdlog::error("http: {} {}: {}", parser.request().method, parser.request().path, e.what());
            send(Response::error(500, "internal error"), false);
        }
    }

    void reject(const Response& response) {
        busy = true;
        uv_timer_stop(&timer);
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
        send(response, false);
    }

    void send(const Response& response, bool keep_alive) {
        auto* write = new Write{{}, serialize(response, keep_alive), this, keep_alive};
        write->request.data = write;
        uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
        if (int error = uv_write(&write->request, reinterpret_cast<uv_stream_t*>(&tcp), &buf, 1, on_write);
            error != 0) {
            delete write;
            close();
        }
    }

    void close() {
        if (closing) return;
        closing = true;
        uv_close(reinterpret_cast<uv_handle_t*>(&tcp), on_close);
        uv_close(reinterpret_cast<uv_handle_t*>(&timer), on_close);
    }

    static Connection& of(uv_handle_t* handle) { return *static_cast<Connection*>(handle->data); }

    static void on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
        Connection& c = of(handle);
        *buf = uv_buf_init(c.buffer.data(), static_cast<unsigned>(c.buffer.size()));
    }

    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        Connection& c = of(reinterpret_cast<uv_handle_t*>(stream));
        if (nread < 0) return c.close();
        c.pending.append(buf->base, static_cast<size_t>(nread));
        c.drain();
    }

    static void on_write(uv_write_t* request, int status) {
        std::unique_ptr<Write> write(static_cast<Write*>(request->data));
        Connection& c = *write->connection;
        if (c.closing) return;
        if (status != 0 || !write->keep_alive) return c.close();
        c.busy = false;
        c.parser.reset();
        c.arm_timer(c.server.limits_.idle_timeout_ms);
        c.read();
        c.drain();
    }

    static void on_timeout(uv_timer_t* timer) {
        Connection& c = of(reinterpret_cast<uv_handle_t*>(timer));
        if (!c.parser.started()) return c.close();
        c.reject(Response::error(408, "request not complete within " +
                                          std::to_string(c.server.limits_.request_timeout_ms) + " ms"));
    }

    static void on_close(uv_handle_t* handle) {
        Connection& c = of(handle);
        if (--c.open_handles == 0) c.server.connections_.erase(c.position);  // frees c
    }
};

Server::Server(uv_loop_t* loop, const core::Endpoint& endpoint, Handler handler, Limits limits)
    : loop_(loop), handler_(std::move(handler)), limits_(limits), endpoint_(endpoint) {
    uv_tcp_init(loop_, &listener_);
    listener_.data = this;
    sockaddr_storage address{};
    const std::string host = endpoint.address.to_string();
    int error = endpoint.address.family == core::Family::v4
                    ? uv_ip4_addr(host.c_str(), endpoint.port, reinterpret_cast<sockaddr_in*>(&address))
                    : uv_ip6_addr(host.c_str(), endpoint.port, reinterpret_cast<sockaddr_in6*>(&address));
    if (error == 0) error = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&address), 0);
    if (error == 0) error = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 128, on_connection);
    if (error == 0) {
        int size = sizeof address;
        error = uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&address), &size);
        endpoint_.port = ntohs(endpoint.address.family == core::Family::v4
                                   ? reinterpret_cast<sockaddr_in*>(&address)->sin_port
                                   : reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    }
    if (error != 0) {
        // The handle is on the loop: close it there so the loop can end.
        close();
        uv_run(loop_, UV_RUN_NOWAIT);
        throw std::runtime_error("cannot listen on http " + endpoint.to_string() + ": " + uv_strerror(error));
    }
}

Server::~Server() = default;

void Server::close() {
    if (closed_) return;
    closed_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    // close() only starts closing; connections leave the list in on_close.
    for (auto& connection : connections_) connection->close();
}

void Server::on_connection(uv_stream_t* listener, int status) {
    if (status != 0) return;
    static_cast<Server*>(listener->data)->accept();
}

void Server::accept() {
    auto connection = std::make_shared<Connection>(*this);
    connections_.push_front(connection);
    connection->position = connections_.begin();
    uv_tcp_init(loop_, &connection->tcp);
    uv_timer_init(loop_, &connection->timer);
    connection->tcp.data = connection.get();
    connection->timer.data = connection.get();
    if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_), reinterpret_cast<uv_stream_t*>(&connection->tcp)) != 0 ||
        connections_.size() > limits_.max_connections) {
        connection->close();
        return;
    }
    connection->start();
}

}  // namespace dnsd::control::http
