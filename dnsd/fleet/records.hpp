#pragma once
// What fleet nodes store in NATS (SPEC §13), one JetStream key-value bucket
// per kind of state, and how each record is spelled. Keys are built from
// their parts the same way on every node, so that a change to one thing (an
// override of one member, one node's verdict on one target) replaces the
// previous one everywhere; values are JSON (latency measurements, many and
// small, are compact text: latency_records.hpp). A record that does not parse is
// skipped with a warning by the caller: another node, or a newer dnsd, wrote it.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/health/monitor.hpp"

namespace dnsd::fleet {

// state: overrides and registrations; health: heartbeats and verdicts;
// zones: the pushed zone files; latency: measurements.
enum class Bucket : uint8_t { state, health, zones, latency };
inline constexpr std::array<std::string_view, 4> bucket_names{"dnsd_state", "dnsd_health", "dnsd_zones",
                                                              "dnsd_latency"};
inline constexpr size_t bucket_count = bucket_names.size();
inline constexpr std::string_view bucket_name(Bucket bucket) { return bucket_names[static_cast<size_t>(bucket)]; }

// One key-value entry as a watcher delivers it. `revision` is the bucket
// stream's sequence: the order every node applies changes in.
struct Entry {
    std::string key;
    std::string value;
    uint64_t revision = 0;
    bool deleted = false;  // a delete or purge marker: the key has no value
    int64_t created_ns = 0;  // when NATS stored it, since the epoch
};

// A key part with every byte outside [A-Za-z0-9_-] as =XX (hex), so that
// dots, colons and spaces in names and addresses cannot split or break a key.
std::string escape_key_part(std::string_view part);

// override.<zone>.<pool>.<address>
std::string override_key(const health::Override& entry);
// node.<node>
std::string node_key(std::string_view node);
// vote.<node>.<target>
std::string vote_key(std::string_view node, std::string_view target);
inline constexpr std::string_view node_prefix = "node.";
inline constexpr std::string_view vote_prefix = "vote.";
inline constexpr std::string_view override_prefix = "override.";
inline constexpr std::string_view registration_prefix = "registration.";
inline constexpr std::string_view zones_key = "zones";

std::string encode_override(const health::Override& entry, std::string_view node);
std::optional<health::Override> decode_override(std::string text, const std::string& where,
                                                core::Diagnostics& diagnostics);

// A registration with a lease (SPEC §11), as control::Registrations keeps it
// and the fleet exchanges it: with the lease's absolute end, so that a restart
// keeps it and every node ends it on its own at the same moment (an expiry
// needs no write).
struct Registration {
    std::string zone;  // as zone::Zone::name spells it
    std::string pool;
    core::Address address;
    std::string region;  // empty: none
    uint32_t weight = 1;
    uint16_t port = 0;  // probe port override; 0: the check's
    std::chrono::system_clock::time_point expires_at;  // millisecond precision on the wire

    // What the pool's member is made of: all but the lease's end.
    bool same_member(const Registration& other) const {
        return region == other.region && weight == other.weight && port == other.port;
    }
    friend bool operator==(const Registration&, const Registration&) = default;
};
// registration.<zone>.<pool>.<address>
std::string registration_key(const Registration& entry);
std::string encode_registration(const Registration& entry, std::string_view node);
std::optional<Registration> decode_registration(std::string text, const std::string& where,
                                                core::Diagnostics& diagnostics);

// A node's heartbeat: who it is and what it serves.
struct Heartbeat {
    std::string node;
    std::string version;
    int64_t started_at_s = 0;  // since the epoch
    int64_t sent_at_ms = 0;
    std::map<std::string, uint32_t> zones;  // zone → serial serving
    std::vector<std::string> zone_errors;    // FILE:LINE:COL: message of zone files not loaded
    std::optional<uint64_t> zones_revision;  // the shared zones it serves; none: local zones
    friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};
std::string encode_heartbeat(const Heartbeat& heartbeat);
std::optional<Heartbeat> decode_heartbeat(std::string text, const std::string& where, core::Diagnostics& diagnostics);

struct VoteRecord {
    std::string node;
    std::string target;
    bool up = true;
};
std::string encode_vote(const VoteRecord& vote);
std::optional<VoteRecord> decode_vote(std::string text, const std::string& where, core::Diagnostics& diagnostics);

// The zones directory as `dnsd push` stored it: file name → content.
struct ZoneSet {
    std::map<std::string, std::string> files;
    int64_t pushed_at_s = 0;
    std::string pushed_by;
};
std::string encode_zone_set(const ZoneSet& zones);
// File names are checked to be plain `*.json` names, so that a record can
// never name a path outside the directory it is written to.
std::optional<ZoneSet> decode_zone_set(std::string text, const std::string& where, core::Diagnostics& diagnostics);
bool is_zone_file_name(std::string_view name);

}  // namespace dnsd::fleet
