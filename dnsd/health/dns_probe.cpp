#include "dnsd/health/dns_probe.hpp"

#include <utility>

#include "dnsd/wire/message.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::health {

// One query in flight; cancelled when destroyed before its answer.
class DnsProber::Query final : public Probe {
public:
    Query(DnsProber& prober, ProbeDone done) : prober_(prober), done_(std::move(done)) {}
    ~Query() override {
        // Only one query is ever in flight per channel: cancelling them all
        // cancels this one, whose callback then sees done_ empty.
        if (done_) {
            done_ = nullptr;
            prober_.channel_.cancel_all();
        }
    }

    void send() {
        const zone::Check& check = prober_.check_;
        if (std::string error = prober_.channel_.query(check.query, check.query_type, on_answer, this); !error.empty())
            report({false, std::move(error)});
    }

private:
    static void on_answer(void* arg, int status, int, unsigned char* answer, int size) {
        auto& self = *static_cast<Query*>(arg);
        if (!self.done_) return;  // cancelled
        if (status != ARES_SUCCESS) return self.report({false, ares_strerror(status)});
        if (size < static_cast<int>(wire::header_size)) return self.report({false, "short DNS response"});
        const unsigned rcode = answer[3] & 0x0f;
        if (rcode != 0) return self.report({false, wire::rcode_name(static_cast<uint16_t>(rcode))});
        self.report({true, {}});
    }

    void report(ProbeResult result) { std::exchange(done_, nullptr)(std::move(result)); }

    DnsProber& prober_;
    ProbeDone done_;
};

// The answer's rcode decides, which AresChannel hands over whatever it is.
// The Monitor's deadline ends a probe that gets no answer; c-ares' own comes
// later, so that such a probe always counts as a timeout.
DnsProber::DnsProber(uv_loop_t* loop, const zone::ProbeTarget& target)
    : check_(target.check),
      channel_(loop, core::Endpoint{target.address, target.check.port}, 2 * static_cast<int>(target.check.timeout_ms),
               1) {}

DnsProber::~DnsProber() = default;

std::unique_ptr<Probe> DnsProber::start(ProbeDone done) {
    auto query = std::make_unique<Query>(*this, std::move(done));
    query->send();
    return query;
}

}  // namespace dnsd::health
