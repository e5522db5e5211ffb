#pragma once
// dns checks through c-ares (SPEC §5): one channel per target whose only
// server is the member, on the control loop (core::AresChannel). The channel
// outlives single probes so that its sockets do.
#include <uv.h>

#include <memory>

#include "dnsd/core/ares_channel.hpp"
#include "dnsd/health/probe.hpp"

namespace dnsd::health {

class DnsProber {
public:
    DnsProber(uv_loop_t* loop, const zone::ProbeTarget& target);
    DnsProber(const DnsProber&) = delete;
    DnsProber& operator=(const DnsProber&) = delete;
    // Every probe it started must be gone first.
    ~DnsProber();

    // A query for check.query of check.query_type; success on NOERROR.
    std::unique_ptr<Probe> start(ProbeDone done);

private:
    class Query;

    const zone::Check check_;
    core::AresChannel channel_;
};

}  // namespace dnsd::health
