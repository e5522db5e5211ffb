#pragma once
// GET /v1/status (SPEC §8): what the server serves and how its members are,
// as JSON.
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "dnsd/control/registrations.hpp"
#include "dnsd/control/state.hpp"
#include "dnsd/discovery/discovery.hpp"
#include "dnsd/fleet/fleet.hpp"
#include "dnsd/health/monitor.hpp"
#include "dnsd/net/worker.hpp"

namespace dnsd::control {

// RFC 3339 in UTC with milliseconds: "2026-11-22T09:00:00.123Z".
std::string format_time(std::chrono::system_clock::time_point time);

// Keys in the order written, for people reading it. `workers`: whose pool
// answers are counted. `fleet`: null for a node alone; `discovery`: null
// when nothing looks members up.
nlohmann::ordered_json status_json(const State& state, std::span<const std::unique_ptr<net::Worker>> workers,
                                   const health::Monitor& monitor, const Registrations& registrations,
                                   const fleet::Fleet* fleet, const discovery::Discovery* discovery = nullptr);

// A pool's members_from source: what it asks, where, and how its last lookups went.
nlohmann::ordered_json source_json(const discovery::SourceStatus& source, const config::Config& config);

// GET /v1/fleet: this node's connection and every node it heard of.
nlohmann::ordered_json fleet_json(const fleet::Status& status, const config::Fleet& settings);

// {"ns1": "up", "ns2": "down"}: each counted node's verdict on one target.
// GET /v1/zones/Z/pools/P/members/A (SPEC §11): the member's effective state
// ("removed" once gone from the pool), health, and drain.
nlohmann::ordered_json member_report_json(std::string_view zone, std::string_view pool, const core::Address& address,
                                          const health::MemberReport& report);

nlohmann::ordered_json votes_json(const fleet::TargetVotes& votes);

// A reload's outcome: in status as the last one, with the first `listed`
// changes, and as POST /v1/reload's answer, with all; "changes_total" counts them.
nlohmann::ordered_json reload_json(const ReloadResult& result, size_t listed = SIZE_MAX);

}  // namespace dnsd::control
