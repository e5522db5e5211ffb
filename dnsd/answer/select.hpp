#pragma once
// Which members of a pool answer a query, and in what order (SPEC §4 steps 3-6).
// Pure: the rotation counter, the random draw and health come in as arguments,
// so tests pin them. Allocates nothing: the caller owns the output span.
#include <cstdint>
#include <span>

#include "dnsd/core/address.hpp"
#include "dnsd/health/view.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::answer {

enum class Tier : uint8_t { primary, fallback, fail_open };

struct SelectInput {
    const zone::Pool* pool = nullptr;
    core::Family family = core::Family::v4;
    const health::HealthView* health = nullptr;
    core::Address client;        // ECS address or packet source, for sticky
    // Regions in the order to try them (the client's region first); empty: the
    // pool ignores geo and all its members form one tier.
    std::span<const int32_t> region_order;
    uint64_t counter = 0;        // the worker's per-query rotation counter
    uint64_t random = 0;         // a fresh random 64-bit value, for weighted
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

// A stable 64-bit hash (the same on every machine and across restarts), for
// sticky's rendezvous hashing.
uint64_t stable_hash(const uint8_t* data, size_t size, uint64_t seed);

}  // namespace dnsd::answer
