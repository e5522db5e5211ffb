#include "dnsd/latency/routes.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>

namespace dnsd::latency {
namespace {

// Whether the client network `network` and a region subnet share an address.
bool overlaps(NetworkKey network, const config::Subnet& subnet) {
    const core::Address first = first_address(network);
    if (subnet.network.family != first.family) return false;
    const unsigned common = std::min<unsigned>(prefix_of(network), subnet.prefix);
    return first.masked(common) == subnet.network.masked(common);
}

bool overlaps_any_subnet(NetworkKey network, const geo::Regions& regions) {
    for (const auto& region : regions.regions())
        for (const auto& subnet : region.subnets)
            if (overlaps(network, subnet)) return true;
    return false;
}

}  // namespace

std::string_view to_string(Source source) {
    switch (source) {
        case Source::measured: return "measured";
        case Source::table: return "table";
        case Source::estimated: return "estimated";
        case Source::unknown: return "unknown";
    }
    return "unknown";
}

double estimate_ms(double distance_km) { return distance_km / 100.0 + 5.0; }

namespace {

// region_rtts and order_by_rtt into buffers the caller keeps, so that a
// build over a million networks allocates nothing per network.
void fill_rtts(std::span<const Cell> cells, const std::optional<geo::Location>& location, const geo::Regions& regions,
               uint32_t min_samples, std::vector<RegionRtt>& out) {
    out.assign(cells.size(), RegionRtt{});
    for (size_t r = 0; r < cells.size(); ++r) {
        const Cell& c = cells[r];
        RegionRtt& rtt = out[r];
        rtt.region = static_cast<int32_t>(r);
        rtt.samples = c.samples;
        rtt.updated_s = c.updated_s;
        const auto& site = regions.regions()[r].location;
        if (c.samples >= min_samples) {
            rtt.source = Source::measured;
            rtt.rtt_ms = c.mean_ms;
        } else if (c.has_table()) {
            rtt.source = Source::table;
            rtt.rtt_ms = c.table_ms;
        } else if (location && site) {
            rtt.source = Source::estimated;
            rtt.distance_km = geo::distance_km(*location, geo::Location{site->first, site->second});
            rtt.rtt_ms = estimate_ms(rtt.distance_km);
        } else {
            rtt.source = Source::unknown;
            rtt.rtt_ms = std::numeric_limits<double>::infinity();
        }
    }
}

// An insertion sort: stable (ties keep config order) and, for the handful of
// regions there are, without std::stable_sort's buffer.
void fill_order(std::span<const RegionRtt> rtts, std::vector<int32_t>& order) {
    order.clear();
    for (size_t r = 0; r < rtts.size(); ++r) {
        auto at = order.end();
        while (at != order.begin() && rtts[static_cast<size_t>(*(at - 1))].rtt_ms > rtts[r].rtt_ms) --at;
        order.insert(at, static_cast<int32_t>(r));
    }
}

}  // namespace

std::vector<RegionRtt> region_rtts(std::span<const Cell> cells, const std::optional<geo::Location>& location,
                                   const geo::Regions& regions, uint32_t min_samples) {
    std::vector<RegionRtt> out;
    fill_rtts(cells, location, regions, min_samples, out);
    return out;
}

bool any_measured(std::span<const RegionRtt> rtts) {
    return std::any_of(rtts.begin(), rtts.end(),
                       [](const RegionRtt& r) { return r.source == Source::measured || r.source == Source::table; });
}

std::vector<int32_t> order_by_rtt(std::span<const RegionRtt> rtts) {
    std::vector<int32_t> order;
    fill_order(rtts, order);
    return order;
}

std::shared_ptr<const Routes> Routes::build(const Measurements& measurements, const geo::Regions& regions,
                                            uint32_t min_samples) {
    const auto start = std::chrono::steady_clock::now();
    auto routes = std::make_shared<Routes>();
    std::vector<std::pair<NetworkKey, uint32_t>> routed;
    routed.reserve(measurements.size());
    std::map<std::vector<int32_t>, uint32_t> interned;
    std::vector<RegionRtt> rtts;
    std::vector<int32_t> order;
    for (size_t row = 0; row < measurements.size(); ++row) {
        const NetworkKey network = measurements.network(row);
        fill_rtts(measurements.cells(row), measurements.location(row), regions, min_samples, rtts);
        if (!any_measured(rtts)) continue;
        if (overlaps_any_subnet(network, regions)) {
            ++routes->stats_.inside_subnets;
            continue;
        }
        fill_order(rtts, order);
        auto it = interned.find(order);
        if (it == interned.end()) {
            it = interned.emplace(order, static_cast<uint32_t>(routes->results_.size())).first;
            routes->results_.push_back(Result{order.front(), static_cast<uint32_t>(routes->orders_.size()),
                                              static_cast<uint32_t>(order.size())});
            routes->orders_.insert(routes->orders_.end(), order.begin(), order.end());
        }
        routed.emplace_back(network, it->second);
    }
    std::sort(routed.begin(), routed.end());
    routes->keys_.reserve(routed.size());
    routes->result_of_.reserve(routed.size());
    for (const auto& [network, result] : routed) {
        routes->keys_.push_back(network);
        routes->result_of_.push_back(result);
    }
    Stats& stats = routes->stats_;
    stats.measured = measurements.size();
    stats.measurements_bytes = measurements.memory_bytes();
    stats.networks = routes->keys_.size();
    stats.results = routes->results_.size();
    stats.memory_bytes = routes->keys_.capacity() * sizeof(NetworkKey) +
                         routes->result_of_.capacity() * sizeof(uint32_t) +
                         routes->results_.capacity() * sizeof(Result) + routes->orders_.capacity() * sizeof(int32_t);
    stats.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return routes;
}

geo::Placement Routes::place(const core::Address& client, const geo::Placement& by_geo) const noexcept {
    const NetworkKey key = network_of(client);
    const auto it = std::lower_bound(keys_.begin(), keys_.end(), key);
    if (it != keys_.end() && *it == key) {
        const Result& r = results_[result_of_[static_cast<size_t>(it - keys_.begin())]];
        return geo::Placement{r.region, std::span<const int32_t>(orders_).subspan(r.order_begin, r.order_size),
                              prefix_of(key)};
    }
    // The widest network around the client that holds no measured network
    // ends one bit below what the client shares with its nearest measured
    // neighbours, which are next to it in sorted order.
    const unsigned bits = network_bits(key);
    const NetworkKey mask = (NetworkKey{1} << bits) - 1;
    uint8_t scope = by_geo.scope_prefix;
    auto keep_out = [&](NetworkKey other) {
        if (family_of(other) != family_of(key)) return;
        const unsigned shared = bits - static_cast<unsigned>(std::bit_width((other ^ key) & mask));
        scope = std::max(scope, static_cast<uint8_t>(shared + 1));
    };
    if (it != keys_.end()) keep_out(*it);
    if (it != keys_.begin()) keep_out(*(it - 1));
    return geo::Placement{by_geo.region, by_geo.region_order, scope};
}

bool Routes::measured(const core::Address& client) const noexcept {
    return std::binary_search(keys_.begin(), keys_.end(), network_of(client));
}

}  // namespace dnsd::latency
