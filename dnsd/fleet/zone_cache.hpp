#pragma once
// The zones a fleet shares (`"zones": "shared"`, SPEC §13), kept in the state
// directory as an ordinary zones directory, `shared-zones/`, which the node
// serves and reloads like any other: the last zones received survive a
// restart while NATS is unreachable. A new set replaces the directory whole
// (written beside it, then renamed into place), so that a reload sees the old
// set or the new one, never a mix.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "dnsd/fleet/records.hpp"

namespace dnsd::fleet {

// STATE_DIR/shared-zones, created empty if missing (and put back in place if
// a replacement was cut short). False, and why in `error`, when it cannot be.
bool prepare_zone_cache(const std::filesystem::path& state_dir, std::filesystem::path& dir, std::string& error);

// The fleet revision the cache holds; none when it holds none yet.
std::optional<uint64_t> cached_revision(const std::filesystem::path& dir);

// Replaces the cache `dir` with `zones` at `revision`. Each file's
// modification time is the push time, so that zones with "serial": "auto" get
// the same serial on every node.
bool write_zone_cache(const std::filesystem::path& dir, const ZoneSet& zones, uint64_t revision, std::string& error);

}  // namespace dnsd::fleet
