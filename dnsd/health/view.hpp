#pragma once
// What the answer path knows about member health: one flag per probed target,
// indexed by zone::Member::health_slot. Published whole by the control loop.
#include <cstdint>
#include <vector>

namespace dnsd::health {

struct HealthView {
    std::vector<uint8_t> up;  // 1: up. A slot past the end (or no slot) counts as up.

    bool is_up(uint32_t slot) const { return slot >= up.size() || up[slot] != 0; }
};

}  // namespace dnsd::health
