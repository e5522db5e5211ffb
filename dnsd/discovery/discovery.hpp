#pragma once
// Pools' `members_from` sources (SPEC §11), resolved on the control loop: one
// c-ares channel per distinct resolver, one timer for every source, each
// source's set kept and refreshed by SourceRefresh. Whenever what a source
// name gives a pool changes, the new members go to `Publish`, under the
// source's label ("dns:NAME"); control makes them the pool's runtime members.
#include <uv.h>

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "dnsd/core/ares_channel.hpp"
#include "dnsd/core/uv_handle.hpp"
#include "dnsd/discovery/refresh.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::discovery {

// Each try of a query waits this long, twice, before the lookup fails.
inline constexpr int query_timeout_ms = 2000;
inline constexpr int query_tries = 2;

// "dns:web.service.consul.": where the members of a source come from, in
// status, metrics and explain. A pool's sources of one name (an A and an
// AAAA source, say) give one set under one label.
std::string source_label(const zone::MemberSource& source);

// A source's members as a pool's: the source's region, weight and state on
// each, and an SRV record's port, priority and weight.
std::vector<zone::Member> to_members(const zone::MemberSource& source, const std::vector<Found>& found);

// What one source shows in status, metrics and explain.
struct SourceStatus {
    std::string zone, pool;
    zone::MemberSource source;
    uint64_t refreshes = 0;
    std::optional<std::chrono::system_clock::time_point> last_refresh;  // none before the first
    std::chrono::system_clock::time_point next_refresh;                 // when idle; now while one runs
    uint32_t ttl_s = 0;
    size_t records = 0;  // in the last answer
    std::string error;   // of the last lookup; empty after an answer with members
    size_t members = 0;  // in the set the pool has from it
    unsigned failures = 0;  // in a row
    uint64_t failures_total = 0;
    bool in_flight = false;
};

class Discovery {
public:
    using Publish = std::function<void(const std::string& zone, const std::string& pool, const std::string& label,
                                       std::vector<zone::Member> members)>;

    Discovery(uv_loop_t* loop, Publish publish);
    Discovery(const Discovery&) = delete;
    Discovery& operator=(const Discovery&) = delete;
    ~Discovery();

    // The sources `snapshot`'s pools name: a source that stays (same zone,
    // pool and entry) keeps its set and schedule; a new one is looked up at
    // once; one that is gone stops, and its label gets an empty set unless
    // another source of that name still feeds the pool.
    void update(const zone::Snapshot& snapshot);

    // Every source, in the order of the zones and pools that name them.
    std::vector<SourceStatus> status() const;

    // Stops every lookup and timer: before the loop closes.
    void close();

private:
    struct Source;
    class Lookup;
    using Timer = core::UvHandle<uv_timer_t, Discovery>;

    core::AresChannel& channel_for(const std::optional<core::Endpoint>& resolver);
    void start_lookup(Source& source);
    void finish(Lookup& lookup, Outcome outcome);
    void publish(const std::string& zone, const std::string& pool, const std::string& label);
    void arm();
    static void on_timer(uv_timer_t* timer);

    uv_loop_t* loop_;
    Publish publish_;
    std::vector<std::unique_ptr<Source>> sources_;
    // Lookups in flight, those of stopped sources too: c-ares calls them back
    // until they finish, so they outlive the channels' last callbacks.
    std::list<std::unique_ptr<Lookup>> lookups_;
    std::map<std::string, std::unique_ptr<core::AresChannel>> channels_;  // by resolver ("" for the system's)
    // (zone, pool, label) of sources update() stopped, to be told on the timer.
    std::set<std::tuple<std::string, std::string, std::string>> stopped_;
    Timer timer_;
    bool closing_ = false;
};

}  // namespace dnsd::discovery
