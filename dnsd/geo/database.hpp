#pragma once
// A GeoIP database (MaxMind DB format, read by libmaxminddb): what it says about
// an address — country, continent, coordinates — and the network that says it.
// Where the record lacks a continent or coordinates, the built-in country table
// fills them in from the country.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"

struct MMDB_s;
struct MMDB_entry_s;

namespace dnsd::geo {

struct Location {
    double latitude_deg = 0;
    double longitude_deg = 0;
    friend bool operator==(const Location&, const Location&) = default;
};

// What a record says, with the table's help. Codes are upper case; empty when
// unknown.
struct Place {
    std::string country;
    std::string continent;
    std::optional<Location> location;
    bool continent_from_table = false;  // the record had none; the country gave it
    bool location_from_table = false;   // the record had none; the country's centre

    friend bool operator==(const Place&, const Place&) = default;
};

struct Lookup {
    bool found = false;  // the address is in a network that has a record
    // The record's network; for an address without a record, the empty network
    // around it. Always the address's own family: an IPv4 address in an IPv6
    // database gets an IPv4 prefix.
    core::Address network;
    uint8_t prefix = 0;
    Place place;
};

class Database {
public:
    // Opens `path` (memory-mapped). On failure returns nullptr and sets `error`
    // to one line naming the file and the reason.
    static std::unique_ptr<Database> open(const std::string& path, const config::GeoipFields& fields,
                                          std::string& error);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    Lookup lookup(const core::Address& address) const;

    // What the record at this entry says (the data of one search-tree leaf).
    Place place(const MMDB_entry_s& entry) const;

    const MMDB_s& mmdb() const { return *mmdb_; }
    // Takes the mapped file's pages out of this process (they stay in the page
    // cache). For after a walk of the whole file: a later lookup maps back only
    // the few pages it reads.
    void release_pages() const;
    const std::string& path() const { return path_; }
    // 4 or 6: the tree's address family. An IPv4 tree knows no IPv6 address.
    unsigned ip_version() const;
    // The database's own type name from its metadata, e.g. "GeoLite2-City".
    std::string type() const;
    // The build time from its metadata, seconds since the epoch.
    uint64_t build_epoch() const;

private:
    Database() = default;

    // Lookup paths as libmaxminddb wants them: NUL-terminated arrays of C
    // strings pointing into `fields_`. An empty path means "not in the records".
    struct Path {
        std::vector<const char*> keys;
        bool empty() const { return keys.size() <= 1; }
    };
    Path make_path(const std::vector<std::string>& keys) const;

    std::unique_ptr<MMDB_s> mmdb_;
    std::string path_;
    config::GeoipFields fields_;
    Path country_, continent_, latitude_, longitude_;
};

}  // namespace dnsd::geo
