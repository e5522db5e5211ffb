#pragma once
// What reload tells the rest of the control plane (the HTTP endpoint's
// /v1/status and /metrics, POST /v1/reload's answer): each zone file's state,
// and the outcome of a reload. Plain values, copied into control::State.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dnsd::control {

// One zone file and the version of its zone that serves.
struct ZoneFileStatus {
    std::string file;
    std::string zone;                // the zone the file defines; empty when it never named one usably
    std::optional<uint32_t> serial;  // of the version serving; nullopt: none serves (never loaded)
    std::optional<std::chrono::system_clock::time_point> loaded_at;  // when the version serving was loaded
    // The problems of the file's current content (FILE:LINE:COL: message). Not
    // empty: the file is invalid and its previous version, if any, serves.
    std::vector<std::string> errors;
};

// A zone that a reload added, replaced or removed.
struct ZoneChange {
    std::string zone;
    std::optional<uint32_t> serial_before;  // nullopt: added
    std::optional<uint32_t> serial_after;   // nullopt: removed
};

// The reload log line and /v1/status name this many changed zones at most,
// and count the rest: a reload of 20,000 zones would otherwise write a
// megabyte each time, on the control loop and to every status page. POST
// /v1/reload's answer lists every change.
constexpr size_t listed_zones = 10;

struct ReloadResult {
    std::chrono::system_clock::time_point finished_at;
    std::string trigger;  // what asked for it: "zones directory", "GeoIP database", "SIGHUP", "request", joined by ", "
    // Every problem after the reload, in any zone file, the zones directory or
    // the GeoIP database; empty: ok. Zones whose file is invalid keep serving
    // their previous version.
    std::vector<std::string> errors;
    std::vector<ZoneChange> changes;  // by zone name
    bool geo_replaced = false;        // a new GeoIP database was published

    bool ok() const { return errors.empty(); }
};

// Reloads since start-up, by result.
struct ReloadCounters {
    uint64_t ok = 0;
    uint64_t failed = 0;
};

}  // namespace dnsd::control
