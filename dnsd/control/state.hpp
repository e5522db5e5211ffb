#pragma once
// The control loop's picture of the server, and the only publisher of
// answer::View. Zones (reload), health (probes), geo and latency each replace their own
// part; every change publishes one new View that the workers pick up on their
// next query. Lives on the control loop's thread: not thread-safe by design.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/answer/view.hpp"
#include "dnsd/config/config.hpp"
#include "dnsd/control/reload_status.hpp"
#include "dnsd/core/published.hpp"
#include "dnsd/geo/geo.hpp"
#include "dnsd/zone/runtime.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::control {

// A member that a registration or a discovery source adds to a pool at run
// time (SPEC §11); the fields mean what they mean in a zone file.
struct RuntimeMember {
    core::Address address;
    std::string region;  // a region of the config; empty: none (every region)
    uint32_t weight = 1;
    uint32_t priority = 0;
    zone::MemberState state = zone::MemberState::automatic;
    uint16_t port = 0;  // probe port override; 0: the pool's check's port

    friend bool operator==(const RuntimeMember&, const RuntimeMember&) = default;
};

enum class RuntimeResult : uint8_t {
    changed,    // published
    unchanged,  // the same set was in force: nothing published
    no_such_zone,
    no_such_pool,
    no_such_region,  // some member names a region the config lacks: nothing changed
};
std::string_view to_string(RuntimeResult result);

// The view that `config` and these parts make: what the workers read, and
// what `dnsd explain` answers from offline.
std::shared_ptr<const answer::View> make_view(const config::Config& config,
                                              std::shared_ptr<const zone::Snapshot> snapshot,
                                              std::shared_ptr<const health::HealthView> health,
                                              std::shared_ptr<const geo::Geo> geo,
                                              std::shared_ptr<const latency::Routes> latency = nullptr);

class State {
public:
    State(config::Config config, std::shared_ptr<const zone::Snapshot> snapshot,
          std::shared_ptr<const geo::Geo> geo);
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    // What the workers read.
    const core::Published<answer::View>& published() const { return published_; }

    const config::Config& config() const { return config_; }
    // What is served: the zone files' snapshot with the runtime members.
    const std::shared_ptr<const zone::Snapshot>& snapshot() const { return snapshot_; }
    const std::shared_ptr<const health::HealthView>& health() const { return health_; }
    const std::shared_ptr<const geo::Geo>& geo() const { return geo_; }
    const std::shared_ptr<const latency::Routes>& latency() const { return latency_; }
    std::chrono::system_clock::time_point started_at() const { return started_at_; }

    // Each replaces its part and publishes a new View. set_snapshot takes
    // the zone files' snapshot (a reload) and serves it with the runtime
    // members in force joined to their pools.
    void set_snapshot(std::shared_ptr<const zone::Snapshot> snapshot);
    void set_health(std::shared_ptr<const health::HealthView> health);
    void set_geo(std::shared_ptr<const geo::Geo> geo);
    void set_latency(std::shared_ptr<const latency::Routes> latency);

    // The one way members join pools at run time (registrations, discovery):
    // `members` replace what `source` ("registration", "dns:NAME") gave
    // `pool` of `zone` before; an empty list removes them all. The members
    // are joined after the pool's own (one whose address the pool has
    // already is left out), sorted by address, and kept across reloads,
    // reapplied to every new version of the zone while it has the pool. The
    // zone is derived from its compiled form without compiling it again and
    // published like a reload (health update, then the View). A set equal to
    // the one in force publishes nothing. `zone` as zone::Zone::name spells
    // it, or with a final dot or other case.
    RuntimeResult set_runtime_members(std::string_view zone, std::string_view pool, std::string_view source,
                                      std::vector<RuntimeMember> members);
    // The runtime members in force, by zone name (as zone::Zone::name).
    const std::map<std::string, zone::RuntimePools>& runtime_members() const { return runtime_; }

    // Called by set_snapshot with the new snapshot before any View holds it:
    // the workers build their pool answer counters for it here, so that
    // adopting it costs them nothing. Single writer: serve(), at start-up.
    void set_snapshot_preparer(std::function<void(const std::shared_ptr<const zone::Snapshot>&)> prepare) {
        snapshot_preparer_ = std::move(prepare);
    }

    // Called by set_snapshot with the new snapshot after the preparer and
    // before the snapshot's own publish, so that the health of changed zones
    // (health::Monitor::update, which calls set_health and so publishes the
    // first View with the snapshot) is never published after them: until it
    // is, their members would all count as up. Single writer: serve(), at
    // start-up.
    void set_health_updater(std::function<void(const zone::Snapshot&)> update) {
        health_updater_ = std::move(update);
    }

    // Gets every value this replaces (views, snapshots, zones, health, GeoIP
    // databases, latency routes) while workers may still hold it, so that
    // none of them frees it (control::Retired). Without one they are dropped
    // here. Single writer: serve(), at start-up.
    void set_retirer(std::function<void(std::shared_ptr<const void>)> retire) { retire_ = std::move(retire); }

    // Called after every View is published, so that the workers move to it
    // at once (net::Worker::view_published): an idle worker would otherwise
    // hold the old one, with a reload's old zones or a replaced GeoIP
    // database, until its next query. Single writer: serve(), at start-up.
    void set_published_listener(std::function<void()> listener) { published_listener_ = std::move(listener); }

    // Reload's picture: every zone file's state and the outcome of reloads.
    // Single writer: control::Reloader (reload.cpp).
    const std::vector<ZoneFileStatus>& zone_status() const { return zone_status_; }
    const std::optional<ReloadResult>& last_reload() const { return last_reload_; }  // none yet: nullopt
    const ReloadCounters& reload_counters() const { return reload_counters_; }
    void set_zone_status(std::vector<ZoneFileStatus> zones) { zone_status_ = std::move(zones); }
    // Keeps `result` as the last reload's and counts it by its outcome.
    void record_reload(ReloadResult result);

private:
    // Publishes the View of the parts as they are now, retiring the one before.
    void publish();
    void retire(std::shared_ptr<const void> value) {
        if (retire_) retire_(std::move(value));
    }
    // Serves `snapshot`: hands it to the preparer and the health updater,
    // publishes it, and retires it and the zones it no longer has.
    void serve(std::shared_ptr<const zone::Snapshot> snapshot);
    // The served form of the files' `zone`: with its runtime members, if any.
    std::shared_ptr<const zone::Zone> served(const std::shared_ptr<const zone::Zone>& zone) const;

    const config::Config config_;
    std::shared_ptr<const zone::Snapshot> files_;  // the zone files' snapshot
    std::shared_ptr<const zone::Snapshot> snapshot_;  // served
    std::map<std::string, zone::RuntimePools> runtime_;  // by zone name
    std::shared_ptr<const health::HealthView> health_;
    std::function<void(const zone::Snapshot&)> health_updater_;
    std::function<void(const std::shared_ptr<const zone::Snapshot>&)> snapshot_preparer_;
    std::function<void(std::shared_ptr<const void>)> retire_;
    std::function<void()> published_listener_;
    std::shared_ptr<const geo::Geo> geo_;
    std::shared_ptr<const latency::Routes> latency_;
    const std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
    core::Published<answer::View> published_;
    std::vector<ZoneFileStatus> zone_status_;
    std::optional<ReloadResult> last_reload_;
    ReloadCounters reload_counters_;
};

}  // namespace dnsd::control
