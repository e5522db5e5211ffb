#pragma once
// dns checks through c-ares (SPEC §5): one channel per target whose only
// server is the member, driven from the control loop by uv_poll handles on
// c-ares' sockets. The channel outlives single probes so that its sockets do.
#include <ares.h>
#include <uv.h>

#include <map>
#include <memory>
#include <string>

#include "dnsd/core/uv_handle.hpp"
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
    using Poll = core::UvHandle<uv_poll_t, DnsProber>;

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
    static void on_poll(uv_poll_t* poll, int status, int events);

    uv_loop_t* loop_;
    const zone::Check check_;
    ares_channel channel_ = nullptr;
    std::string error_;  // why there is no channel
    std::map<ares_socket_t, std::unique_ptr<Poll>> polls_;
};

}  // namespace dnsd::health
