#pragma once
// GET /metrics (SPEC §8): every count dnsd keeps, in the Prometheus text
// format. Read on the control loop: the workers' counters are summed from
// their per-worker copies (relaxed atomics with one writer each), the rest
// comes from the control loop's own State and health monitor.
#include <memory>
#include <span>
#include <string>

#include "dnsd/control/state.hpp"
#include "dnsd/discovery/discovery.hpp"
#include "dnsd/fleet/fleet.hpp"
#include "dnsd/health/monitor.hpp"
#include "dnsd/net/worker.hpp"

namespace dnsd::control {

struct MetricsSources {
    const State& state;
    std::span<const std::unique_ptr<net::Worker>> workers;
    const health::Monitor& monitor;
    const fleet::Fleet* fleet = nullptr;  // null: a node alone
    const discovery::Discovery* discovery = nullptr;
};

std::string render_metrics(const MetricsSources& sources);

}  // namespace dnsd::control
