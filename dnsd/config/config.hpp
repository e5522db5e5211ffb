#pragma once
// The server's settings: the config file (SPEC §2) with command-line flags laid
// over it. Loaded once at start-up; the answer path sees only answer::Options.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/guard/cookie.hpp"
#include "dnsd/guard/rrl.hpp"

namespace dnsd::config {

struct Subnet {
    core::Address network;  // masked to prefix
    uint8_t prefix = 0;
};

struct Region {
    std::string name;
    std::vector<std::string> continents;  // two-letter codes, upper case
    std::vector<std::string> countries;   // ISO 3166-1 alpha-2, upper case
    std::vector<Subnet> subnets;
    std::optional<std::pair<double, double>> location;  // latitude, longitude in degrees
    std::vector<std::string> fallback;                  // region names, in order
};

// Where the country, continent and coordinates sit in the GeoIP database's
// records, as libmaxminddb lookup paths.
struct GeoipFields {
    std::vector<std::string> country{"country", "iso_code"};
    std::vector<std::string> continent{"continent", "code"};
    std::vector<std::string> latitude{"location", "latitude"};
    std::vector<std::string> longitude{"location", "longitude"};
};

// When a member is down for a fleet (SPEC §13): the nodes saying down, among
// those heard from within `stale_after`, are at least one (any), more than
// half (majority), every one (all), or at least `count` (at_least).
struct Quorum {
    enum class Rule : uint8_t { any, majority, all, at_least };
    Rule rule = Rule::majority;
    uint32_t count = 0;  // at_least only
    friend bool operator==(const Quorum&, const Quorum&) = default;
};
std::string to_string(const Quorum& quorum);  // "majority", "3"

// Several dnsd nodes acting as one nameserver set through NATS (SPEC §13).
struct Fleet {
    enum class Zones : uint8_t { local, shared };
    std::vector<std::string> nats;  // nats:// URLs, at least one
    std::string node;               // this node's name in the fleet; default: the host name
    std::string token;              // NATS authentication: a token, or
    std::string creds;              // a credentials file (resolved); at most one of the two
    Quorum health_quorum;
    uint32_t stale_after_s = 15;
    Zones zones = Zones::local;     // shared: serve the zones pushed to the fleet
};

// Latency-based routing (SPEC §12): how beacons are aggregated, and the
// operator's table of measured RTTs.
struct Latency {
    uint32_t half_life_s = 3600;  // a sample's weight halves every half_life
    uint32_t min_samples = 5;     // beacons a network needs before its mean is used
    std::string table;            // `prefix,region,rtt_ms` lines (resolved); empty: none
};

struct Config {
    std::string file;  // empty when no config file was read
    std::vector<core::Endpoint> listen;
    std::string zones_dir = "zones";
    std::string geoip_path;  // resolved at start-up; empty: no database
    // The config file or --geoip named the database, so it must open. The
    // built-in default may be missing (dnsd started outside its source tree).
    bool geoip_named = false;
    GeoipFields geoip_fields;
    std::vector<Region> regions;  // config order
    std::string default_region;   // empty: none
    unsigned threads = 0;         // 0: one worker per CPU
    std::optional<core::Endpoint> http;
    std::string http_token;       // bearer token for mutating HTTP calls; empty: none
    bool ecs = true;
    uint16_t udp_payload = 1232;
    std::string nsid;
    uint32_t tcp_idle_timeout_ms = 10000;
    uint32_t tcp_max_connections = 1000;
    uint32_t tcp_max_connections_per_client = 32;
    std::optional<guard::RrlSettings> rrl;  // none: no response rate limiting
    // Server cookie secrets (RFC 9018); none: a random one per process.
    std::optional<guard::CookieSecret> cookie_secret;
    std::optional<guard::CookieSecret> cookie_secret_previous;
    std::string log_level = "info";
    // What must survive a restart (runtime overrides), one file per kind; a
    // relative path is taken from the config file's directory, or from the
    // working directory without a config file. Created at start-up if missing.
    std::string state_dir = "state";
    std::optional<Fleet> fleet;   // none: this node runs alone and needs no NATS
    Latency latency;

    // Index of the region called `name` in `regions`, or -1.
    int region_index(std::string_view name) const;
    // The regions' names, in order: what zones may name (zone::RegionNames).
    std::vector<std::string_view> region_names() const;
};

// Reads and validates a config file. Every problem is reported, each with its
// FILE:LINE:COL; on any problem the result is nullopt and `diagnostics` says why.
std::optional<Config> load_file(const std::string& path, core::Diagnostics& diagnostics);

// The same for the text of a config file read from `file` (relative paths in
// it are taken from `file`'s directory). Any bytes at all may be given: bad
// input is a diagnostic, never a crash.
std::optional<Config> load_text(std::string text, const std::string& file, core::Diagnostics& diagnostics);

// The built-in defaults (SPEC §1): listen on 127.0.0.1:5353 and [::1]:5353,
// zones/, the shipped GeoIP database with its layout (`country_code` only),
// regions eu, us and ap (default us), HTTP on 127.0.0.1:8053. A config file
// overrides them key by key; its "regions" replace the default regions and
// their default_region, and its "geoip" starts from the GeoIP2 layout.
Config defaults();

}  // namespace dnsd::config
