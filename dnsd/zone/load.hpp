#pragma once
// Zone files (SPEC §3): JSON → model → validation → compiled Zone. Loading
// collects every problem in a file, each with FILE:LINE:COL and a fix, rather
// than stopping at the first.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dnsd/config/config.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::zone {

// Parses and validates one zone from `text` read from `file`. `config` supplies
// the regions members may name. `auto_serial` is the SOA serial when the file
// says "serial": "auto". Returns null and fills `diagnostics` on any problem.
std::shared_ptr<const Zone> load_zone(std::string_view text, const std::string& file,
                                      const config::Config& config, core::Diagnostics& diagnostics,
                                      uint32_t auto_serial = 1);

// Reads `path` and loads it as above, with the file's modification time (in
// seconds since the epoch) as the auto serial, so that the serial grows
// whenever the file is rewritten. An unreadable file is a diagnostic too.
std::shared_ptr<const Zone> load_zone_file(const std::string& path, const config::Config& config,
                                           core::Diagnostics& diagnostics);

struct DirectoryLoad {
    std::shared_ptr<const Snapshot> snapshot;  // every zone that loaded
    core::Diagnostics diagnostics;             // every problem in every file
    size_t files = 0;                          // *.json files seen
};

// Loads every `<zone>.json` in `dir`. A file whose name does not match its
// "zone" is a diagnostic; so are two files for one zone.
DirectoryLoad load_directory(const std::string& dir, const config::Config& config);

}  // namespace dnsd::zone
