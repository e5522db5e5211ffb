#pragma once
// Which members of a pool answer a query, and in what order (SPEC §4 steps 3-6).
// Pure: the rotation counter, the random draw and health come in as arguments,
// so tests pin them; the sticky cache only remembers what it would compute
// again. Allocates nothing: the caller owns the output span.
#include <array>
#include <cstdint>
#include <span>

#include "dnsd/answer/sticky_cache.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/health/view.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::answer {

enum class Tier : uint8_t { primary, fallback, fail_open };
// As metrics, status and explain spell them, by value.
inline constexpr std::array<std::string_view, 3> tier_names{"primary", "fallback", "fail-open"};
inline std::string_view to_string(Tier tier) { return tier_names[static_cast<size_t>(tier)]; }

struct SelectInput {
    const zone::Pool* pool = nullptr;
    core::Family family = core::Family::v4;
    const health::ZoneHealth* health = nullptr;  // the pool's zone's; nullptr: every member up
    // Each member's effective state (runtime overrides), by index into
    // pool->members; empty: the states the zone file gave them.
    std::span<const zone::MemberState> states;
    core::Address client;        // ECS address or packet source, for sticky
    // Regions in the order to try them (the client's region first); empty: the
    // pool ignores geo and all its members form one tier.
    std::span<const int32_t> region_order;
    uint64_t counter = 0;        // the worker's per-query rotation counter
    uint64_t random = 0;         // a fresh random 64-bit value, for weighted
    // The worker's rankings of wide sticky tiers, kept for the snapshot that
    // holds `pool`; null: every sticky answer ranks its tier afresh.
    StickyCache* sticky_cache = nullptr;
};

struct Selection {
    size_t count = 0;            // members written to `out`
    Tier tier = Tier::primary;
    int32_t region = -1;         // the region of the tier that answered; -1: none
    uint32_t ttl = 0;            // pool ttl, or degraded_ttl for fallback / fail open
};

// Writes the chosen members' indices (into pool->members), in answer order and
// capped at max_answers, to `out`. `out` must hold pool->members.size() entries;
// `scratch` is working space of the same size.
Selection select(const SelectInput& in, std::span<uint32_t> out, std::span<uint64_t> scratch);

// Member m's state: its runtime override (in.states) if any, else the zone file's.
inline zone::MemberState state_of(const SelectInput& in, uint32_t m) {
    return m < in.states.size() ? in.states[m] : in.pool->members[m].state;
}
// SPEC §4 step 3: state up, or state auto and health up. Inline: asked of
// every member of the tiers tried, on every query.
inline bool eligible(const SelectInput& in, uint32_t m) {
    switch (state_of(in, m)) {
        case zone::MemberState::up: return true;
        case zone::MemberState::down: return false;
        case zone::MemberState::automatic: break;
    }
    return in.health == nullptr || in.health->is_up(in.pool->members[m].health_slot);
}
// The member's tier: its region's position in `order`. A member without a
// region belongs to every tier, so to the first one it is tried in; one whose
// region is not listed gets order.size(), past every tier. With no order, every
// member is in tier 0.
uint64_t tier_of(const zone::Member& member, std::span<const int32_t> order);

}  // namespace dnsd::answer
