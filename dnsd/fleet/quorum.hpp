#pragma once
// The fleet's health rule (SPEC §13), pure: whether a target is down for the
// fleet, from the votes of the nodes that probe it. The caller gives the
// clock, so that staleness is tested without waiting.
#include <chrono>
#include <cstdint>
#include <span>

#include "dnsd/config/config.hpp"

namespace dnsd::fleet {

using Clock = std::chrono::steady_clock;

// One node's verdict on one target.
struct Vote {
    bool up = true;
    Clock::time_point heard;  // when that node was last heard from
};

struct Decision {
    bool up = true;
    uint32_t counted = 0;  // votes of nodes heard from within stale_after
    uint32_t down = 0;     // of those, how many say down
};

// A target is down when the counted nodes saying down meet `quorum`: at least
// one (any), more than half of the counted (majority), every counted one
// (all), or at least N. Nodes not heard from within `stale_after` of `now`
// are not counted; with none counted the target stays up.
Decision decide(std::span<const Vote> votes, const config::Quorum& quorum, Clock::time_point now,
                Clock::duration stale_after);

}  // namespace dnsd::fleet
