#pragma once
// The control loop's picture of the server, and the only publisher of
// answer::View. Zones (reload), health (probes), geo and latency each replace their own
// part; every change publishes one new View that the workers pick up on their
// next query. Lives on the control loop's thread: not thread-safe by design.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/answer/view.hpp"
#include "dnsd/config/config.hpp"
#include "dnsd/control/reload_status.hpp"
#include "dnsd/core/published.hpp"
#include "dnsd/geo/geo.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::control {

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
    const std::shared_ptr<const zone::Snapshot>& snapshot() const { return snapshot_; }
    const std::shared_ptr<const health::HealthView>& health() const { return health_; }
    const std::shared_ptr<const geo::Geo>& geo() const { return geo_; }
    const std::shared_ptr<const latency::Routes>& latency() const { return latency_; }
    std::chrono::system_clock::time_point started_at() const { return started_at_; }

    // Each replaces its part and publishes a new View.
    void set_snapshot(std::shared_ptr<const zone::Snapshot> snapshot);
    void set_health(std::shared_ptr<const health::HealthView> health);
    void set_geo(std::shared_ptr<const geo::Geo> geo);
    void set_latency(std::shared_ptr<const latency::Routes> latency);

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

    // Gets every value this replaces (views, snapshots, health, GeoIP
    // databases) while workers may still hold it, so that none of them frees
    // it (control::Retired). Without one they are dropped here. Single
    // writer: serve(), at start-up.
    void set_retirer(std::function<void(std::shared_ptr<const void>)> retire) { retire_ = std::move(retire); }

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

    const config::Config config_;
    std::shared_ptr<const zone::Snapshot> snapshot_;
    std::shared_ptr<const health::HealthView> health_;
    std::function<void(const zone::Snapshot&)> health_updater_;
    std::function<void(const std::shared_ptr<const zone::Snapshot>&)> snapshot_preparer_;
    std::function<void(std::shared_ptr<const void>)> retire_;
    std::shared_ptr<const geo::Geo> geo_;
    std::shared_ptr<const latency::Routes> latency_;
    const std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
    core::Published<answer::View> published_;
    std::vector<ZoneFileStatus> zone_status_;
    std::optional<ReloadResult> last_reload_;
    ReloadCounters reload_counters_;
};

}  // namespace dnsd::control
