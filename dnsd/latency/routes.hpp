#pragma once
// The compiled latency routes (SPEC §12): every measured client network with
// the order its clients try the regions in, by RTT. Built off the query path
// from Measurements, immutable after, shared in the answer::View beside geo.
// place() is the answer path's one call: no allocation, no lock, no exception.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "dnsd/geo/geo.hpp"
#include "dnsd/latency/measurements.hpp"

namespace dnsd::latency {

// Where one region's RTT for a network comes from, best first.
enum class Source : uint8_t { measured, table, estimated, unknown };
std::string_view to_string(Source source);  // "measured", "table", "estimated", "unknown"

// About 1 ms of round trip per 100 km of great circle, plus 5 ms (SPEC §12).
double estimate_ms(double distance_km);

struct RegionRtt {
    int32_t region = -1;
    Source source = Source::unknown;
    double rtt_ms = 0;        // unknown: infinity
    uint32_t samples = 0;     // measured: beacons received
    uint32_t updated_s = 0;   // measured: the last beacon's Unix time
    double distance_km = 0;   // estimated: client to region
};

// Every region's RTT for the network with `cells` at `location`: the beacons'
// mean once they number min_samples, else the table's, else the estimate from
// the distance to the region's location, else unknown. By region index.
std::vector<RegionRtt> region_rtts(std::span<const Cell> cells, const std::optional<geo::Location>& location,
                                   const geo::Regions& regions, uint32_t min_samples);
// True when some region's RTT was measured (beacons or table).
bool any_measured(std::span<const RegionRtt> rtts);
// The regions by RTT, lowest first; ties and unknowns in config order.
std::vector<int32_t> order_by_rtt(std::span<const RegionRtt> rtts);

class Routes {
public:
    struct Stats {
        size_t measured = 0;           // networks with a beacon or a table line
        size_t measurements_bytes = 0; // what Measurements held when this was built
        size_t networks = 0;           // measured networks routed by RTT
        size_t inside_subnets = 0;     // measured networks left to geo: they overlap a region subnet
        size_t results = 0;            // distinct region orders
        size_t memory_bytes = 0;       // these routes
        double build_ms = 0;
    };

    // Compiles the networks of `measurements` that have a measured region
    // (Measurements::locate() must have run), each with its order by RTT. A
    // network that overlaps a region subnet is left out: there the subnet
    // decides, by geo.
    static std::shared_ptr<const Routes> build(const Measurements& measurements, const geo::Regions& regions,
                                               uint32_t min_samples);

    // The answer path, for a pool with routing "latency": the client's
    // network's order by RTT, with the network's prefix as the scope; for a
    // network without a measurement, `by_geo` (geo's placement of the client)
    // with its scope narrowed so that it holds no measured network. No
    // allocation, no lock, no exception.
    geo::Placement place(const core::Address& client, const geo::Placement& by_geo) const noexcept;

    // True when `client`'s network is routed by its measurements.
    bool measured(const core::Address& client) const noexcept;

    const Stats& stats() const { return stats_; }

private:
    struct Result {
        int32_t region = -1;
        uint32_t order_begin = 0;
        uint32_t order_size = 0;
    };

    std::vector<NetworkKey> keys_;     // sorted
    std::vector<uint32_t> result_of_;  // by key: index into results_
    std::vector<Result> results_;
    std::vector<int32_t> orders_;
    Stats stats_;
};

}  // namespace dnsd::latency
