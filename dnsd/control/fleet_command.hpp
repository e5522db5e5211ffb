#pragma once
// `dnsd fleet` (SPEC §13): a running node's view of its fleet, from its
// GET /v1/fleet, one line per node.
#include <optional>

#include "dnsd/control/settings.hpp"

namespace dnsd::control {

// Asks the HTTP endpoint `http` (else the config's) and prints the nodes to
// stdout; returns 0, or 1 with one line on stderr when it cannot.
int show_fleet(const Flags& flags);

}  // namespace dnsd::control
