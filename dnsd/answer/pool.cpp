#include "dnsd/answer/pool.hpp"

#include <algorithm>

namespace dnsd::answer {

namespace {

// Sticky hashes the client's /24 or /56 (select.cpp): every client in it gets
// the same order, and no wider network does.
constexpr uint8_t sticky_scope_v4 = 24, sticky_scope_v6 = 56;

// Step 7: the network around the client whose every address gets this answer,
// capped at the source prefix, since a resolver hands the answer to all of it.
// An answer that depends on no part of the client gets 0.
uint8_t scope_of(const zone::Pool& pool, const Client& client, const PoolChoice& choice, bool placed) {
    if (!client.from_ecs || choice.selection.count == 0) return 0;
    uint8_t scope = placed ? choice.placement.scope_prefix : 0;
    if (pool.policy == zone::Policy::sticky)
        scope = std::max(scope, client.address.family == core::Family::v4 ? sticky_scope_v4 : sticky_scope_v6);
    return std::min(scope, client.source_prefix);
}

}  // namespace

Client client_of(const core::Address& source, const wire::ClientSubnet* ecs, bool ecs_on) {
    if (ecs != nullptr && ecs_on && ecs->source_prefix > 0) return Client{ecs->address, true, ecs->source_prefix};
    return Client{source, false, 0};
}

PoolChoice choose(const PoolQuestion& question, std::span<uint32_t> out, std::span<uint64_t> scratch) noexcept {
    const zone::Pool& pool = question.zone->pools[static_cast<size_t>(question.node->pool)];
    PoolChoice choice;
    SelectInput& input = choice.input;
    input.pool = &pool;
    input.family = question.family;
    if (question.health) {
        input.health = question.health->find(question.zone);
        if (input.health) input.states = input.health->states_of(static_cast<size_t>(question.node->pool));
    }
    input.client = question.client.address;
    // A pool whose members name no region answers every client alike.
    const bool placed = pool.uses_geo && question.geo != nullptr;
    if (placed) {
        choice.placement = question.geo->place(question.client.address);
        if (pool.routing == zone::Routing::latency && question.latency != nullptr)
            choice.placement = question.latency->place(question.client.address, choice.placement);
        input.region_order = choice.placement.region_order;
    }
    input.counter = question.counter;
    input.random = question.random;
    input.sticky_cache = question.sticky_cache;
    choice.selection = select(input, out, scratch);
    // The name's own TTL (record, else pool, else zone) unless select() chose
    // the degraded one.
    const uint32_t name_ttl = question.node->pool_ttl;
    choice.ttl = choice.selection.tier == Tier::primary ? name_ttl : std::min(name_ttl, choice.selection.ttl);
    choice.scope_prefix = scope_of(pool, question.client, choice, placed);
    return choice;
}

}  // namespace dnsd::answer
