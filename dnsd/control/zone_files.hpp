#pragma once
// The zones directory as last read, file by file, and the step that reads it
// again: each file on its own, so that a broken file keeps its zone's previous
// version serving while the others reload, and an unchanged file keeps its
// Zone object (and serial). Values only: rescan() is pure and runs on the
// thread pool; the Reloader keeps the current ZoneFiles on the control loop.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/control/reload_status.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::control {

// One `<zone>.json` as last read, and the version of its zone that serves.
struct ZoneFile {
    struct Content {
        uint64_t size = 0;
        uint64_t hash = 0;
        friend bool operator==(const Content&, const Content&) = default;
    };

    std::string path;
    // What the file held when last read; nullopt when that read failed. Equal
    // size and hash mean unchanged content, whatever the modification time.
    std::optional<Content> content;
    std::string zone_name;          // as the file last named it usably (lower case); empty: never
    uint32_t line = 0, column = 0;  // where it did
    std::shared_ptr<const zone::Zone> zone;  // the version serving; null: none ever loaded
    std::chrono::system_clock::time_point loaded_at;  // when `zone` was loaded
    core::Diagnostics problems;  // of the content last read; empty when `zone` is that content
    std::optional<core::Diagnostic> conflict;  // another file claims the same zone: this one is not served
};

// What one reading of the directory found (below).
struct Rescan;

class ZoneFiles {
public:
    // Reads `dir` again (or for the first time, from an empty ZoneFiles) and
    // returns its next state. A file whose content is unchanged keeps its
    // Zone; a changed one is loaded with "serial": "auto" = max(its
    // modification time in seconds, the serving version's serial + 1); an
    // invalid or unreadable one keeps the version serving; a file no longer
    // listed loses its zone. A directory that cannot be read keeps every zone.
    // Pure: safe on any thread while this object is not modified.
    Rescan rescan(const std::string& dir, const config::Config& config,
                  std::chrono::system_clock::time_point now) const;

    // Every zone that serves, in file order.
    const std::shared_ptr<const zone::Snapshot>& snapshot() const { return snapshot_; }
    const std::vector<ZoneFile>& files() const { return files_; }  // sorted by path

    // Every current problem: the directory's, then each file's, in file order.
    core::Diagnostics problems() const;
    std::vector<ZoneFileStatus> status() const;

private:
    std::vector<ZoneFile> files_;
    core::Diagnostics directory_problems_;
    std::shared_ptr<const zone::Snapshot> snapshot_ = std::make_shared<const zone::Snapshot>();
};

struct Rescan {
    ZoneFiles files;
    std::vector<ZoneChange> changes;  // zones added, replaced or removed, by name
    // Problems in what was read this time (the directory, changed files, and
    // claims); a file that is still invalid and unchanged is in `still_invalid`.
    core::Diagnostics found;
    std::vector<std::string> still_invalid;

    // The snapshot differs from the previous one (some Zone was added,
    // replaced or removed).
    bool changed() const { return !changes.empty(); }
};

}  // namespace dnsd::control
