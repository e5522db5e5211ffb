#pragma once
// One probe of one target, on the control loop. A probe reports once through
// its ProbeDone, possibly before its start function returns, and has released
// its sockets by then; the ProbeDone must not destroy the probe (it may be on
// the stack below). Destroying a probe that has not reported cancels it, and
// then it never reports. The caller bounds it with the check's timeout.
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "dnsd/zone/snapshot.hpp"

namespace dnsd::health {

class TlsContexts;

struct ProbeResult {
    bool ok = false;
    std::string reason;  // why it failed, for the log and status ("connection refused", "status 503")
};

using ProbeDone = std::function<void(ProbeResult)>;

class Probe {
public:
    virtual ~Probe() = default;
};

// tcp: success once connected.
std::unique_ptr<Probe> start_tcp_probe(uv_loop_t* loop, const zone::ProbeTarget& target, ProbeDone done);

// http and https: GET check.path; success on an expected status and, when
// check.expect_body is set, a body whose first 64 KiB contain it.
std::unique_ptr<Probe> start_http_probe(uv_loop_t* loop, const zone::ProbeTarget& target, TlsContexts& tls,
                                        ProbeDone done);

// dns: see dns_probe.hpp (its channel outlives single probes).

}  // namespace dnsd::health
