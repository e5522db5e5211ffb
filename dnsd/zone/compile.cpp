// SourceZone → the immutable Zone the answer path reads.
#include <algorithm>
#include <iterator>
#include <string_view>

#include "dnsd/wire/name.hpp"
#include "dnsd/zone/name.hpp"
#include "dnsd/zone/source.hpp"

namespace dnsd::zone {

namespace {

Pool finish(const Pool& source) {
    Pool pool = source;
    for (uint32_t i = 0; i < pool.members.size(); ++i) {
        const Member& m = pool.members[i];
        (m.address.family == core::Family::v4 ? pool.v4 : pool.v6).push_back(i);
        if (m.region >= 0) pool.uses_geo = true;
    }
    pool.index_weights();
    return pool;
}

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

// Gives every member of a checked pool its slot in zone.probe_targets, sharing
// one slot between members that would be probed identically.
void assign_probe_slots(Zone& zone) {
    for (Pool& pool : zone.pools) {
        if (pool.check.type == Check::Type::none) continue;
        for (Member& member : pool.members) {
            ProbeTarget target{member.address, pool.check};
            target.check.port = member.port    ? member.port
                                : pool.check.port ? pool.check.port
                                                  : default_port(pool.check.type);
            auto it = std::find_if(zone.probe_targets.begin(), zone.probe_targets.end(), [&](const ProbeTarget& t) {
                return t.address == target.address && t.check == target.check;
            });
            member.health_slot = static_cast<uint32_t>(it - zone.probe_targets.begin());
            if (it == zone.probe_targets.end()) zone.probe_targets.push_back(std::move(target));
        }
    }
}

// Sorts the node's RRsets for Node::find's callers and marks a zone cut.
void finish_node(Zone& zone, Node& node) {
    std::sort(node.rrsets.begin(), node.rrsets.end(), [](const RRset& a, const RRset& b) { return a.type < b.type; });
    node.delegation = node.name != zone.apex && node.find(rrtype::NS) != nullptr;
}

}  // namespace

std::shared_ptr<const Zone> compile(SourceZone&& source, const std::string& file) {
    auto zone = std::make_shared<Zone>();
    zone->apex = source.apex;
    zone->name = to_text(source.apex);
    if (zone->name.size() > 1) zone->name.pop_back();
    zone->file = file;
    zone->serial = source.soa.serial;
    zone->negative_ttl = std::min(source.ttl, source.soa.minimum);

    for (const auto& pool : source.pools) {
        zone->pools.push_back(finish(pool.pool));
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
    zone->key_rotations();
    return zone;
}

}  // namespace dnsd::zone
