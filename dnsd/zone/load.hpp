#pragma once
// Zone files (SPEC §3): JSON → model → validation → compiled Zone. Loading
// collects every problem in a file, each with FILE:LINE:COL and a fix, rather
// than stopping at the first.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/diagnostic.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::zone {

// The regions a pool member may name, in the config's order: a member's
// region is its index here (config::Config::region_names() gives them).
using RegionNames = std::span<const std::string_view>;

// Parses and validates one zone from `text` read from `file`; members may
// name `regions`. `auto_serial` is the SOA serial when the file says
// "serial": "auto". Returns null and fills `diagnostics` on any problem.
// Any bytes at all may be given: bad input is a diagnostic, never a crash.
std::shared_ptr<const Zone> load_zone(std::string_view text, const std::string& file, RegionNames regions,
                                      core::Diagnostics& diagnostics, uint32_t auto_serial = 1);

// Reads `path` and loads it as above, with the file's modification time (in
// seconds since the epoch) as the auto serial, so that the serial grows
// whenever the file is rewritten. An unreadable file is a diagnostic too.
std::shared_ptr<const Zone> load_zone_file(const std::string& path, RegionNames regions,
                                           core::Diagnostics& diagnostics);

// ---- One file at a time, for reload: list, read, load, and claim the zone.

// The zone files in `dir` as load_directory sees them: every `*.json` that is
// a regular file (or a link to one), or whose type cannot be read (a dangling
// link: reading it reports why), and not a dot file (editors' scratch
// copies), sorted. A directory that cannot be read is a diagnostic.
std::vector<std::string> list_zone_files(const std::string& dir, core::Diagnostics& diagnostics);

struct FileContent {
    // With json::padding bytes to spare in its capacity, so that the parser
    // reads it where it is.
    std::string text;
    int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
};

// The file's bytes and modification time, read through one descriptor.
// Nullopt when it cannot be read: with a diagnostic, or with `missing` set
// and no diagnostic when the file does not exist (any more).
std::optional<FileContent> read_zone_file(const std::string& path, core::Diagnostics& diagnostics,
                                          bool* missing = nullptr);

struct FileLoad {
    std::shared_ptr<const Zone> zone;  // null on any problem
    std::string zone_name;             // lower case; empty when "zone" was unusable or not the file's name
    uint32_t line = 0, column = 0;     // of the "zone" value
};

// Loads the text of the zone file `path` (see load_zone), and checks that the
// file is named after its zone ("<zone>.json", in any case). The text is
// freed once read, before the zone is compiled, so that the two are never
// held at once.
FileLoad load_zone_text(std::string text, const std::string& path, RegionNames regions, uint32_t auto_serial,
                        core::Diagnostics& diagnostics);

// One file per zone in a directory: remembers which file defined each zone.
class ZoneClaims {
public:
    // True when no other file claimed `zone_name` yet (and records `path` as
    // its file); false, with a diagnostic for `path` at LINE:COL (where the
    // file names its zone), when one did. An empty name claims nothing.
    bool claim(const std::string& zone_name, const std::string& path, uint32_t line, uint32_t column,
               core::Diagnostics& diagnostics);

private:
    std::map<std::string, std::string> files_;  // zone name → file
};

// ---- The whole directory at once, for start-up and `dnsd check`.

struct DirectoryLoad {
    std::shared_ptr<const Snapshot> snapshot;  // every zone that loaded
    core::Diagnostics diagnostics;             // every problem in every file
    size_t files = 0;                          // *.json files seen
};

// Loads every `<zone>.json` in `dir`. A file whose name does not match its
// "zone" is a diagnostic; so are two files for one zone.
DirectoryLoad load_directory(const std::string& dir, RegionNames regions);

}  // namespace dnsd::zone
