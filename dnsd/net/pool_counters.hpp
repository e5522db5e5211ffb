#pragma once
// A worker's pool answers by zone, pool, region and tier. The worker counts
// into a table laid out for the snapshot it answers from, without allocating or
// locking; a new snapshot gets a new table (built when the worker adopts the
// view) that starts from the old one's counts, so that counters never go back.
// A reader on another thread takes the current table and reads its counts.
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "dnsd/answer/respond.hpp"
#include "dnsd/net/counters.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::net {

inline constexpr size_t tier_slots = answer::tier_names.size();  // by answer::Tier

class PoolCounterTable {
public:
    // One counter for every pool of every zone in `snapshot`, every region
    // (0 .. region_count - 1, and none) and every tier, all zero.
    PoolCounterTable(const zone::Snapshot& snapshot, uint32_t region_count);
    PoolCounterTable(const PoolCounterTable&) = delete;
    PoolCounterTable& operator=(const PoolCounterTable&) = delete;

    // Adds `previous`'s counts for every pool both tables have (the same zone
    // and pool names). Before the table is shared.
    void carry_over(const PoolCounterTable& previous);

    // The answer path: a scan of the zones, then one increment. A zone not in
    // the table is not counted.
    void count(const answer::PoolAnswer& answer);

    // Readers. Zones in snapshot order; region -1: none.
    const std::vector<std::shared_ptr<const zone::Zone>>& zones() const { return zones_; }
    uint32_t region_count() const { return region_count_; }
    uint64_t get(size_t zone, size_t pool, int32_t region, answer::Tier tier) const {
        return counts_[slot(zone, pool, region, tier)].get();
    }

private:
    size_t slot(size_t zone, size_t pool, int32_t region, answer::Tier tier) const;

    // Held, so that the labels stay readable and no zone's address is reused
    // while the table lives.
    std::vector<std::shared_ptr<const zone::Zone>> zones_;
    std::vector<size_t> first_pool_;  // by zone: the index of its first pool among all pools
    uint32_t region_count_;
    std::vector<Counter> counts_;
};

class PoolCounters {
public:
    explicit PoolCounters(uint32_t region_count) : region_count_(region_count) {}

    // The worker, when it adopts a view: a new table when the snapshot changed.
    // Allocates; takes the lock only to swap the table in.
    void adopt(const std::shared_ptr<const zone::Snapshot>& snapshot);
    // The worker, per answer: no allocation, no lock.
    void count(const answer::PoolAnswer& answer) {
        if (answer.zone != nullptr && table_) table_->count(answer);
    }

    // Any thread: the table the worker counts into now (null before the first view).
    std::shared_ptr<const PoolCounterTable> table() const;

private:
    const uint32_t region_count_;
    std::shared_ptr<const zone::Snapshot> snapshot_;  // the one table_ is laid out for
    mutable std::mutex mutex_;  // guards the swap of table_ against readers; the worker writes it
    std::shared_ptr<PoolCounterTable> table_;
};

}  // namespace dnsd::net
