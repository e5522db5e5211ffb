#include "dnsd/geo/regions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace dnsd::geo {
namespace {

constexpr double earth_radius_km = 6371.0088;  // IUGG mean radius

bool lists(const std::vector<std::string>& codes, std::string_view code) {
    return !code.empty() && std::find(codes.begin(), codes.end(), code) != codes.end();
}

Resolution decided(size_t region, Reason reason) {
    Resolution resolution;
    resolution.region = static_cast<int32_t>(region);
    resolution.reason = reason;
    return resolution;
}

Location location_of(const config::Region& region) {
    return Location{region.location->first, region.location->second};
}

}  // namespace

std::string_view to_string(Reason reason) {
    switch (reason) {
        case Reason::subnet: return "subnet";
        case Reason::country: return "country";
        case Reason::continent: return "continent";
        case Reason::distance: return "distance";
        case Reason::default_region: return "default";
        case Reason::none: return "none";
    }
    return "none";
}

double distance_km(const Location& a, const Location& b) {
    constexpr double radians = std::numbers::pi / 180;
    const double lat1 = a.latitude_deg * radians, lat2 = b.latitude_deg * radians;
    const double dlat = lat2 - lat1, dlon = (b.longitude_deg - a.longitude_deg) * radians;
    const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                     std::cos(lat1) * std::cos(lat2) * std::sin(dlon / 2) * std::sin(dlon / 2);
    // Rounding can push h a hair past 1 for antipodal points.
    return 2 * earth_radius_km * std::asin(std::sqrt(std::min(h, 1.0)));
}

Regions::Regions(std::vector<config::Region> regions, int32_t default_region)
    : regions_(std::move(regions)), default_region_(default_region) {
    fallback_.resize(regions_.size());
    for (size_t r = 0; r < regions_.size(); ++r) {
        for (const auto& name : regions_[r].fallback) {
            auto it = std::find_if(regions_.begin(), regions_.end(), [&](const auto& g) { return g.name == name; });
            auto index = static_cast<int32_t>(it - regions_.begin());
            if (it == regions_.end() || index == static_cast<int32_t>(r)) continue;
            if (std::find(fallback_[r].begin(), fallback_[r].end(), index) == fallback_[r].end())
                fallback_[r].push_back(index);
        }
    }
}

std::pair<int32_t, std::optional<config::Subnet>> Regions::match_subnet(const core::Address& address) const {
    std::pair<int32_t, std::optional<config::Subnet>> best{-1, std::nullopt};
    for (size_t r = 0; r < regions_.size(); ++r) {
        for (const auto& subnet : regions_[r].subnets) {
            if (subnet.network.family != address.family || address.masked(subnet.prefix) != subnet.network) continue;
            if (!best.second || subnet.prefix > best.second->prefix) best = {static_cast<int32_t>(r), subnet};
        }
    }
    return best;
}

Resolution Regions::resolve(const core::Address& address, const Place& place) const {
    auto [region, subnet] = match_subnet(address);
    if (region >= 0) {
        Resolution resolution = decided(static_cast<size_t>(region), Reason::subnet);
        resolution.subnet = subnet;
        return resolution;
    }
    return resolve(place);
}

Resolution Regions::resolve(const Place& place) const {
    for (size_t r = 0; r < regions_.size(); ++r)
        if (lists(regions_[r].countries, place.country)) return decided(r, Reason::country);
    for (size_t r = 0; r < regions_.size(); ++r)
        if (lists(regions_[r].continents, place.continent))
            return decided(r, Reason::continent);
    if (place.location) {
        Resolution nearest;
        for (size_t r = 0; r < regions_.size(); ++r) {
            if (!regions_[r].location) continue;
            double d = distance_km(*place.location, location_of(regions_[r]));
            if (nearest.region < 0 || d < nearest.distance_km) {
                nearest = decided(r, Reason::distance);
                nearest.distance_km = d;
            }
        }
        if (nearest.region >= 0) return nearest;
    }
    if (default_region_ >= 0) return decided(static_cast<size_t>(default_region_), Reason::default_region);
    return Resolution{};
}

std::vector<int32_t> Regions::order(int32_t region, const std::optional<Location>& client) const {
    std::vector<int32_t> out;
    if (region >= 0) {
        out.push_back(region);
        if (!fallback_[region].empty()) {
            out.insert(out.end(), fallback_[region].begin(), fallback_[region].end());
            return out;
        }
    }
    for (size_t r = 0; r < regions_.size(); ++r)
        if (static_cast<int32_t>(r) != region) out.push_back(static_cast<int32_t>(r));

    std::optional<Location> origin = client;
    if (!origin && region >= 0 && regions_[region].location) origin = location_of(regions_[region]);
    if (!origin) return out;
    // Regions without a location sort last, and stable_sort keeps ties (and
    // those) in config order.
    auto key = [&](int32_t r) {
        return regions_[r].location ? distance_km(*origin, location_of(regions_[r]))
                                    : std::numeric_limits<double>::infinity();
    };
    auto rest = out.begin() + (region >= 0 ? 1 : 0);
    std::stable_sort(rest, out.end(), [&](int32_t a, int32_t b) { return key(a) < key(b); });
    return out;
}

}  // namespace dnsd::geo
