#include "dnsd/net/sockets.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace dnsd::net {

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

namespace {

enum class Protocol { udp, tcp };

// How many ephemeral port numbers to try for a port-0 endpoint before giving
// up: a try fails only when the number the kernel picked for UDP is taken for
// TCP, or another program takes it in between.
constexpr int port_zero_tries = 8;

constexpr int udp_buffer_bytes = 4 * 1024 * 1024;

const char* protocol_name(Protocol protocol) { return protocol == Protocol::udp ? "udp" : "tcp"; }

// A failed socket call, with the errno that explains it.
struct BindError {
    Protocol protocol;
    int error;
};

// A socket bound to `endpoint`. `shared`: one of the workers' SO_REUSEPORT
// sockets; otherwise a plain socket, which conflicts with every other socket
// on the port and so proves the port free.
Fd open_bound(Protocol protocol, const core::Endpoint& endpoint, bool shared) {
    const int domain = endpoint.address.family == core::Family::v4 ? AF_INET : AF_INET6;
    const int type = protocol == Protocol::udp ? SOCK_DGRAM : SOCK_STREAM;
    Fd fd(::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) throw BindError{protocol, errno};
    const auto set_flag = [&](int level, int option) {
        int one = 1;
        if (setsockopt(fd.get(), level, option, &one, sizeof one) != 0) throw BindError{protocol, errno};
    };
    // A v6 socket must not claim the v4 side of the port: "0.0.0.0:53" and
    // "[::]:53" are separate endpoints.
    if (domain == AF_INET6) set_flag(IPPROTO_IPV6, IPV6_V6ONLY);
    // TCP: a restart must not fail on the previous run's TIME_WAIT
    // connections; a listening socket still conflicts.
    if (protocol == Protocol::tcp) set_flag(SOL_SOCKET, SO_REUSEADDR);
    if (shared) set_flag(SOL_SOCKET, SO_REUSEPORT);
    // UDP: room for a burst while the worker answers the previous batch, rather
    // than drops (the default holds ~200 small datagrams). The kernel caps
    // the size at net.core.rmem_max / wmem_max; a smaller buffer still works.
    if (protocol == Protocol::udp) {
        for (int option : {SO_RCVBUF, SO_SNDBUF})
            setsockopt(fd.get(), SOL_SOCKET, option, &udp_buffer_bytes, sizeof udp_buffer_bytes);
    }
    sockaddr_storage address;
    const socklen_t size = endpoint.to_sockaddr(address);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), size) != 0)
        throw BindError{protocol, errno};
    return fd;
}

uint16_t bound_port(const Fd& fd) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &size) != 0)
        throw BindError{Protocol::udp, errno};
    if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
}

// The workers' sockets for one endpoint. Plain sockets first prove the port
// free for both protocols: SO_REUSEPORT alone would let us quietly share a
// port with another server run by the same user.
std::vector<ListenSockets> bind_shared(const core::Endpoint& endpoint, unsigned workers) {
    open_bound(Protocol::udp, endpoint, false);
    open_bound(Protocol::tcp, endpoint, false);
    std::vector<ListenSockets> sockets;
    for (unsigned i = 0; i < workers; ++i)
        sockets.push_back({endpoint, open_bound(Protocol::udp, endpoint, true),
                           open_bound(Protocol::tcp, endpoint, true)});
    return sockets;
}

std::runtime_error listen_error(const BindError& e, const core::Endpoint& endpoint) {
    return std::runtime_error(std::string("cannot listen on ") + protocol_name(e.protocol) + " " +
                              endpoint.to_string() + ": " + uv_strerror(uv_translate_sys_error(e.error)));
}

std::vector<ListenSockets> bind_endpoint(const core::Endpoint& requested, unsigned workers) {
    if (requested.port != 0) {
        try {
            return bind_shared(requested, workers);
        } catch (const BindError& e) {
            throw listen_error(e, requested);
        }
    }
    // Port 0: the kernel picks a number free for UDP; it may be taken for TCP,
    // or by someone else before our sockets bind it, so try a few numbers.
    for (int attempt = 0; attempt < port_zero_tries; ++attempt) {
        core::Endpoint chosen = requested;
        try {
            chosen.port = bound_port(open_bound(Protocol::udp, requested, false));
            return bind_shared(chosen, workers);
        } catch (const BindError& e) {
            if (e.error != EADDRINUSE) throw listen_error(e, chosen);
        }
    }
    throw std::runtime_error("cannot listen on " + requested.to_string() +
                             ": no port number free for both udp and tcp after " +
                             std::to_string(port_zero_tries) + " tries");
}

}  // namespace

std::vector<std::vector<ListenSockets>> bind_listeners(std::span<const core::Endpoint> endpoints,
                                                       unsigned workers) {
    std::vector<std::vector<ListenSockets>> by_worker(workers);
    for (const core::Endpoint& requested : endpoints) {
        std::vector<ListenSockets> sockets = bind_endpoint(requested, workers);
        for (unsigned i = 0; i < workers; ++i) by_worker[i].push_back(std::move(sockets[i]));
    }
    return by_worker;
}

}  // namespace dnsd::net
