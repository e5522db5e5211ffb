#pragma once
// `dnsd drain ZONE POOL ADDRESS [--wait]` (SPEC §11): takes a member out
// through a running node's HTTP endpoint (a registered member's registration
// deleted, any other's state set to down; one already removed from its pool
// is only waited for) and, with --wait, returns only once no resolver can
// still hold an answer with it.
#include <chrono>
#include <optional>
#include <string>

#include "dnsd/control/settings.hpp"

namespace dnsd::control {

struct DrainRequest {
    std::string zone;
    std::string pool;
    std::string address;
    bool wait = false;
    std::optional<std::string> token;  // else the config's http_token
    std::chrono::seconds timeout{3600};  // --wait gives up after it
};

// Prints what the node says to stdout; returns 0 when the member is drained
// (with --wait: safe to remove), else 1 with one line on stderr.
int drain(const Flags& flags, const DrainRequest& request);

}  // namespace dnsd::control
