#include "dnsd/geo/geo.hpp"

#include <algorithm>
#include <stdexcept>

namespace dnsd::geo {

Geo::Geo(std::unique_ptr<Database> database, Regions regions)
    : database_(std::move(database)), regions_(std::move(regions)), map_(Map::build(database_.get(), regions_)) {}

std::shared_ptr<const Geo> Geo::load(const config::Config& config, std::string& error) {
    std::unique_ptr<Database> database;
    if (!config.geoip_path.empty()) {
        database = Database::open(config.geoip_path, config.geoip_fields, error);
        if (!database) return nullptr;
    }
    const auto& regions = config.regions;
    auto it = std::find_if(regions.begin(), regions.end(),
                           [&](const config::Region& r) { return r.name == config.default_region; });
    const int32_t default_region = it == regions.end() ? -1 : static_cast<int32_t>(it - regions.begin());
    try {
        return std::make_shared<const Geo>(std::move(database), Regions(regions, default_region));
    } catch (const std::runtime_error& e) {
        error = e.what();
        return nullptr;
    }
}

Placement Geo::place(const core::Address& client) const noexcept {
    const Map::Hit hit = map_.find(client);
    return Placement{map_.result(hit.result).region, map_.order(hit.result), hit.scope_prefix};
}

Explanation Geo::explain(const core::Address& client) const {
    Explanation out;
    out.client = client;
    if (database_) {
        out.lookup = database_->lookup(client);
    } else {
        out.lookup.network = client.masked(0);
    }
    out.resolution = regions_.resolve(client, out.lookup.place);
    out.region_order = regions_.order(out.resolution.region, out.lookup.place.location);
    const Map::Hit hit = map_.find(client);
    out.scope_prefix = hit.scope_prefix;
    out.scope_network = client.masked(hit.scope_prefix);
    return out;
}

}  // namespace dnsd::geo
