#pragma once
// A c-ares channel driven by a libuv loop: uv_poll handles on the sockets
// c-ares opens, and a timer for its retransmissions and timeouts. Every
// response is handed over as it came (ARES_FLAG_NOCHECKRESP), so the caller
// sees SERVFAIL and REFUSED rather than c-ares trying another server.
#include <ares.h>
#include <uv.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "dnsd/core/address.hpp"
#include "dnsd/core/uv_handle.hpp"

namespace dnsd::core {

class AresChannel {
public:
    // Queries `server`, or the system's resolvers (/etc/resolv.conf) without
    // one; each try waits `timeout_ms`, `tries` times.
    AresChannel(uv_loop_t* loop, const std::optional<Endpoint>& server, int timeout_ms, int tries);
    AresChannel(const AresChannel&) = delete;
    AresChannel& operator=(const AresChannel&) = delete;
    // Queries still in flight are called back with ARES_EDESTRUCTION.
    ~AresChannel();

    // Why the channel could not be made; empty when it works.
    const std::string& error() const { return error_; }

    // Sends a query for `name` (presentation form) of `type`, class IN,
    // recursion desired; `done` gets c-ares' status and the response's bytes
    // (whatever its rcode). Returns why it could not be sent (then `done` is
    // never called), else an empty string.
    std::string query(const std::string& name, uint16_t type, ares_callback done, void* arg);
    // Calls every query in flight back with ARES_ECANCELLED.
    void cancel_all();

private:
    using Poll = UvHandle<uv_poll_t, AresChannel>;
    using Timer = UvHandle<uv_timer_t, AresChannel>;

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
    static void on_poll(uv_poll_t* poll, int status, int events);
    static void on_timer(uv_timer_t* timer);
    // Sets the timer to c-ares' next timeout, or stops it with nothing pending.
    void arm();

    uv_loop_t* loop_;
    ares_channel channel_ = nullptr;
    std::string error_;
    std::map<ares_socket_t, std::unique_ptr<Poll>> polls_;
    Timer timer_;
};

}  // namespace dnsd::core
