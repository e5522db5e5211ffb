#include "dnsd/net/udp.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace dnsd::net {

namespace {

// A slot holds the largest datagram; the extra 64 octets stagger the slots
// over the cache's sets, which equal strides of 64 KiB would all share.
constexpr size_t max_datagram = 65535;
constexpr size_t receive_stride = 65536 + 64;
// Batches served per readiness event before the loop gets its turn again
// (TCP, timers, stop): bounded, like libuv's own receive loop.
constexpr int batches_per_wakeup = 16;

bool is_wildcard(const core::Address& address) {
    for (size_t i = 0; i < address.size(); ++i)
        if (address.bytes[i] != 0) return false;
    return true;
}

void enable_packet_info(int fd, core::Family family) {
    int one = 1;
    const int result = family == core::Family::v4 ? setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one)
                                                  : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    if (result != 0) throw std::runtime_error(std::string("cannot ask for packet info: ") + std::strerror(errno));
}

// The control message that makes an answer leave from the address the query
// came to; 0 when the query carried none.
size_t answer_source(msghdr& query, void* out) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&query); c != nullptr; c = CMSG_NXTHDR(&query, c)) {
        auto* answer = static_cast<cmsghdr*>(out);
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo received;
            std::memcpy(&received, CMSG_DATA(c), sizeof received);
            in_pktinfo sent{};
            sent.ipi_spec_dst = received.ipi_addr;  // the interface: the route's choice
            answer->cmsg_level = IPPROTO_IP;
            answer->cmsg_type = IP_PKTINFO;
            answer->cmsg_len = CMSG_LEN(sizeof sent);
            std::memcpy(CMSG_DATA(answer), &sent, sizeof sent);
            return CMSG_SPACE(sizeof sent);
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo sent;  // the same address, and interface for link-local scope
            std::memcpy(&sent, CMSG_DATA(c), sizeof sent);
            answer->cmsg_level = IPPROTO_IPV6;
            answer->cmsg_type = IPV6_PKTINFO;
            answer->cmsg_len = CMSG_LEN(sizeof sent);
            std::memcpy(CMSG_DATA(answer), &sent, sizeof sent);
            return CMSG_SPACE(sizeof sent);
        }
    }
    return 0;
}

}  // namespace

Udp::Udp(uv_loop_t* loop, Responder& responder)
    : loop_(loop),
      responder_(responder),
      queries_(new char[receive_stride * batch_size]),
      answers_buffer_(new uint8_t[max_datagram * batch_size]) {
    for (size_t i = 0; i < batch_size; ++i) {
        query_iovecs_[i] = {queries_.get() + i * receive_stride, max_datagram};
        msghdr& header = received_[i].msg_hdr;
        header.msg_name = &sources_[i];
        header.msg_namelen = sizeof(sockaddr_storage);
        header.msg_iov = &query_iovecs_[i];
        header.msg_iovlen = 1;
        // Room for the destination address on every socket: one that did not
        // ask for it (IP_PKTINFO) gets none, and the lengths stay the same
        // whichever socket a batch is read from.
        header.msg_control = &received_control_[i];
        header.msg_controllen = sizeof(Control);
        msghdr& answer = answers_[i].msg_hdr;
        answer.msg_iov = &answer_iovecs_[i];
        answer.msg_iovlen = 1;
    }
}

void Udp::open(Fd fd, const core::Endpoint& endpoint) {
    auto socket = std::make_unique<Socket>();
    socket->udp = this;
    socket->poll.data = socket.get();
    socket->packet_info = is_wildcard(endpoint.address);
    try {
        if (socket->packet_info) enable_packet_info(fd.get(), endpoint.address.family);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error("cannot listen on udp " + endpoint.to_string() + ": " + e.what());
    }
    if (int error = uv_poll_init_socket(loop_, &socket->poll, fd.get()); error != 0)
        throw std::runtime_error("cannot listen on udp " + endpoint.to_string() + ": " + uv_strerror(error));
    socket->fd = std::move(fd);
    Socket& adopted = *sockets_.emplace_back(std::move(socket));
    if (int error = uv_poll_start(&adopted.poll, UV_READABLE, on_readable); error != 0)
        throw std::runtime_error("cannot listen on udp " + endpoint.to_string() + ": " + uv_strerror(error));
}

void Udp::close() {
    // The descriptors close with the sockets, after the loop has ended.
    for (auto& socket : sockets_)
        if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&socket->poll)))
            uv_close(reinterpret_cast<uv_handle_t*>(&socket->poll), nullptr);
}

void Udp::on_readable(uv_poll_t* poll, int status, int) {
    auto& socket = *static_cast<Socket*>(poll->data);
    if (status < 0) {
        spdlog::debug("udp socket error: {}", uv_strerror(status));
        return;
    }
    for (int i = 0; i < batches_per_wakeup && socket.udp->serve_batch(socket); ++i) {
    }
}

bool Udp::serve_batch(Socket& socket) {
    const int fd = socket.fd.get();
    // A lightly loaded server reads a datagram or two per batch: setting back
    // all 64 headers each time would cost more than answering.
    for (size_t i = 0; i < filled_; ++i) {
        received_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        received_[i].msg_hdr.msg_controllen = sizeof(Control);
        received_[i].msg_hdr.msg_flags = 0;
    }
    const int received = ::recvmmsg(fd, received_.data(), batch_size, MSG_DONTWAIT, nullptr);
    filled_ = received > 0 ? static_cast<size_t>(received) : 0;
    if (received <= 0) {
        if (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            spdlog::debug("udp receive failed: {}", std::strerror(errno));
        return false;
    }
    Counters& counters = responder_.counters();
    uint8_t* free_space = answers_buffer_.get();
    size_t count = 0;
    for (int i = 0; i < received; ++i) {
        msghdr& query = received_[i].msg_hdr;
        if (query.msg_flags & MSG_TRUNC) {  // over 65535 octets: not a DNS message
            counters.dropped.add();
            continue;
        }
        const size_t size = responder_.answer(
            {reinterpret_cast<const uint8_t*>(query_iovecs_[i].iov_base), received_[i].msg_len},
            core::Address::from_sockaddr(static_cast<const sockaddr*>(query.msg_name)), answer::Transport::udp,
            {free_space, max_datagram});
        if (size == 0) continue;
        msghdr& answer = answers_[count].msg_hdr;
        answer.msg_name = query.msg_name;
        answer.msg_namelen = query.msg_namelen;
        answer_iovecs_[count] = {free_space, size};
        answer.msg_control = &sent_control_[count];
        answer.msg_controllen = socket.packet_info ? answer_source(query, &sent_control_[count]) : 0;
        if (answer.msg_controllen == 0) answer.msg_control = nullptr;
        free_space += size;
        ++count;
    }
    if (const size_t refused = send_answers(fd, count); refused != 0) counters.dropped.add(refused);
    return static_cast<size_t>(received) == batch_size;
}

size_t Udp::send_answers(int fd, size_t count) {
    size_t refused = 0;
    for (size_t next = 0; next < count;) {
        const int sent = ::sendmmsg(fd, answers_.data() + next, static_cast<unsigned>(count - next), MSG_DONTWAIT);
        if (sent > 0) {
            next += static_cast<size_t>(sent);
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
            // This answer's destination is refused (say, port 0): skip it alone.
            spdlog::debug("udp send failed: {}", std::strerror(errno));
            ++refused;
            ++next;
        } else {
            return refused + (count - next);  // the send buffer is full
        }
    }
    return refused;
}

}  // namespace dnsd::net
