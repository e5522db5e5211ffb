#pragma once
// The listening sockets: one UDP and one TCP socket per worker per endpoint,
// all bound to the same address and port with SO_REUSEPORT so that the kernel
// spreads packets and connections over the workers. Bound on the main thread
// before any worker starts, so that a port in use stops start-up with one clear
// line.
#include <span>
#include <vector>

#include "dnsd/core/address.hpp"

namespace dnsd::net {

// A file descriptor, closed unless released (to libuv, which then owns it).
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    ~Fd();

    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_ = -1;
};

struct ListenSockets {
    core::Endpoint endpoint;  // with the port actually bound (never 0)
    Fd udp;
    Fd tcp;  // bound, not yet listening
};

// Binds every endpoint `workers` times; the result is indexed [worker][endpoint].
// Port 0 picks one free port number for both UDP and TCP, shared by every
// worker. Throws std::runtime_error with a one-line message naming the address,
// e.g. "cannot listen on udp 127.0.0.1:5353: address already in use".
std::vector<std::vector<ListenSockets>> bind_listeners(std::span<const core::Endpoint> endpoints,
                                                       unsigned workers);

}  // namespace dnsd::net
