#pragma once
// The latency measurements fleet nodes share (SPEC §12, §13), in the
// `dnsd_latency` bucket: one key per node and client network,
// `latency.<node>.<network>`, whose value is that node's own beacons'
// aggregates for the network, per region. Each key has one writer, its
// node, so beacons posted to several nodes at once never race for a value;
// every node merges the nodes' aggregates (latency::merge) into the
// measurements it routes by.
//
// With a million measured networks a value is written for every network
// whose aggregates changed, not a dump of them all, so it is short text
// rather than JSON: a version, then one `region,mean_ms,weight,samples,updated_s`
// per region with beacons, separated by spaces:
//   1 eu,18.5,4.25,7,1764806400 us,95,2,2,1764806000
// about 30 bytes a region. Reading one is input parsing: a problem is
// FILE:LINE:COL (fuzzed: tests/fuzz/fleet.cpp), and the record is skipped.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/diagnostic.hpp"
#include "dnsd/latency/measurements.hpp"

namespace dnsd::fleet {

inline constexpr std::string_view latency_prefix = "latency.";

// latency.<node>.<network>, the network as "81.2.69.0/24", each part escaped.
std::string latency_key(std::string_view node, latency::NetworkKey network);

struct LatencyKey {
    std::string node;
    latency::NetworkKey network = 0;
};
// The node and network of a latency key; nullopt for any other key.
std::optional<LatencyKey> parse_latency_key(std::string_view key);

// `cells`' beacon aggregates (by index into `regions`; those without samples
// left out) as a value.
std::string encode_latency(std::span<const latency::Cell> cells, std::span<const std::string_view> regions);

struct LatencyRecord {
    std::string node;
    latency::NetworkKey network = 0;
    std::vector<latency::Cell> cells;  // by index into this node's regions; samples 0: none
};
// The record under `key` with `value`. A region this node does not have is
// skipped, as in the state file; any other problem (in `where`: its column
// in the value, or 1 for the key) makes it nullopt.
std::optional<LatencyRecord> decode_latency(std::string_view key, std::string_view value,
                                            std::span<const std::string_view> regions, const std::string& where,
                                            core::Diagnostics& diagnostics);

}  // namespace dnsd::fleet
