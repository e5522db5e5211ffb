#pragma once
// GET /metrics (SPEC §8): every count dnsd keeps, in the Prometheus text
// format. Read on the control loop: the workers' counters are summed from
// their per-worker copies (relaxed atomics with one writer each), the rest
// comes from the control loop's own State and health monitor.
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

// Answers from one pool in one region's tier, summed over the workers: the
// counts of dnsd_pool_answers_total, and of "answers" in /v1/status.
struct PoolAnswers {
    std::string zone;
    std::string pool;
    std::string region;  // of the tier that answered; empty: none (fail-open, or a pool without regions)
    std::string_view tier;  // answer::tier_names
    uint64_t count = 0;
};

// In the order of zone, pool, region (none first, then config order) and tier;
// only the counts above 0.
std::vector<PoolAnswers> sum_pool_answers(std::span<const std::unique_ptr<net::Worker>> workers,
                                          const std::vector<config::Region>& regions);

}  // namespace dnsd::control
