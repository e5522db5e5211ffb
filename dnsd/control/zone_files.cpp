#include "dnsd/control/zone_files.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <string_view>

#include "dnsd/zone/load.hpp"

namespace dnsd::control {

namespace {

// Only ever compared with hashes computed by this process.
ZoneFile::Content fingerprint(std::string_view text) {
    return {text.size(), std::hash<std::string_view>{}(text)};
}

// "serial": "auto" for new content: the modification time in seconds, but
// always past the version it replaces, so that two edits within a second, or
// a file restored with an older time, still raise it. Past 2^32 - 1 it wraps
// to 0, which serial arithmetic (RFC 1982) counts as the next serial.
uint32_t auto_serial(int64_t mtime_ns, const zone::Zone* serving) {
    const uint64_t mtime_s = static_cast<uint64_t>(std::max<int64_t>(mtime_ns, 0)) / 1'000'000'000;
    if (serving == nullptr) return static_cast<uint32_t>(mtime_s);
    return static_cast<uint32_t>(std::max<uint64_t>(mtime_s, uint64_t{serving->serial} + 1));
}

enum class Refresh { unchanged, loaded, invalid, vanished };

// Brings `file` up to date with what its path holds now; problems in what it
// read go to `found` as well as into the file.
Refresh refresh(ZoneFile& file, const config::Config& config, std::chrono::system_clock::time_point now,
                core::Diagnostics& found) {
    core::Diagnostics problems;
    bool missing = false;
    auto content = zone::read_zone_file(file.path, problems, &missing);
    // Gone since the listing: the event that removed (or replaced) it brings
    // another rescan, which settles it.
    if (missing) return Refresh::vanished;
    if (!content) {
        file.content.reset();
        found.insert(found.end(), problems.begin(), problems.end());
        file.problems = std::move(problems);
        return Refresh::invalid;
    }
    const ZoneFile::Content read = fingerprint(content->text);
    if (file.content == read) return Refresh::unchanged;
    file.content = read;
    zone::FileLoad load = zone::load_zone_text(std::move(content->text), file.path, config.region_names(),
                                               auto_serial(content->mtime_ns, file.zone.get()), problems);
    if (!load.zone_name.empty()) {
        file.zone_name = std::move(load.zone_name);
        file.line = load.line;
        file.column = load.column;
    }
    if (!load.zone) {
        found.insert(found.end(), problems.begin(), problems.end());
        file.problems = std::move(problems);
        return Refresh::invalid;
    }
    file.zone = std::move(load.zone);
    file.loaded_at = now;
    file.problems.clear();
    return Refresh::loaded;
}

// Zones added, replaced or removed between two snapshots, by name.
std::vector<ZoneChange> differences(const zone::Snapshot& before, const zone::Snapshot& after) {
    std::map<std::string_view, std::pair<const zone::Zone*, const zone::Zone*>> zones;
    for (const auto& zone : before.zones) zones[zone->name].first = zone.get();
    for (const auto& zone : after.zones) zones[zone->name].second = zone.get();
    std::vector<ZoneChange> changes;
    for (const auto& [name, pair] : zones) {
        const auto [old_zone, new_zone] = pair;
        if (old_zone == new_zone) continue;
        ZoneChange change{std::string(name), std::nullopt, std::nullopt};
        if (old_zone != nullptr) change.serial_before = old_zone->serial;
        if (new_zone != nullptr) change.serial_after = new_zone->serial;
        changes.push_back(std::move(change));
    }
    return changes;
}

}  // namespace

Rescan ZoneFiles::rescan(const std::string& dir, const config::Config& config,
                         std::chrono::system_clock::time_point now) const {
    Rescan out;
    core::Diagnostics directory_problems;
    const std::vector<std::string> paths = zone::list_zone_files(dir, directory_problems);
    if (!directory_problems.empty()) {
        // Never drop zones because the directory could not be listed.
        out.files = *this;
        out.files.directory_problems_ = directory_problems;
        out.found = std::move(directory_problems);
        return out;
    }

    std::vector<std::shared_ptr<const zone::Zone>> zones;
    zone::ZoneClaims claims;
    for (const auto& path : paths) {
        auto previous = std::lower_bound(files_.begin(), files_.end(), path,
                                         [](const ZoneFile& file, const std::string& p) { return file.path < p; });
        const bool known = previous != files_.end() && previous->path == path;
        ZoneFile file;
        if (known) file = *previous;
        else file.path = path;
        const Refresh refreshed = refresh(file, config, now, out.found);
        if (refreshed == Refresh::vanished && !known) continue;
        if (refreshed == Refresh::unchanged && !file.problems.empty()) out.still_invalid.push_back(path);

        core::Diagnostics conflict;
        file.conflict.reset();
        if (!file.zone_name.empty() && !claims.claim(file.zone_name, path, file.line, file.column, conflict)) {
            file.conflict = conflict.front();
            out.found.push_back(conflict.front());
        } else if (file.zone) {
            zones.push_back(file.zone);
        }
        out.files.files_.push_back(std::move(file));
    }
    auto snapshot = std::make_shared<const zone::Snapshot>(std::move(zones));
    out.changes = differences(*snapshot_, *snapshot);
    out.files.snapshot_ = std::move(snapshot);
    return out;
}

core::Diagnostics ZoneFiles::problems() const {
    core::Diagnostics out = directory_problems_;
    for (const auto& file : files_) {
        out.insert(out.end(), file.problems.begin(), file.problems.end());
        if (file.conflict) out.push_back(*file.conflict);
    }
    return out;
}

std::vector<ZoneFileStatus> ZoneFiles::status() const {
    std::vector<ZoneFileStatus> out;
    for (const auto& file : files_) {
        ZoneFileStatus status{file.path, file.zone_name, std::nullopt, std::nullopt, {}};
        if (file.zone && !file.conflict) {
            status.serial = file.zone->serial;
            status.loaded_at = file.loaded_at;
        }
        for (const auto& problem : file.problems) status.errors.push_back(problem.to_string());
        if (file.conflict) status.errors.push_back(file.conflict->to_string());
        out.push_back(std::move(status));
    }
    return out;
}

}  // namespace dnsd::control
