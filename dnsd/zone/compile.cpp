// SourceZone → the immutable Zone the answer path reads.
#include <algorithm>

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

Node& node_at(Zone& zone, const std::string& wire) {
    auto [it, fresh] = zone.nodes.try_emplace(wire);
    if (fresh) it->second.name = wire;
    return it->second;
}

}  // namespace

std::shared_ptr<const Zone> compile(const SourceZone& source, const std::string& file) {
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

    zone->nodes.reserve(source.owners.size() + 1);
    node_at(*zone, zone->apex).rrsets.push_back(RRset{rrtype::SOA, source.ttl, {rdata::soa(source.soa)}});
    for (const auto& owner : source.owners) {
        Node& node = node_at(*zone, owner.wire);
        uint32_t ttl = owner.ttl.value_or(source.ttl);
        for (const auto& set : owner.sets) node.rrsets.push_back(RRset{set.type, ttl, set.rdatas});
        if (owner.pool) {
            auto it = std::find_if(zone->pools.begin(), zone->pools.end(),
                                   [&](const Pool& p) { return p.name == *owner.pool; });
            node.pool = static_cast<int32_t>(it - zone->pools.begin());
            node.pool_ttl = owner.ttl.value_or(it->ttl);
        }
        // Every name between the owner and the apex exists (empty non-terminals).
        for (std::string_view up = wire::parent(owner.wire); up.size() > zone->apex.size(); up = wire::parent(up))
            node_at(*zone, std::string(up));
    }
    for (auto& [wire, node] : zone->nodes) {
        std::sort(node.rrsets.begin(), node.rrsets.end(),
                  [](const RRset& a, const RRset& b) { return a.type < b.type; });
        node.delegation = wire != zone->apex && node.find(rrtype::NS) != nullptr;
        for (const auto& rrset : node.rrsets) zone->rotating_sets += rrset.rdatas.size() > 1;
    }
    zone->rotating_sets += 2 * zone->pools.size();
    return zone;
}

}  // namespace dnsd::zone
