#pragma once
// `dnsd` itself: start-up, the workers, and the main loop that owns signals.
#include "dnsd/control/settings.hpp"

namespace dnsd::control {

// Runs the server until SIGTERM or SIGINT; returns the process exit code.
// A start-up failure logs one line naming the file or address (every
// FILE:LINE:COL diagnostic for invalid zones) and returns non-zero.
int serve(const Flags& flags);

}  // namespace dnsd::control
