#pragma once
// A worker's DNS-over-TCP service (RFC 7766): 2-byte length framing, several
// pipelined queries per connection answered in order, an idle timeout, a cap
// on connections across all workers, and per-connection bounds so that a
// client that stalls mid-message or stops reading never holds up another.
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/net/responder.hpp"
#include "dnsd/net/sockets.hpp"

namespace dnsd::net {

struct TcpSettings {
    uint32_t idle_timeout_ms = 10000;  // no byte read or written for this long: close
    uint32_t max_connections = 1000;   // across all workers
};

class Tcp {
public:
    // `open_connections`: shared by every worker, touched once per connection
    // (never per query) to enforce the cap.
    Tcp(uv_loop_t* loop, Responder& responder, const TcpSettings& settings,
        std::atomic<uint32_t>& open_connections);
    Tcp(const Tcp&) = delete;
    Tcp& operator=(const Tcp&) = delete;
    ~Tcp();

    // Adopts a bound socket and starts listening. Throws std::runtime_error.
    void listen(Fd fd, const core::Endpoint& endpoint);
    // Stops accepting and reading; answers already written are delivered,
    // then each connection closes. A client that does not read them within a
    // short grace period is cut off, so that shutdown stays prompt.
    void shutdown();

private:
    struct Connection;
    struct Listener {
        uv_tcp_t handle;
        Tcp* tcp;
    };
    static void on_connection(uv_stream_t* server, int status);
    static void on_grace_expired(uv_timer_t* timer);
    void accept(uv_stream_t* server);
    // Called from a connection's last close callback; frees it.
    void release(Connection& connection);
    void close_grace_timer();

    uv_loop_t* loop_;
    Responder& responder_;
    TcpSettings settings_;
    std::atomic<uint32_t>& open_connections_;
    // Answers to one read of one connection, framed, until they are written.
    std::unique_ptr<uint8_t[]> batch_;
    // Handles live as long as the worker, beyond their close callbacks.
    std::vector<std::unique_ptr<Listener>> listeners_;
    // A connection's node is erased (and its handles' memory freed) only in
    // its last close callback.
    std::list<Connection> connections_;
    uv_timer_t grace_timer_;
    bool shutting_down_ = false;
};

}  // namespace dnsd::net
