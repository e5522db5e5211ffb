#pragma once
// A worker's DNS-over-TCP service (RFC 7766): 2-byte length framing, several
// pipelined queries per connection answered in order, an idle timeout, a
// deadline for each message to arrive whole, caps on connections across all
// workers and per client address, and per-connection bounds so that a client
// that stalls mid-message or stops reading never holds up another (SPEC §10).
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
    // No byte read or written for this long, or a message begun this long ago
    // and still not whole: close.
    uint32_t idle_timeout_ms = 10000;
    uint32_t max_connections = 1000;            // across all workers
    uint32_t max_connections_per_client = 32;   // per client address, across all workers
};

// What the workers' TCP services share, touched once per connection (never
// per query).
class TcpShared {
public:
    TcpShared();
    std::atomic<uint32_t>& open_connections() { return open_connections_; }
    // Counts a connection from `client` unless it already has `cap`.
    bool add_client(const core::Address& client, uint32_t cap);
    void remove_client(const core::Address& client);

private:
    // Connections per client address, in a fixed table of counters found by
    // a hash of the address. Two addresses that share a counter share their
    // cap: with far more counters than the connection cap allows addresses,
    // that is rare, and errs on the side of refusing.
    static constexpr size_t client_slots = size_t{1} << 16;
    std::atomic<uint32_t>& count_of(const core::Address& client);

    alignas(64) std::atomic<uint32_t> open_connections_{0};
    std::unique_ptr<std::atomic<uint32_t>[]> clients_;
    uint64_t seed_;
};

class Tcp {
public:
    Tcp(uv_loop_t* loop, Responder& responder, const TcpSettings& settings, TcpShared& shared);
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
    // Closes this worker's longest-idle connection other than `keep`, handing
    // its slot under the global cap to `keep`; false when there is none.
    bool evict_longest_idle(Connection& keep);
    void close_grace_timer();

    uv_loop_t* loop_;
    Responder& responder_;
    TcpSettings settings_;
    TcpShared& shared_;
    // Answers to one read of one connection, framed, until they are written.
    std::unique_ptr<uint8_t[]> batch_;
    // Handles live as long as the worker, beyond their close callbacks.
    std::vector<std::unique_ptr<Listener>> listeners_;
    // A connection's node is erased (and its handles' memory freed) only in
    // its last close callback. Ordered by last activity, longest idle first:
    // activity moves a connection to the back (a splice: no allocation).
    std::list<Connection> connections_;
    uv_timer_t grace_timer_;
    bool shutting_down_ = false;
};

}  // namespace dnsd::net
