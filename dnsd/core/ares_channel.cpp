#include "dnsd/core/ares_channel.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>

namespace dnsd::core {

namespace {

constexpr int class_in = 1;

}  // namespace

AresChannel::AresChannel(uv_loop_t* loop, const std::optional<Endpoint>& server, int timeout_ms, int tries)
    : loop_(loop), timer_(this, [loop](uv_timer_t* timer) { return uv_timer_init(loop, timer); }) {
    ares_options options{};
    options.flags = ARES_FLAG_NOCHECKRESP;
    options.timeout = timeout_ms;
    options.tries = tries;
    options.sock_state_cb = on_socket_state;
    options.sock_state_cb_data = this;
    const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
    int status = ares_init_options(&channel_, &options, mask);
    if (status != ARES_SUCCESS) {
        error_ = std::string("cannot create a resolver: ") + ares_strerror(status);
        channel_ = nullptr;
        return;
    }
    if (!server) return;
    ares_addr_port_node node{};
    node.udp_port = node.tcp_port = server->port;
    if (server->address.family == Family::v4) {
        node.family = AF_INET;
        std::memcpy(&node.addr.addr4, server->address.bytes.data(), 4);
    } else {
        node.family = AF_INET6;
        std::memcpy(&node.addr.addr6, server->address.bytes.data(), 16);
    }
    status = ares_set_servers_ports(channel_, &node);
    if (status != ARES_SUCCESS) {
        error_ = std::string("cannot set the server: ") + ares_strerror(status);
        ares_destroy(channel_);
        channel_ = nullptr;
    }
}

AresChannel::~AresChannel() {
    // ares_destroy reports each socket closed, which closes its poll.
    if (channel_ != nullptr) ares_destroy(channel_);
    polls_.clear();
}

std::string AresChannel::query(const std::string& name, uint16_t type, ares_callback done, void* arg) {
    if (channel_ == nullptr) return error_;
    unsigned char* packet = nullptr;
    int size = 0;
    const int status = ares_create_query(name.c_str(), class_in, type, 0, 1, &packet, &size, 0);
    if (status != ARES_SUCCESS) return std::string("cannot build the query: ") + ares_strerror(status);
    ares_send(channel_, packet, size, done, arg);
    ares_free_string(packet);
    arm();
    return {};
}

void AresChannel::cancel_all() {
    if (channel_ != nullptr) ares_cancel(channel_);
    arm();
}

void AresChannel::arm() {
    if (!timer_ || channel_ == nullptr) return;
    timeval wait{};
    if (ares_timeout(channel_, nullptr, &wait) == nullptr) {
        uv_timer_stop(timer_.get());
        return;
    }
    // Rounded up, so that the timer never fires just before c-ares' deadline.
    const uint64_t ms = static_cast<uint64_t>(wait.tv_sec) * 1000 + (static_cast<uint64_t>(wait.tv_usec) + 999) / 1000;
    uv_timer_start(timer_.get(), on_timer, ms, 0);
}

void AresChannel::on_timer(uv_timer_t* timer) {
    AresChannel* self = Timer::owner_of(timer);
    if (self == nullptr) return;
    ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    self->arm();
}

void AresChannel::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto& self = *static_cast<AresChannel*>(data);
    if (!readable && !writable) {
        self.polls_.erase(fd);  // before c-ares closes fd
        return;
    }
    auto& poll = self.polls_[fd];
    if (!poll) {
        poll = std::make_unique<Poll>(&self,
                                      [&](uv_poll_t* handle) { return uv_poll_init_socket(self.loop_, handle, fd); });
        if (!*poll) {
            // c-ares then never hears of this socket and its query times out.
            self.polls_.erase(fd);
            return;
        }
    }
    uv_poll_start(poll->get(), (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

void AresChannel::on_poll(uv_poll_t* poll, int status, int events) {
    AresChannel* self = Poll::owner_of(poll);
    if (self == nullptr) return;
    uv_os_fd_t fd = -1;
    uv_fileno(reinterpret_cast<uv_handle_t*>(poll), &fd);
    // On a poll error let c-ares try both directions and find the error itself.
    const bool error = status < 0;
    ares_process_fd(self->channel_, error || (events & UV_READABLE) ? fd : ARES_SOCKET_BAD,
                    error || (events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD);
    self->arm();
}

}  // namespace dnsd::core
