#pragma once
// A blocking HTTP/1.1 client for the command line tools that ask a running
// dnsd (`dnsd fleet`, `dnsd drain`): one request, one response, bounded in time and size.
#include <chrono>
#include <optional>
#include <string>

#include "dnsd/core/address.hpp"

namespace dnsd::control {

struct HttpReply {
    int status = 0;
    std::string body;
};

// `method` `path` on `server`, with `Authorization: Bearer token` when a
// token is given, and `body` as JSON when there is one. Nullopt, and why in `error`, when no complete response
// came within `timeout`.
std::optional<HttpReply> http_request(const core::Endpoint& server, std::string_view method, std::string_view path,
                                      std::string_view token, std::string& error,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                      std::string_view body = {});

}  // namespace dnsd::control
