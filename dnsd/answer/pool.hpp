#pragma once
// One pool name's answer for one address family (SPEC §4): who the client is,
// where geo places it, which members answer in what order, their TTL and the
// ECS scope the answer is truthful for. The server's respond() and `dnsd
// explain` both come here, so that explain tells what the server does.
// No allocation, no lock, no exception.
#include <cstdint>
#include <span>

#include "dnsd/answer/select.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/geo/geo.hpp"
#include "dnsd/health/view.hpp"
#include "dnsd/latency/routes.hpp"
#include "dnsd/wire/query.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::answer {

// Step 1: whom the answer is for.
struct Client {
    core::Address address;      // the ECS address when from_ecs, else the packet's source
    bool from_ecs = false;      // the ECS option decided, so the response's scope speaks for it
    uint8_t source_prefix = 0;  // the ECS source prefix when from_ecs
};

// The ECS address when the query carries one (`ecs` not null), `ecs_on` and
// its source prefix is above 0 (0 is the resolver declining to say, RFC 7871
// §7.1.2), else the packet's source.
Client client_of(const core::Address& source, const wire::ClientSubnet* ecs, bool ecs_on);

struct PoolQuestion {
    const zone::Zone* zone = nullptr;
    const zone::Node* node = nullptr;  // a pool name: node->pool >= 0
    core::Family family = core::Family::v4;
    Client client;
    const health::HealthView* health = nullptr;  // null: every member up, no override
    const geo::Geo* geo = nullptr;               // null: pools skip geo
    const latency::Routes* latency = nullptr;    // null: routing "latency" orders by geo
    uint64_t counter = 0;                        // the query's rotation counter
    uint64_t random = 0;                         // a fresh random value, for weighted
    StickyCache* sticky_cache = nullptr;         // SelectInput::sticky_cache
};

struct PoolChoice {
    SelectInput input;          // what select() was given: health, states, region order
    Selection selection;        // the members are out[0, selection.count)
    geo::Placement placement;   // for a pool that skips geo: no region, empty order; by RTT for routing "latency"
    uint32_t ttl = 0;           // the name's TTL, or degraded_ttl off the primary tier
    uint8_t scope_prefix = 0;   // the ECS scope prefix; 0 unless the client came from ECS
};

// Steps 2-7 for the pool at question.node. `out` and `scratch` must hold the
// pool's member count.
PoolChoice choose(const PoolQuestion& question, std::span<uint32_t> out, std::span<uint64_t> scratch) noexcept;

}  // namespace dnsd::answer
