#include "dnsd/control/state.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "dnsd/zone/name.hpp"

namespace dnsd::control {

using zone::zone_key;

std::string_view to_string(RuntimeResult result) {
    switch (result) {
        case RuntimeResult::changed: return "changed";
        case RuntimeResult::unchanged: return "unchanged";
        case RuntimeResult::no_such_zone: return "no such zone";
        case RuntimeResult::no_such_pool: return "no such pool";
        case RuntimeResult::no_such_region: return "no such region";
    }
    return "?";
}

State::State(config::Config config, std::shared_ptr<const zone::Snapshot> snapshot,
             std::shared_ptr<const geo::Geo> geo)
    : config_(std::move(config)),
      files_(snapshot),
      snapshot_(std::move(snapshot)),
      health_(std::make_shared<health::HealthView>()),
      geo_(std::move(geo)),
      published_(make_view(config_, snapshot_, health_, geo_, latency_)) {}

void State::set_snapshot(std::shared_ptr<const zone::Snapshot> snapshot) {
    files_ = std::move(snapshot);
    if (runtime_.empty()) return serve(files_);
    std::vector<std::shared_ptr<const zone::Zone>> zones;
    zones.reserve(files_->zones.size());
    for (const auto& zone : files_->zones) zones.push_back(served(zone));
    serve(std::make_shared<const zone::Snapshot>(std::move(zones)));
}

std::shared_ptr<const zone::Zone> State::served(const std::shared_ptr<const zone::Zone>& zone) const {
    const auto runtime = runtime_.find(zone->name);
    if (runtime == runtime_.end()) return zone;
    // A zone whose pools are not those the runtime members name serves as compiled.
    const bool adds = std::any_of(zone->pools.begin(), zone->pools.end(),
                                  [&](const zone::Pool& pool) { return runtime->second.contains(pool.name); });
    return adds ? zone::with_runtime_members(zone, runtime->second) : zone;
}

void State::serve(std::shared_ptr<const zone::Snapshot> snapshot) {
    std::shared_ptr<const zone::Snapshot> before = std::exchange(snapshot_, std::move(snapshot));
    if (snapshot_preparer_) snapshot_preparer_(snapshot_);
    if (health_updater_) health_updater_(*snapshot_);
    publish();
    if (!retire_ || !before) return;
    std::unordered_set<const zone::Zone*> serving;
    for (const auto& zone : snapshot_->zones) serving.insert(zone.get());
    for (const auto& zone : before->zones)
        if (!serving.contains(zone.get())) retire_(zone);
    retire_(std::move(before));
}

RuntimeResult State::set_runtime_members(std::string_view zone_name, std::string_view pool_name,
                                         std::string_view source, std::vector<RuntimeMember> members) {
    const std::string name = zone_key(zone_name);
    const auto& zones = files_->zones;
    const auto at = std::find_if(zones.begin(), zones.end(), [&](const auto& z) { return z->name == name; });
    if (at == zones.end()) return RuntimeResult::no_such_zone;
    const auto& pools = (*at)->pools;
    if (std::none_of(pools.begin(), pools.end(), [&](const zone::Pool& p) { return p.name == pool_name; }))
        return RuntimeResult::no_such_pool;

    std::vector<zone::RuntimeMember> resolved;
    resolved.reserve(members.size());
    const auto regions = config_.region_names();
    for (const RuntimeMember& m : members) {
        int32_t region = -1;
        if (!m.region.empty()) {
            const auto r = std::find(regions.begin(), regions.end(), m.region);
            if (r == regions.end()) return RuntimeResult::no_such_region;
            region = static_cast<int32_t>(r - regions.begin());
        }
        resolved.push_back({m.address, region, m.weight, m.priority, m.state, m.port});
    }
    // Sorted, so that the order a source lists them in (a DNS server's
    // rotation) is no change; one entry per address, the first given.
    std::stable_sort(resolved.begin(), resolved.end(),
                     [](const auto& a, const auto& b) { return a.address < b.address; });
    resolved.erase(std::unique(resolved.begin(), resolved.end(),
                               [](const auto& a, const auto& b) { return a.address == b.address; }),
                   resolved.end());

    auto& of_zone = runtime_[name];
    auto& of_pool = of_zone[std::string(pool_name)];
    const auto in_force = of_pool.find(std::string(source));
    const bool had = in_force != of_pool.end();
    if (had ? in_force->second == resolved : resolved.empty()) {
        if (of_pool.empty()) of_zone.erase(std::string(pool_name));
        if (of_zone.empty()) runtime_.erase(name);
        return RuntimeResult::unchanged;
    }
    if (resolved.empty()) {
        of_pool.erase(in_force);
        if (of_pool.empty()) of_zone.erase(std::string(pool_name));
        if (of_zone.empty()) runtime_.erase(name);
    } else {
        of_pool[std::string(source)] = std::move(resolved);
    }

    std::vector<std::shared_ptr<const zone::Zone>> served_zones = snapshot_->zones;
    const auto index = static_cast<size_t>(at - zones.begin());
    served_zones[index] = served(*at);
    serve(std::make_shared<const zone::Snapshot>(std::move(served_zones)));
    return RuntimeResult::changed;
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
    if (published_listener_) published_listener_();
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
