// SourceZone → the immutable Zone the answer path reads.
#include <algorithm>
#include <iterator>
#include <string_view>
#include <unordered_map>

#include "dnsd/wire/name.hpp"
#include "dnsd/zone/name.hpp"
#include "dnsd/zone/source.hpp"

namespace dnsd::zone {

namespace {

uint16_t default_port(Check::Type type) {
    switch (type) {
        case Check::Type::http: return 80;
        case Check::Type::https: return 443;
        case Check::Type::dns: return 53;
        case Check::Type::none:
        case Check::Type::tcp: break;  // validation requires an explicit port for tcp
    }
    return 0;
}

// Sorts the node's RRsets for Node::find's callers and marks a zone cut.
void finish_node(Zone& zone, Node& node) {
    std::sort(node.rrsets.begin(), node.rrsets.end(), [](const RRset& a, const RRset& b) { return a.type < b.type; });
    node.delegation = node.name != zone.apex && node.find(rrtype::NS) != nullptr;
}

}  // namespace

void index_members(Pool& pool) {
    pool.v4.clear();
    pool.v6.clear();
    pool.uses_geo = false;
    for (uint32_t i = 0; i < pool.members.size(); ++i) {
        const Member& m = pool.members[i];
        (m.address.family == core::Family::v4 ? pool.v4 : pool.v6).push_back(i);
        if (m.region >= 0) pool.uses_geo = true;
    }
    pool.index_weights();
}

void assign_probe_slots(Zone& zone) {
    zone.probe_targets.clear();
    // Pools whose checks are equal probe alike: each check goes by the first
    // pool that has it, so that the key below need not spell the check out.
    std::vector<uint32_t> check_of(zone.pools.size());
    for (size_t p = 0; p < zone.pools.size(); ++p) {
        check_of[p] = static_cast<uint32_t>(p);
        for (size_t q = 0; q < p; ++q)
            if (zone.pools[q].check == zone.pools[p].check) {
                check_of[p] = check_of[q];
                break;
            }
    }
    std::unordered_map<std::string, uint32_t> slots;  // by address, port and check
    for (size_t p = 0; p < zone.pools.size(); ++p) {
        Pool& pool = zone.pools[p];
        for (Member& member : pool.members) {
            member.health_slot = UINT32_MAX;
            if (pool.check.type == Check::Type::none) continue;
            ProbeTarget target{member.address, pool.check};
            target.check.port = member.port    ? member.port
                                : pool.check.port ? pool.check.port
                                                  : default_port(pool.check.type);
            std::string key(reinterpret_cast<const char*>(member.address.bytes.data()), member.address.size());
            for (const uint32_t number : {uint32_t(target.check.port), check_of[p]})
                key.append(reinterpret_cast<const char*>(&number), sizeof number);
            const auto [it, added] = slots.try_emplace(std::move(key), static_cast<uint32_t>(zone.probe_targets.size()));
            if (added) zone.probe_targets.push_back(std::move(target));
            member.health_slot = it->second;
        }
    }
}

std::shared_ptr<const Zone> compile(SourceZone&& source, const std::string& file) {
    auto zone = std::make_shared<Zone>();
    zone->apex = source.apex;
    zone->name = to_text(source.apex);
    if (zone->name.size() > 1) zone->name.pop_back();
    zone->file = file;
    zone->serial = source.soa.serial;
    zone->negative_ttl = std::min(source.ttl, source.soa.minimum);

    for (const auto& pool : source.pools) {
        index_members(zone->pools.emplace_back(pool.pool));
        zone->max_pool_members = std::max(zone->max_pool_members, pool.pool.members.size());
    }
    assign_probe_slots(*zone);

    zone->reserve_nodes(source.owners.size() + 1);
    Node& apex = zone->node_at(zone->apex);
    apex.rrsets.push_back(RRset{rrtype::SOA, source.ttl, {rdata::soa(source.soa)}});
    finish_node(*zone, apex);
    // Names are unique after validation: each owner fills one node, whole.
    for (auto& owner : source.owners) {
        Node& node = zone->node_at(owner.wire);
        const uint32_t ttl = owner.ttl.value_or(source.ttl);
        for (auto& set : owner.sets) set.ttl = ttl;
        if (node.rrsets.empty())
            node.rrsets = std::move(owner.sets);
        else  // the apex, which has its SOA already
            std::move(owner.sets.begin(), owner.sets.end(), std::back_inserter(node.rrsets));
        if (owner.has_pool()) {
            node.pool = source.pool_references[owner.pool_reference].pool;
            node.pool_ttl = owner.ttl.value_or(zone->pools[static_cast<size_t>(node.pool)].ttl);
        }
        finish_node(*zone, node);
        // Every name between the owner and the apex exists (empty non-terminals).
        for (std::string_view up = wire::parent(owner.wire); up.size() > zone->apex.size(); up = wire::parent(up))
            zone->node_at(up);
        // Its records are in the node now; the rest is not needed again.
        owner = SourceOwner{};
    }
    zone->finish();
    return zone;
}

}  // namespace dnsd::zone
