// SourceZone → the immutable Zone the answer path reads.
#include <algorithm>

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
        for (std::string_view up = parent(owner.wire); up.size() > zone->apex.size(); up = parent(up))
            node_at(*zone, std::string(up));
    }
    for (auto& [wire, node] : zone->nodes) {
        std::sort(node.rrsets.begin(), node.rrsets.end(),
                  [](const RRset& a, const RRset& b) { return a.type < b.type; });
        node.delegation = wire != zone->apex && node.find(rrtype::NS) != nullptr;
    }
    return zone;
}

}  // namespace dnsd::zone
