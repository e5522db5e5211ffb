#include "dnsd/net/pool_counters.hpp"

#include <algorithm>

namespace dnsd::net {

PoolCounterTable::PoolCounterTable(const zone::Snapshot& snapshot, uint32_t region_count)
    : zones_(snapshot.zones), region_count_(region_count) {
    size_t pools = 0;
    for (const auto& zone : zones_) {
        first_pool_.push_back(pools);
        pools += zone->pools.size();
    }
    counts_ = std::vector<Counter>(pools * (region_count_ + 1) * tier_slots);
}

size_t PoolCounterTable::slot(size_t zone, size_t pool, int32_t region, answer::Tier tier) const {
    // Region slot 0 is "none"; a region the table was not sized for (there is
    // none while the config's regions stay fixed) counts there too rather than
    // out of bounds.
    const size_t region_slot = region >= 0 && static_cast<uint32_t>(region) < region_count_ ? region + 1 : 0;
    return ((first_pool_[zone] + pool) * (region_count_ + 1) + region_slot) * tier_slots +
           static_cast<size_t>(tier);
}

void PoolCounterTable::count(const answer::PoolAnswer& answer) {
    for (size_t z = 0; z < zones_.size(); ++z) {
        if (zones_[z].get() != answer.zone) continue;
        if (answer.pool >= 0 && static_cast<size_t>(answer.pool) < zones_[z]->pools.size())
            counts_[slot(z, static_cast<size_t>(answer.pool), answer.region, answer.tier)].add();
        return;
    }
}

void PoolCounterTable::carry_over(const PoolCounterTable& previous) {
    const uint32_t regions = std::min(region_count_, previous.region_count_);
    for (size_t z = 0; z < zones_.size(); ++z) {
        for (size_t old_z = 0; old_z < previous.zones_.size(); ++old_z) {
            const zone::Zone& old_zone = *previous.zones_[old_z];
            if (old_zone.name != zones_[z]->name) continue;
            for (size_t p = 0; p < zones_[z]->pools.size(); ++p)
                for (size_t old_p = 0; old_p < old_zone.pools.size(); ++old_p) {
                    if (old_zone.pools[old_p].name != zones_[z]->pools[p].name) continue;
                    for (int32_t region = -1; region < static_cast<int32_t>(regions); ++region)
                        for (size_t t = 0; t < tier_slots; ++t) {
                            const auto tier = static_cast<answer::Tier>(t);
                            counts_[slot(z, p, region, tier)].add(previous.get(old_z, old_p, region, tier));
                        }
                }
        }
    }
}

void PoolCounters::adopt(const std::shared_ptr<const zone::Snapshot>& snapshot) {
    if (snapshot == snapshot_) return;
    std::shared_ptr<PoolCounterTable> next;
    if (snapshot) {
        next = std::make_shared<PoolCounterTable>(*snapshot, region_count_);
        if (table_) next->carry_over(*table_);
    }
    snapshot_ = snapshot;
    std::lock_guard lock(mutex_);
    table_ = std::move(next);
}

std::shared_ptr<const PoolCounterTable> PoolCounters::table() const {
    std::lock_guard lock(mutex_);
    return table_;
}

}  // namespace dnsd::net
