#pragma once
// Round-trip times from client networks to regions (SPEC §12): beacons
// aggregated per client /24 (IPv4) or /48 (IPv6) and region into a mean that
// decays, beside the operator's table. Mutable, owned by the control loop;
// routes.hpp compiles it into what the answer path reads.
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/geo/database.hpp"

namespace dnsd::latency {

// A client network measurements are kept for, as one integer: the family in
// the top bit, then the network's 24 (IPv4) or 48 (IPv6) bits. Keys of one
// family sort as their networks do.
using NetworkKey = uint64_t;
inline constexpr uint8_t network_prefix_v4 = 24, network_prefix_v6 = 48;

NetworkKey network_of(const core::Address& address);
core::Address first_address(NetworkKey network);
uint8_t prefix_of(NetworkKey network);
core::Family family_of(NetworkKey network);
unsigned network_bits(NetworkKey network);  // the key's bits below the family bit: 24 or 48
std::string to_string(NetworkKey network);  // "81.2.69.0/24"

// One measurement from a client: POST /v1/latency.
struct Beacon {
    core::Address client;
    int32_t region = -1;  // index into the config's regions
    double rtt_ms = 0;
};

inline constexpr size_t max_beacons = 10000;  // per request
inline constexpr double max_rtt_ms = 60000;   // a round trip of a minute is no measurement

// The beacons of a POST /v1/latency body: a JSON array of {"client", "region",
// "rtt_ms"}. On the first bad one, nullopt and `error` names its index and
// what is wrong. Any bytes at all may be given.
std::optional<std::vector<Beacon>> parse_beacons(std::string_view body, std::span<const std::string_view> regions,
                                                 std::string& error);

// One line of the table file.
struct TableRow {
    NetworkKey network = 0;
    int32_t region = -1;
    float rtt_ms = 0;
};

// The table file's `prefix,region,rtt_ms` lines (blank lines and `#` comments
// skipped, an optional header line `prefix,region,rtt_ms`). A prefix is an
// address (its /24 or /48) or a network of at least /24 (/48), taken as the
// /24 (/48) that holds it: measurements are per client /24 and /48. Every
// problem goes to `diagnostics` as FILE:LINE:COL; the rows without problems are
// returned. A network and region listed twice: the later line is the problem.
std::vector<TableRow> parse_table(std::string_view text, const std::string& file,
                                  std::span<const std::string_view> regions, core::Diagnostics& diagnostics);

// parse_table() on the file at `path`; one diagnostic when it cannot be read.
std::vector<TableRow> load_table(const std::string& path, std::span<const std::string_view> regions,
                                 core::Diagnostics& diagnostics);

// One network's measurements of one region.
struct Cell {
    float mean_ms = 0;       // the beacons' decaying mean
    float weight = 0;        // the beacons' total weight as of updated_s (each counts 1 when it arrives)
    uint32_t samples = 0;    // beacons received
    uint32_t updated_s = 0;  // Unix time of the last beacon
    float table_ms = NAN;    // the table's RTT; NaN: none

    bool has_table() const { return !std::isnan(table_ms); }
};

// The beacons of two aggregates of the same network and region as one (two
// fleet nodes' aggregates, SPEC §13): each weight decayed to the later
// updated_s, the weights added, the means weighted by them, the samples
// added. As the weights decay exponentially, this is, but for float
// rounding, the aggregate of one node that saw every beacon of both. An
// aggregate without samples adds nothing; `a`'s table RTT is kept.
Cell merge(const Cell& a, const Cell& b, uint32_t half_life_s);

class Measurements {
public:
    Measurements(size_t regions, uint32_t half_life_s) : regions_(regions), half_life_s_(half_life_s) {}

    size_t regions() const { return regions_; }
    uint32_t half_life_s() const { return half_life_s_; }

    // Folds one beacon into its network's mean for its region: the weight so
    // far halves every half_life, then the beacon adds 1, so that a network
    // that moved is followed within a few half-lives.
    void add(const Beacon& beacon, uint32_t now_s);
    // The beacons' aggregate of `network` for `region` becomes `aggregate`'s
    // (mean, weight, samples, updated_s); the table's RTT stays. Used to hold
    // aggregates other than this node's own beacons (a fleet's).
    void set_beacons(NetworkKey network, int32_t region, const Cell& aggregate);
    // The table's RTTs become exactly `rows` (a reload); beacons stay.
    void set_table(std::span<const TableRow> rows);

    // Networks in the order they were first measured.
    size_t size() const { return keys_.size(); }
    NetworkKey network(size_t row) const { return keys_[row]; }
    std::span<const Cell> cells(size_t row) const { return {cells_.data() + row * regions_, regions_}; }
    // Where the network's first address is, when geo knows (locate()).
    const std::optional<geo::Location>& location(size_t row) const { return locations_[row]; }
    // The row of `network`, or -1.
    int64_t find(NetworkKey network) const;

    // Fills in the location of every network added since the last call (all
    // of them with `again`, after a new GeoIP database). `database` may be null.
    void locate(const geo::Database* database, bool again);

    // The beacons' aggregates as text for the state directory: one
    // `network,region,mean_ms,weight,samples,updated_s` line each, after a
    // version line. The table is not kept: it is its own file.
    std::string save(std::span<const std::string_view> regions) const;
    // Restores what save() wrote (into an empty Measurements). Lines for a
    // region no longer configured are skipped; any other problem leaves the
    // aggregates empty and `warning` says FILE:LINE:COL: why.
    void restore(std::string_view text, const std::string& file, std::span<const std::string_view> regions,
                 std::string& warning);

    // Heap bytes held, roughly: for the scale report.
    size_t memory_bytes() const;

private:
    Cell& cell(NetworkKey network, int32_t region);

    size_t regions_;
    uint32_t half_life_s_;
    std::unordered_map<NetworkKey, uint32_t> rows_;  // network → row
    std::vector<NetworkKey> keys_;                  // by row
    std::vector<Cell> cells_;                       // row * regions_ + region
    std::vector<std::optional<geo::Location>> locations_;  // by row
    size_t located_ = 0;                            // rows locate() has seen
};

}  // namespace dnsd::latency
