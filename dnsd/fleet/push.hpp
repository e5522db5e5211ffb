#pragma once
// `dnsd push`'s NATS side: stores a zone set as the fleet's, in one value, so
// that every node sees all of it or none of it. Blocking: a command line
// tool's, never the server's.
#include <cstdint>
#include <optional>
#include <string>

#include "dnsd/config/config.hpp"
#include "dnsd/fleet/records.hpp"

namespace dnsd::fleet {

// The revision the fleet stored `zones` at; nullopt, and why in `error`,
// when NATS cannot be reached or refuses it (a set larger than the server's
// max_payload, 1 MiB by default).
std::optional<uint64_t> push_zones(const config::Fleet& fleet, const ZoneSet& zones, std::string& error);

}  // namespace dnsd::fleet
