#pragma once
// A zone as read from its file, before it is compiled: records already in wire
// form, each piece with the position it came from so that the checks that
// span several records (validate) can still point at the file.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/zone/fields.hpp"
#include "dnsd/zone/json.hpp"
#include "dnsd/zone/rdata.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::zone {

struct SourceSet {
    uint16_t type = 0;
    json::Position position;  // of the type's key
    std::vector<Rdata> rdatas;
};

struct SourceOwner {
    std::string wire;  // lower case
    std::string text;  // as written
    json::Position position;
    std::optional<uint32_t> ttl;
    std::vector<SourceSet> sets;  // file order
    std::optional<std::string> pool;
    json::Position pool_position;

    const SourceSet* find(uint16_t type) const {
        for (const auto& set : sets)
            if (set.type == type) return &set;
        return nullptr;
    }
};

struct SourcePool {
    Pool pool;  // ttl and degraded_ttl already resolved
    json::Position position;
};

struct SourceZone {
    std::string apex;            // wire form, lower case; empty when "zone" was unusable
    json::Position position;     // of the "zone" value
    json::Position records_position;
    uint32_t ttl = 30;
    rdata::Soa soa;
    std::vector<SourceOwner> owners;  // file order
    std::vector<SourcePool> pools;    // file order
};

// Reads the document into a SourceZone, reporting every problem that a single
// field shows. `auto_serial` is the serial for "serial": "auto".
SourceZone read_zone(const json::Value& root, const config::Config& config, uint32_t auto_serial,
                     Fields& fields);

// Reads a pool's "check" object into `check`; `apex` completes relative query names.
void read_check(const json::Value& value, std::string_view apex, Fields& fields, Check& check);

// The rules that span records: CNAME and pool exclusivity, the apex, zone
// cuts and occluded data, undefined pools, one entry per owner name.
void validate(const SourceZone& zone, Fields& fields);

// The immutable model; `zone` must have passed read_zone and validate cleanly.
std::shared_ptr<const Zone> compile(const SourceZone& zone, const std::string& file);

}  // namespace dnsd::zone
