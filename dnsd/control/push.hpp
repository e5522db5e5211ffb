#pragma once
// `dnsd push` (SPEC §13): validates every zone file of a directory and, only
// if all are valid, stores them as the fleet's zones, which every node with
// `"zones": "shared"` then serves.
#include <string>

#include "dnsd/control/settings.hpp"

namespace dnsd::control {

// Prints every problem as FILE:LINE:COL: message to stderr and returns 1
// (nothing is stored), or stores the files, prints one line and returns 0.
int push(const Flags& flags);

}  // namespace dnsd::control
