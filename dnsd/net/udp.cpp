#include "dnsd/net/udp.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace dnsd::net {

namespace {

// libuv hands recvmmsg one 64 KiB slot per datagram, at most 20 per call.
constexpr size_t receive_slot_size = 64 * 1024;
constexpr size_t receive_slots = 16;

}  // namespace

Udp::Udp(uv_loop_t* loop, Responder& responder)
    : loop_(loop), responder_(responder), receive_buffer_(new char[receive_slot_size * receive_slots]) {}

void Udp::open(Fd fd, const core::Endpoint& endpoint) {
    auto socket = std::make_unique<Socket>();
    socket->udp = this;
    socket->handle.data = socket.get();
    if (int error = uv_udp_init_ex(loop_, &socket->handle, AF_UNSPEC | UV_UDP_RECVMMSG); error != 0)
        throw std::runtime_error("cannot listen on udp " + endpoint.to_string() + ": " + uv_strerror(error));
    Socket& adopted = *sockets_.emplace_back(std::move(socket));
    int error = uv_udp_open(&adopted.handle, fd.get());
    if (error == 0) {
        fd.release();
        error = uv_udp_recv_start(&adopted.handle, on_alloc, on_receive);
    }
    if (error != 0)
        throw std::runtime_error("cannot listen on udp " + endpoint.to_string() + ": " + uv_strerror(error));
}

void Udp::close() {
    for (auto& socket : sockets_)
        if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&socket->handle)))
            uv_close(reinterpret_cast<uv_handle_t*>(&socket->handle), nullptr);
}

void Udp::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
    Udp& udp = *static_cast<Socket*>(handle->data)->udp;
    *buf = uv_buf_init(udp.receive_buffer_.get(), receive_slot_size * receive_slots);
}

void Udp::on_receive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                     unsigned flags) {
    Udp& udp = *static_cast<Socket*>(handle->data)->udp;
    if (nread < 0) {
        spdlog::debug("udp receive failed: {}", uv_strerror(static_cast<int>(nread)));
        return;
    }
    // No address: the end of a batch or nothing to read. The buffer is the
    // worker's own, so there is nothing to free.
    if (addr == nullptr) return;
    if (flags & UV_UDP_PARTIAL) {
        // Larger than 64 KiB: cannot be a DNS message.
        udp.responder_.counters().dropped.add();
        return;
    }
    const std::span<const uint8_t> query(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread));
    const std::span<const uint8_t> response =
        udp.responder_.answer(query, core::Address::from_sockaddr(addr), answer::Transport::udp);
    if (response.empty()) return;
    uv_buf_t out = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(response.data())),
                               static_cast<unsigned>(response.size()));
    if (uv_udp_try_send(handle, &out, 1, addr) < 0) udp.responder_.counters().dropped.add();
}

}  // namespace dnsd::net
