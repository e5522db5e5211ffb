#include "dnsd/fleet/zone_cache.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <system_error>

#include "dnsd/core/atomic_file.hpp"

namespace dnsd::fleet {

namespace {

namespace fs = std::filesystem;

// Not a *.json file, so never read as a zone.
constexpr std::string_view revision_file = ".revision";

fs::path staging_of(const fs::path& dir) { return fs::path(dir.string() + ".new"); }
fs::path retired_of(const fs::path& dir) { return fs::path(dir.string() + ".old"); }

}  // namespace

bool prepare_zone_cache(const fs::path& state_dir, fs::path& dir, std::string& error) {
    dir = state_dir / "shared-zones";
    std::error_code ec;
    // A replacement stopped between its two renames leaves the new set staged.
    if (!fs::exists(dir, ec) && fs::exists(staging_of(dir), ec)) fs::rename(staging_of(dir), dir, ec);
    ec.clear();
    fs::create_directories(dir, ec);
    if (ec) {
        error = dir.string() + ": cannot create the shared zones directory: " + ec.message();
        return false;
    }
    return true;
}

std::optional<uint64_t> cached_revision(const fs::path& dir) {
    std::ifstream in(dir / revision_file);
    uint64_t revision = 0;
    if (in >> revision) return revision;
    return std::nullopt;
}

bool write_zone_cache(const fs::path& dir, const ZoneSet& zones, uint64_t revision, std::string& error) {
    const fs::path staging = staging_of(dir), retired = retired_of(dir);
    std::error_code ec;
    fs::remove_all(staging, ec);
    fs::remove_all(retired, ec);
    fs::create_directories(staging, ec);
    if (ec) {
        error = staging.string() + ": cannot create: " + ec.message();
        return false;
    }
    const auto pushed = fs::file_time_type::clock::from_sys(std::chrono::system_clock::from_time_t(zones.pushed_at_s));
    for (const auto& [name, text] : zones.files) {
        if (!core::write_file_atomically(staging / name, text, error)) return false;
        fs::last_write_time(staging / name, pushed, ec);
    }
    if (!core::write_file_atomically(staging / revision_file, std::to_string(revision) + "\n", error)) return false;
    fs::rename(dir, retired, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) {
        error = dir.string() + ": cannot replace: " + ec.message();
        return false;
    }
    fs::rename(staging, dir, ec);
    if (ec) {
        error = dir.string() + ": cannot replace: " + ec.message();
        return false;
    }
    fs::remove_all(retired, ec);
    return true;
}

}  // namespace dnsd::fleet
