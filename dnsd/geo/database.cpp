#include "dnsd/geo/database.hpp"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "dnsd/geo/countries.hpp"

namespace dnsd::geo {
namespace {

// The value at `path` in the record, if it is there at all.
std::optional<MMDB_entry_data_s> value_at(const MMDB_entry_s& entry, const char* const* path) {
    MMDB_entry_s copy = entry;  // MMDB_aget_value takes a non-const entry
    MMDB_entry_data_s data{};
    if (MMDB_aget_value(&copy, &data, path) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
    return data;
}

// A two-letter code, upper-cased; empty unless the value is two ASCII letters.
std::string code_at(const MMDB_entry_s& entry, const char* const* path) {
    auto data = value_at(entry, path);
    if (!data || data->type != MMDB_DATA_TYPE_UTF8_STRING || data->data_size != 2) return {};
    std::string code(data->utf8_string, 2);
    for (char& c : code) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c < 'A' || c > 'Z') return {};
    }
    return code;
}

std::optional<double> number_at(const MMDB_entry_s& entry, const char* const* path) {
    auto data = value_at(entry, path);
    if (!data) return std::nullopt;
    if (data->type == MMDB_DATA_TYPE_DOUBLE) return data->double_value;
    if (data->type == MMDB_DATA_TYPE_FLOAT) return static_cast<double>(data->float_value);
    return std::nullopt;
}

}  // namespace

std::unique_ptr<Database> Database::open(const std::string& path, const config::GeoipFields& fields,
                                         std::string& error) {
    std::unique_ptr<Database> db(new Database);
    db->mmdb_ = std::make_unique<MMDB_s>();
    errno = 0;
    int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, db->mmdb_.get());
    const int open_errno = errno;
    if (status != MMDB_SUCCESS) {
        error = path + ": cannot open GeoIP database: " + MMDB_strerror(status);
        // libmaxminddb's text for a missing or unreadable file does not say which.
        if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && open_errno != 0)
            error += std::string(" (") + std::strerror(open_errno) + ")";
        db->mmdb_.reset();  // nothing to close: MMDB_open cleans up after itself
        return nullptr;
    }
    db->path_ = path;
    db->fields_ = fields;
    db->country_ = db->make_path(db->fields_.country);
    db->continent_ = db->make_path(db->fields_.continent);
    db->latitude_ = db->make_path(db->fields_.latitude);
    db->longitude_ = db->make_path(db->fields_.longitude);
    return db;
}

Database::~Database() {
    if (mmdb_) MMDB_close(mmdb_.get());
}

Database::Path Database::make_path(const std::vector<std::string>& keys) const {
    Path path;
    for (const auto& key : keys) path.keys.push_back(key.c_str());
    path.keys.push_back(nullptr);
    return path;
}

void Database::release_pages() const {
    // libmaxminddb maps the whole file read-only and shared, so the pages are
    // clean: dropping them loses nothing.
    ::madvise(const_cast<uint8_t*>(mmdb_->file_content), static_cast<size_t>(mmdb_->file_size), MADV_DONTNEED);
}

unsigned Database::ip_version() const { return mmdb_->metadata.ip_version; }

std::string Database::type() const {
    return mmdb_->metadata.database_type ? mmdb_->metadata.database_type : "";
}

uint64_t Database::build_epoch() const { return mmdb_->metadata.build_epoch; }

Place Database::place(const MMDB_entry_s& entry) const {
    Place place;
    if (!country_.empty()) place.country = code_at(entry, country_.keys.data());
    if (!continent_.empty()) place.continent = code_at(entry, continent_.keys.data());
    if (!latitude_.empty() && !longitude_.empty()) {
        auto lat = number_at(entry, latitude_.keys.data());
        auto lon = number_at(entry, longitude_.keys.data());
        if (lat && lon && *lat >= -90 && *lat <= 90 && *lon >= -180 && *lon <= 180)
            place.location = Location{*lat, *lon};
    }
    if (const Country* country = find_country(place.country)) {
        if (place.continent.empty()) {
            place.continent = country->continent;
            place.continent_from_table = true;
        }
        if (!place.location) {
            place.location = Location{country->latitude_deg, country->longitude_deg};
            place.location_from_table = true;
        }
    }
    return place;
}

Lookup Database::lookup(const core::Address& address) const {
    Lookup result;
    sockaddr_storage storage{};
    if (address.family == core::Family::v4) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, address.bytes.data(), 4);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
        sin6->sin6_family = AF_INET6;
        std::memcpy(&sin6->sin6_addr, address.bytes.data(), 16);
    }
    int error = MMDB_SUCCESS;
    MMDB_lookup_result_s found = MMDB_lookup_sockaddr(mmdb_.get(), reinterpret_cast<sockaddr*>(&storage), &error);
    if (error != MMDB_SUCCESS) {
        // An IPv6 address in an IPv4 database (or a corrupt tree): no record
        // anywhere in the family, so the empty network is all of it.
        result.network = address.masked(0);
        return result;
    }
    // libmaxminddb counts the prefix in the tree's bits: an IPv4 address in an
    // IPv6 tree sits under ::/96, so its prefix comes back 96 too long (or
    // shorter than 96 when the tree ends above the IPv4 subtree: then the
    // record covers all of IPv4).
    unsigned prefix = found.netmask;
    if (address.family == core::Family::v4 && ip_version() == 6) prefix = prefix >= 96 ? prefix - 96 : 0;
    result.prefix = static_cast<uint8_t>(prefix);
    result.network = address.masked(prefix);
    result.found = found.found_entry;
    if (found.found_entry) result.place = place(found.entry);
    return result;
}

}  // namespace dnsd::geo
