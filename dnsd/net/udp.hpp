#pragma once
// A worker's UDP sockets: batched receive (recvmmsg) into the worker's own
// buffer, an answer per datagram, and a send with uv_udp_try_send straight
// from the responder's buffer. A datagram whose answer cannot be sent at once
// (the socket's send buffer is full) is dropped and counted: the client
// retries, as with any lost datagram, and the worker never queues or copies.
#include <uv.h>

#include <memory>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/net/responder.hpp"
#include "dnsd/net/sockets.hpp"

namespace dnsd::net {

class Udp {
public:
    Udp(uv_loop_t* loop, Responder& responder);
    Udp(const Udp&) = delete;
    Udp& operator=(const Udp&) = delete;

    // Adopts a bound socket and starts receiving. Throws std::runtime_error.
    void open(Fd fd, const core::Endpoint& endpoint);
    // Stops receiving and closes every socket.
    void close();

private:
    struct Socket {
        uv_udp_t handle;
        Udp* udp;
    };
    static void on_alloc(uv_handle_t* handle, size_t suggested_size, uv_buf_t* buf);
    static void on_receive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                           unsigned flags);

    uv_loop_t* loop_;
    Responder& responder_;
    // libuv's recvmmsg gives each datagram a 64 KiB slot of this buffer.
    std::unique_ptr<char[]> receive_buffer_;
    // Handles live as long as the worker, beyond their close callbacks.
    std::vector<std::unique_ptr<Socket>> sockets_;
};

}  // namespace dnsd::net
