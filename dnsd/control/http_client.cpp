#include "dnsd/control/http_client.hpp"

#include <http_parser.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dnsd::control {

namespace {

constexpr size_t max_response = 16 << 20;

struct Parsed {
    HttpReply reply;
    bool complete = false;
};

// Waits for `events` on `fd` until `deadline`; false on a timeout.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n;
    do n = ::poll(&p, 1, static_cast<int>(left.count()));
    while (n < 0 && errno == EINTR);
    return n > 0;
}

}  // namespace

std::optional<HttpReply> http_request(const core::Endpoint& server, std::string_view method, std::string_view path,
                                      std::string_view token, std::string& error, std::chrono::milliseconds timeout,
                                      std::string_view body) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::string where = "http://" + server.to_string();
    sockaddr_storage address{};
    const unsigned length = server.to_sockaddr(address);
    const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        error = std::string("cannot open a socket: ") + std::strerror(errno);
        return std::nullopt;
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 && errno != EINPROGRESS) {
        error = "cannot connect to " + where + ": " + std::strerror(errno);
        return std::nullopt;
    }
    if (!wait_for(fd, POLLOUT, deadline)) {
        error = "cannot connect to " + where + ": timed out";
        return std::nullopt;
    }
    int so_error = 0;
    socklen_t size = sizeof so_error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &size);
    if (so_error != 0) {
        error = "cannot connect to " + where + ": " + std::strerror(so_error);
        return std::nullopt;
    }
    std::string request = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: " + server.to_string() +
                          "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (!body.empty()) request += "Content-Type: application/json\r\n";
    if (!token.empty()) request += "Authorization: Bearer " + std::string(token) + "\r\n";
    request += "\r\n";
    request += body;
    for (size_t sent = 0; sent < request.size();) {
        const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(fd, POLLOUT, deadline)) {
                error = where + ": timed out sending the request";
                return std::nullopt;
            }
        } else {
            error = where + ": " + std::strerror(errno);
            return std::nullopt;
        }
    }

    Parsed parsed;
    http_parser parser;
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = &parsed;
    http_parser_settings settings;
    http_parser_settings_init(&settings);
    settings.on_body = [](http_parser* p, const char* at, size_t n) {
        auto& self = *static_cast<Parsed*>(p->data);
        if (self.reply.body.size() + n > max_response) return 1;
        self.reply.body.append(at, n);
        return 0;
    };
    settings.on_message_complete = [](http_parser* p) {
        auto& self = *static_cast<Parsed*>(p->data);
        self.reply.status = static_cast<int>(p->status_code);
        self.complete = true;
        return 0;
    };
    char buffer[16384];
    while (!parsed.complete) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(fd, POLLIN, deadline)) {
                error = where + ": no complete answer within " + std::to_string(timeout.count()) + " ms";
                return std::nullopt;
            }
            continue;
        }
        if (n < 0) {
            error = where + ": " + std::strerror(errno);
            return std::nullopt;
        }
        // n == 0: the end of a response delimited by the connection's close.
        const size_t used = http_parser_execute(&parser, &settings, buffer, static_cast<size_t>(n));
        if (HTTP_PARSER_ERRNO(&parser) != HPE_OK || used != static_cast<size_t>(n)) {
            error = where + ": not an HTTP response: " + http_errno_description(HTTP_PARSER_ERRNO(&parser));
            return std::nullopt;
        }
        if (n == 0 && !parsed.complete) {
            error = where + ": the connection closed before the response ended";
            return std::nullopt;
        }
    }
    return parsed.reply;
}

}  // namespace dnsd::control
