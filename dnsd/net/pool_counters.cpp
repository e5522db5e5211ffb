#include "dnsd/net/pool_counters.hpp"

#include <string_view>

namespace dnsd::net {

PoolCounterTable::PoolCounterTable(std::shared_ptr<const zone::Snapshot> snapshot, uint32_t region_count)
    : snapshot_(std::move(snapshot)), region_count_(region_count) {
    const auto& zones = snapshot_->zones;
    by_zone_.reserve(zones.size());
    first_pool_.reserve(zones.size() + 1);
    uint32_t pools = 0;
    for (size_t z = 0; z < zones.size(); ++z) {
        by_zone_.insert(zones[z].get(), static_cast<uint32_t>(z), [&](uint32_t i) { return zones[i].get(); });
        first_pool_.push_back(pools);
        pools += static_cast<uint32_t>(zones[z]->pools.size());
    }
    first_pool_.push_back(pools);
    own_ = std::shared_ptr<Counter[]>(new Counter[pools * slots_per_pool()]());
}

PoolCounterTable::PoolCounterTable(std::shared_ptr<const zone::Snapshot> snapshot, const PoolCounterTable& previous)
    : PoolCounterTable(std::move(snapshot), previous.region_count_) {
    const auto& zones = snapshot_->zones;
    const auto& old_zones = previous.zones();
    core::KeyIndex old_by_name;
    old_by_name.reserve(old_zones.size());
    for (size_t z = 0; z < old_zones.size(); ++z)
        old_by_name.insert(std::string_view(old_zones[z]->name), static_cast<uint32_t>(z),
                           [&](uint32_t i) { return std::string_view(old_zones[i]->name); });

    previous_pool_.assign(first_pool_.back(), none);
    core::KeyIndex old_pools;
    for (size_t z = 0; z < zones.size(); ++z) {
        const zone::Zone& zone = *zones[z];
        const uint32_t old_z =
            old_by_name.find(std::string_view(zone.name), [&](uint32_t i) { return std::string_view(old_zones[i]->name); });
        if (old_z == core::KeyIndex::none) continue;
        const zone::Zone& old_zone = *old_zones[old_z];
        const uint32_t old_first = previous.first_pool_[old_z];
        // A zone the reload kept has the same pools in the same order.
        if (&old_zone == &zone) {
            for (size_t p = 0; p < zone.pools.size(); ++p) previous_pool_[first_pool_[z] + p] = old_first + p;
            continue;
        }
        old_pools.clear();
        old_pools.reserve(old_zone.pools.size());
        auto old_name = [&](uint32_t i) { return std::string_view(old_zone.pools[i].name); };
        for (size_t p = 0; p < old_zone.pools.size(); ++p)
            old_pools.insert(old_name(static_cast<uint32_t>(p)), static_cast<uint32_t>(p), old_name);
        for (size_t p = 0; p < zone.pools.size(); ++p) {
            const uint32_t old_p = old_pools.find(std::string_view(zone.pools[p].name), old_name);
            if (old_p != core::KeyIndex::none) previous_pool_[first_pool_[z] + p] = old_first + old_p;
        }
    }

    const size_t per_pool = slots_per_pool();
    carried_.assign(first_pool_.back() * per_pool, 0);
    for (size_t pool = 0; pool < previous_pool_.size(); ++pool) {
        if (previous_pool_[pool] == none) continue;
        for (size_t i = 0; i < per_pool; ++i)
            carried_[pool * per_pool + i] = previous.settled(previous_pool_[pool] * per_pool + i);
    }
    previous_own_ = previous.own_;
}

size_t PoolCounterTable::slot(size_t pool, int32_t region, answer::Tier tier) const {
    // Region slot 0 is "none"; a region the table was not sized for (there is
    // none while the config's regions stay fixed) counts there too rather than
    // out of bounds.
    const size_t region_slot = region >= 0 && static_cast<uint32_t>(region) < region_count_ ? region + 1 : 0;
    return (pool * (region_count_ + 1) + region_slot) * tier_slots + static_cast<size_t>(tier);
}

uint64_t PoolCounterTable::settled(size_t s) const {
    if (carried_.empty()) return 0;
    const size_t per_pool = slots_per_pool();
    const uint32_t previous = previous_pool_[s / per_pool];
    return carried_[s] + (previous == none ? 0 : previous_own_[previous * per_pool + s % per_pool].get());
}

void PoolCounterTable::count(const answer::PoolAnswer& answer) {
    const auto& zones = snapshot_->zones;
    const uint32_t z = by_zone_.find(answer.zone, [&](uint32_t i) { return zones[i].get(); });
    if (z == core::KeyIndex::none) return;
    if (answer.pool >= 0 && static_cast<size_t>(answer.pool) < zones[z]->pools.size())
        own_[slot(first_pool_[z] + static_cast<size_t>(answer.pool), answer.region, answer.tier)].add();
}

std::shared_ptr<PoolCounterTable> PoolCounters::next_table(std::shared_ptr<const zone::Snapshot> snapshot,
                                                           const std::shared_ptr<PoolCounterTable>& from) const {
    if (from) return std::make_shared<PoolCounterTable>(std::move(snapshot), *from);
    return std::make_shared<PoolCounterTable>(std::move(snapshot), region_count_);
}

std::shared_ptr<const PoolCounterTable> PoolCounters::prepare(std::shared_ptr<const zone::Snapshot> snapshot) {
    if (!snapshot) return nullptr;
    for (;;) {
        std::shared_ptr<PoolCounterTable> from;
        {
            std::lock_guard lock(mutex_);
            from = table_;
        }
        auto next = next_table(snapshot, from);
        std::lock_guard lock(mutex_);
        // Else the worker moved to another table meanwhile (one it built
        // itself): continue that one instead.
        if (table_ == from) {
            pending_ = std::move(next);
            return from;
        }
    }
}

void PoolCounters::adopt(const std::shared_ptr<const zone::Snapshot>& snapshot) {
    // table_ is read here without the lock: only this thread changes it.
    if (table_ ? table_->snapshot() == snapshot : snapshot == nullptr) return;
    std::shared_ptr<PoolCounterTable> next;
    {
        std::lock_guard lock(mutex_);
        if (pending_ && pending_->snapshot() == snapshot) next = std::move(pending_);
    }
    if (!next && snapshot) next = next_table(snapshot, table_);
    std::lock_guard lock(mutex_);
    table_ = std::move(next);
    pending_.reset();
}

std::shared_ptr<const PoolCounterTable> PoolCounters::table() const {
    std::lock_guard lock(mutex_);
    return table_;
}

}  // namespace dnsd::net
