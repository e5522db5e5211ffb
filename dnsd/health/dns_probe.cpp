#include "dnsd/health/dns_probe.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <utility>

#include "dnsd/wire/message.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::health {

namespace {

using wire::header_size;
constexpr int class_in = wire::qclass::in;

}  // namespace

// One query in flight; cancelled when destroyed before its answer.
class DnsProber::Query final : public Probe {
public:
    Query(DnsProber& prober, ProbeDone done) : prober_(prober), done_(std::move(done)) {}
    ~Query() override {
        // Only one query is ever in flight per channel: cancelling them all
        // cancels this one, whose callback then sees done_ empty.
        if (done_ && prober_.channel_ != nullptr) {
            done_ = nullptr;
            ares_cancel(prober_.channel_);
        }
    }

    void send() {
        if (prober_.channel_ == nullptr) return report({false, prober_.error_});
        unsigned char* packet = nullptr;
        int size = 0;
        const zone::Check& check = prober_.check_;
        const int status =
            ares_create_query(check.query.c_str(), class_in, check.query_type, 0, 1, &packet, &size, 0);
        if (status != ARES_SUCCESS)
            return report({false, std::string("cannot build the query: ") + ares_strerror(status)});
        ares_send(prober_.channel_, packet, size, on_answer, this);
        ares_free_string(packet);
    }

private:
    static void on_answer(void* arg, int status, int, unsigned char* answer, int size) {
        auto& self = *static_cast<Query*>(arg);
        if (!self.done_) return;  // cancelled
        if (status != ARES_SUCCESS) return self.report({false, ares_strerror(status)});
        if (size < static_cast<int>(header_size)) return self.report({false, "short DNS response"});
        const unsigned rcode = answer[3] & 0x0f;
        if (rcode != 0) return self.report({false, wire::rcode_name(static_cast<uint16_t>(rcode))});
        self.report({true, {}});
    }

    void report(ProbeResult result) { std::exchange(done_, nullptr)(std::move(result)); }

    DnsProber& prober_;
    ProbeDone done_;
};

DnsProber::DnsProber(uv_loop_t* loop, const zone::ProbeTarget& target) : loop_(loop), check_(target.check) {
    ares_options options{};
    // The answer's rcode decides, so c-ares must hand every response over
    // rather than try another server on SERVFAIL or REFUSED.
    options.flags = ARES_FLAG_NOCHECKRESP;
    options.timeout = static_cast<int>(check_.timeout_ms);
    options.tries = 1;
    options.sock_state_cb = on_socket_state;
    options.sock_state_cb_data = this;
    const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
    int status = ares_init_options(&channel_, &options, mask);
    if (status != ARES_SUCCESS) {
        error_ = std::string("cannot create a resolver: ") + ares_strerror(status);
        channel_ = nullptr;
        return;
    }
    ares_addr_port_node server{};
    server.udp_port = server.tcp_port = target.check.port;
    if (target.address.family == core::Family::v4) {
        server.family = AF_INET;
        std::memcpy(&server.addr.addr4, target.address.bytes.data(), 4);
    } else {
        server.family = AF_INET6;
        std::memcpy(&server.addr.addr6, target.address.bytes.data(), 16);
    }
    status = ares_set_servers_ports(channel_, &server);
    if (status != ARES_SUCCESS) {
        error_ = std::string("cannot set the server: ") + ares_strerror(status);
        ares_destroy(channel_);
        channel_ = nullptr;
    }
}

DnsProber::~DnsProber() {
    // ares_destroy reports each socket closed, which closes its poll.
    if (channel_ != nullptr) ares_destroy(channel_);
    polls_.clear();
}

std::unique_ptr<Probe> DnsProber::start(ProbeDone done) {
    auto query = std::make_unique<Query>(*this, std::move(done));
    query->send();
    return query;
}

void DnsProber::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto& self = *static_cast<DnsProber*>(data);
    if (!readable && !writable) {
        self.polls_.erase(fd);  // before c-ares closes fd
        return;
    }
    auto& poll = self.polls_[fd];
    if (!poll) {
        poll = std::make_unique<Poll>(&self,
                                      [&](uv_poll_t* handle) { return uv_poll_init_socket(self.loop_, handle, fd); });
        if (!*poll) {
            // c-ares then never hears of this socket and the probe times out.
            self.polls_.erase(fd);
            return;
        }
    }
    uv_poll_start(poll->get(), (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

void DnsProber::on_poll(uv_poll_t* poll, int status, int events) {
    DnsProber* self = Poll::owner_of(poll);
    if (self == nullptr) return;
    uv_os_fd_t fd = -1;
    uv_fileno(reinterpret_cast<uv_handle_t*>(poll), &fd);
    // On a poll error let c-ares try both directions and find the error itself.
    const bool error = status < 0;
    ares_process_fd(self->channel_, error || (events & UV_READABLE) ? fd : ARES_SOCKET_BAD,
                    error || (events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD);
}

}  // namespace dnsd::health
