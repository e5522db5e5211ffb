#include "dnsd/control/state.hpp"

#include <utility>

namespace dnsd::control {

State::State(config::Config config, std::shared_ptr<const zone::Snapshot> snapshot,
             std::shared_ptr<const geo::Geo> geo)
    : config_(std::move(config)),
      snapshot_(std::move(snapshot)),
      health_(std::make_shared<health::HealthView>()),
      geo_(std::move(geo)),
      published_(make_view(config_, snapshot_, health_, geo_, latency_)) {}

void State::set_snapshot(std::shared_ptr<const zone::Snapshot> snapshot) {
    retire(std::exchange(snapshot_, std::move(snapshot)));
    if (snapshot_preparer_) snapshot_preparer_(snapshot_);
    if (health_updater_) health_updater_(*snapshot_);
    publish();
}

void State::set_health(std::shared_ptr<const health::HealthView> health) {
    retire(std::exchange(health_, std::move(health)));
    publish();
}

void State::set_geo(std::shared_ptr<const geo::Geo> geo) {
    retire(std::exchange(geo_, std::move(geo)));
    publish();
}

void State::set_latency(std::shared_ptr<const latency::Routes> latency) {
    retire(std::exchange(latency_, std::move(latency)));
    publish();
}

void State::publish() {
    retire(published_.load());
    published_.publish(make_view(config_, snapshot_, health_, geo_, latency_));
}

void State::record_reload(ReloadResult result) {
    ++(result.ok() ? reload_counters_.ok : reload_counters_.failed);
    last_reload_ = std::move(result);
}

std::shared_ptr<const answer::View> make_view(const config::Config& config,
                                              std::shared_ptr<const zone::Snapshot> snapshot,
                                              std::shared_ptr<const health::HealthView> health,
                                              std::shared_ptr<const geo::Geo> geo,
                                              std::shared_ptr<const latency::Routes> latency) {
    auto view = std::make_shared<answer::View>();
    view->snapshot = std::move(snapshot);
    view->health = std::move(health);
    view->geo = std::move(geo);
    view->latency = std::move(latency);
    view->options.udp_payload = config.udp_payload;
    view->options.nsid = config.nsid;
    view->options.ecs = config.ecs;
    return view;
}

}  // namespace dnsd::control
