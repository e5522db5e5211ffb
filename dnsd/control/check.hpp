#pragma once
// `dnsd check`: validates the config and every zone without serving.
#include "dnsd/control/settings.hpp"

namespace dnsd::control {

// Prints every problem as FILE:LINE:COL: message to stderr and returns 1, or
// prints one line per zone and a summary (zones, names, pools, members) to
// stdout and returns 0.
int check(const Flags& flags);

}  // namespace dnsd::control
