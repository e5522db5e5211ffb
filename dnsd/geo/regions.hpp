#pragma once
// Region resolution and tier order (SPEC §4 steps 2 and 4): which region a
// client belongs to and why, and the regions to try after it.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/geo/database.hpp"

namespace dnsd::geo {

// Why a client is in its region, in the order the rules are tried.
enum class Reason : uint8_t { subnet, country, continent, distance, default_region, none };

// "subnet", "country", "continent", "distance", "default", "none".
std::string_view to_string(Reason reason);

struct Resolution {
    int32_t region = -1;  // index into the config's regions; -1: none
    Reason reason = Reason::none;
    std::optional<config::Subnet> subnet;  // Reason::subnet: the prefix that matched
    double distance_km = 0;                // Reason::distance: to the region's location
};

// Great-circle distance (haversine, mean Earth radius).
double distance_km(const Location& a, const Location& b);

class Regions {
public:
    // `default_region` is an index into `regions`, or -1. Fallback names that
    // name no region are skipped (config validation reports them).
    Regions(std::vector<config::Region> regions, int32_t default_region);

    // Step 2 for a client at `address` that the database places at `place`.
    Resolution resolve(const core::Address& address, const Place& place) const;
    // Step 2 without the subnets: what the place alone decides.
    Resolution resolve(const Place& place) const;
    // The region of the longest subnet containing `address` (the first region in
    // config order on a tie), with that subnet; -1 when none does.
    std::pair<int32_t, std::optional<config::Subnet>> match_subnet(const core::Address& address) const;

    // Step 4: the regions to try, `region` first: its fallback list if it has
    // one, else the others by distance from `client` (from the region's own
    // location when the client has none; regions without a location last),
    // else in config order. For region -1, every region, by distance from
    // `client` or in config order.
    std::vector<int32_t> order(int32_t region, const std::optional<Location>& client) const;

    const std::vector<config::Region>& regions() const { return regions_; }
    int32_t default_region() const { return default_region_; }

private:
    std::vector<config::Region> regions_;
    int32_t default_region_ = -1;
    std::vector<std::vector<int32_t>> fallback_;  // per region, resolved names
};

}  // namespace dnsd::geo
