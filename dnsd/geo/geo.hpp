#pragma once
// Geo as the rest of dnsd sees it: loaded once from the config, immutable after,
// shared by every worker. place() is the answer path's one call; explain()
// tells `dnsd explain` everything about one client.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/geo/database.hpp"
#include "dnsd/geo/map.hpp"
#include "dnsd/geo/regions.hpp"

namespace dnsd::geo {

// Where a client goes, for the answer path.
struct Placement {
    int32_t region = -1;                   // the client's region; -1: none
    std::span<const int32_t> region_order; // for answer::SelectInput::region_order
    // Every address in client/scope_prefix gets this region order. The caller
    // caps it at the ECS source prefix (and uses 24/56 for sticky).
    uint8_t scope_prefix = 0;
};

// Everything about one client's placement, for `dnsd explain`.
struct Explanation {
    core::Address client;
    Lookup lookup;                     // the database's record and network
    Resolution resolution;             // region and why
    std::vector<int32_t> region_order; // regions to try, the client's first
    core::Address scope_network;       // widest network with the same order
    uint8_t scope_prefix = 0;
};

class Geo {
public:
    // `database` may be null: then only subnets and default_region place clients.
    // Throws std::runtime_error when the database's search tree is corrupt.
    Geo(std::unique_ptr<Database> database, Regions regions);

    // Opens config.geoip_path (none when empty) with config.geoip_fields and
    // compiles the map for config.regions. On failure returns nullptr and sets
    // `error` to one line naming the file.
    static std::shared_ptr<const Geo> load(const config::Config& config, std::string& error);

    // The answer path: no allocation, no lock, no exception.
    Placement place(const core::Address& client) const noexcept;

    Explanation explain(const core::Address& client) const;

    const Database* database() const { return database_.get(); }
    const Regions& regions() const { return regions_; }
    const Map& map() const { return map_; }

private:
    std::unique_ptr<Database> database_;
    Regions regions_;
    Map map_;
};

}  // namespace dnsd::geo
