#include "dnsd/zone/runtime.hpp"

#include <algorithm>
#include <unordered_set>

#include "dnsd/zone/source.hpp"

namespace dnsd::zone {

namespace {

std::string address_key(const core::Address& address) {
    return {reinterpret_cast<const char*>(address.bytes.data()), address.size()};
}

uint16_t source_index(Zone& zone, const std::string& source) {
    const auto it = std::find(zone.sources.begin(), zone.sources.end(), source);
    if (it != zone.sources.end()) return static_cast<uint16_t>(it - zone.sources.begin());
    zone.sources.push_back(source);
    return static_cast<uint16_t>(zone.sources.size() - 1);
}

}  // namespace

std::shared_ptr<const Zone> with_runtime_members(const std::shared_ptr<const Zone>& base, const RuntimePools& pools) {
    auto zone = std::make_shared<Zone>(*base);  // shares base's names
    for (Pool& pool : zone->pools) {
        const auto sources = pools.find(pool.name);
        if (sources == pools.end()) continue;
        std::unordered_set<std::string> listed;
        for (const Member& member : pool.members) listed.insert(address_key(member.address));
        for (const auto& [source, members] : sources->second) {
            for (const RuntimeMember& added : members) {
                if (!listed.insert(address_key(added.address)).second) continue;
                if (pool.members.size() >= UINT32_MAX) break;
                Member& member = pool.members.emplace_back();
                member.address = added.address;
                member.region = added.region;
                member.weight = added.weight;
                member.priority = added.priority;
                member.state = added.state;
                member.port = added.port;
                member.source = source_index(*zone, source);
            }
        }
        index_members(pool);
        zone->max_pool_members = std::max(zone->max_pool_members, pool.members.size());
    }
    assign_probe_slots(*zone);
    zone->key_pool_rotations();
    return zone;
}

}  // namespace dnsd::zone
