#pragma once
// A plain-socket HTTP/1.1 client for the end-to-end tests of dnsd's HTTP
// endpoint: exact bytes out, one response (with Content-Length) back. Every
// wait has a deadline.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dnsd::e2e {

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;

    // The header's value, or empty.
    std::string header(std::string_view lower_case_name) const;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One TCP connection to 127.0.0.1:PORT.
class HttpConnection {
public:
    explicit HttpConnection(uint16_t port);
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    // Exactly these bytes; false when the server has closed the connection.
    bool send_raw(std::string_view bytes);
    // A request with Host, Content-Length (when there is a body) and `headers`.
    bool send(std::string_view method, std::string_view target, std::string_view body = {},
              const HttpHeaders& headers = {});
    // The next response; nullopt on timeout, on a malformed response, or when
    // the server closes first.
    std::optional<HttpResponse> receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // True when the server closes the connection (EOF or reset) within the timeout.
    bool closed_by_peer(std::chrono::milliseconds timeout);

private:
    // Reads more into buffer_; false on timeout, EOF or error.
    bool read_more(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string buffer_;  // received, not yet returned
};

// One request on a new connection; throws std::runtime_error when no response comes.
HttpResponse http_request(uint16_t port, std::string_view method, std::string_view target,
                          std::string_view body = {}, const HttpHeaders& headers = {});

}  // namespace dnsd::e2e
