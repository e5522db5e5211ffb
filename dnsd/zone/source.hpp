#pragma once
// A zone as read from its file, before it is compiled: records already in wire
// form, each piece with the position it came from so that the checks that
// span several records (validate) can still point at the file.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/json/fields.hpp"
#include "dnsd/json/json.hpp"
#include "dnsd/zone/load.hpp"
#include "dnsd/zone/rdata.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::zone {

// The typed reads every step from the document to the SourceZone uses.
using json::entries;
using json::Fields;
using json::index_of;
using json::max_int31;
using json::quote;
using json::suggest;

// An owner name's records as the compiled Node will hold them (the TTL is set
// by compile), with where each piece came from for the checks that span
// names. Positions and pool references live in SourceZone's side tables, so
// that a million plain names cost as little as can be.
struct SourceOwner {
    std::string wire;  // lower case
    std::string text;  // as written
    json::Offset position = 0;
    std::optional<uint32_t> ttl;
    std::vector<RRset> sets;       // file order
    uint32_t first_set_position = 0;  // sets[i] is at SourceZone::set_positions[first_set_position + i]
    uint32_t pool_reference = no_pool;  // index into SourceZone::pool_references

    static constexpr uint32_t no_pool = UINT32_MAX;

    bool has_pool() const { return pool_reference != no_pool; }
    // The index of the set of `type` in `sets`, else -1.
    int find(uint16_t type) const {
        for (size_t i = 0; i < sets.size(); ++i)
            if (sets[i].type == type) return static_cast<int>(i);
        return -1;
    }
};

struct PoolReference {
    std::string name;
    json::Offset position = 0;  // of the value
    int32_t pool = -1;          // index into SourceZone::pools; -1: not defined
};

struct SourcePool {
    Pool pool;  // ttl and degraded_ttl already resolved
    json::Offset position = 0;
};

struct SourceZone {
    std::string apex;           // wire form, lower case; empty when "zone" was unusable
    json::Offset position = 0;  // of the "zone" value
    json::Offset records_position = 0;
    uint32_t ttl = 30;
    rdata::Soa soa;
    std::vector<SourceOwner> owners;             // file order
    std::vector<json::Offset> set_positions;     // of each owner's sets' type keys, see SourceOwner
    std::vector<PoolReference> pool_references;  // the owners' "pool" values
    std::vector<SourcePool> pools;               // file order

    json::Offset set_position(const SourceOwner& owner, size_t set) const {
        return set_positions[owner.first_set_position + set];
    }
};

// Reads the document into a SourceZone, reporting every problem that a single
// field shows. Members may name `regions`; `auto_serial` is the serial for
// "serial": "auto".
SourceZone read_zone(const json::Value& root, RegionNames regions, uint32_t auto_serial, Fields& fields);

// Reads a pool's "check" object into `check`; `apex` completes relative query names.
void read_check(const json::Value& value, std::string_view apex, Fields& fields, Check& check);

// The rules that span records: CNAME and pool exclusivity, the apex, zone
// cuts and occluded data, undefined pools, one entry per owner name.
void validate(const SourceZone& zone, Fields& fields);

// Fills the pool's v4, v6 and uses_geo from its members.
void index_members(Pool& pool);

// Gives every member of a checked pool its slot in zone.probe_targets (made
// afresh), sharing one slot between members that would be probed identically.
void assign_probe_slots(Zone& zone);

// The immutable model; `zone` must have passed read_zone and validate
// cleanly. Its records are moved into the model, not copied.
std::shared_ptr<const Zone> compile(SourceZone&& zone, const std::string& file);

}  // namespace dnsd::zone
