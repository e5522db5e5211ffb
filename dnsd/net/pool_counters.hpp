#pragma once
// A worker's pool answers by zone, pool, region and tier. The worker counts
// into a table laid out for the snapshot it answers from, without allocating or
// locking. A new snapshot gets a new table that continues the old one's counts,
// so that counters never go back; it is built by the control loop before the
// snapshot is published (PoolCounters::prepare), so that a worker only swaps
// a pointer when it adopts the view. A reader on another thread takes the
// current table and reads its counts.
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "dnsd/answer/respond.hpp"
#include "dnsd/core/key_index.hpp"
#include "dnsd/net/counters.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::net {

inline constexpr size_t tier_slots = answer::tier_names.size();  // by answer::Tier

class PoolCounterTable {
public:
    // One counter for every pool of every zone in `snapshot`, every region
    // (0 .. region_count - 1, and none) and every tier, all zero.
    PoolCounterTable(std::shared_ptr<const zone::Snapshot> snapshot, uint32_t region_count);
    // The same, continuing `previous`'s counts for every pool both tables have
    // (the same zone and pool names). `previous` is the table its worker
    // counts into now: its own counts, still growing until the worker moves
    // to this table, are read through; the older ones, settled, are copied.
    // Linear in the pools of both snapshots.
    PoolCounterTable(std::shared_ptr<const zone::Snapshot> snapshot, const PoolCounterTable& previous);
    PoolCounterTable(const PoolCounterTable&) = delete;
    PoolCounterTable& operator=(const PoolCounterTable&) = delete;

    // The answer path: one probe of an index by the zone's address, then one
    // increment. A zone not in the table is not counted.
    void count(const answer::PoolAnswer& answer);

    // Readers. Zones in snapshot order; region -1: none.
    const std::shared_ptr<const zone::Snapshot>& snapshot() const { return snapshot_; }
    const std::vector<std::shared_ptr<const zone::Zone>>& zones() const { return snapshot_->zones; }
    uint32_t region_count() const { return region_count_; }
    uint64_t get(size_t zone, size_t pool, int32_t region, answer::Tier tier) const {
        const size_t s = slot(first_pool_[zone] + pool, region, tier);
        return settled(s) + own_[s].get();
    }

private:
    static constexpr uint32_t none = UINT32_MAX;

    size_t slots_per_pool() const { return (region_count_ + 1) * tier_slots; }
    size_t slot(size_t pool, int32_t region, answer::Tier tier) const;
    // The counts of the tables before this one: carried_ plus the previous
    // table's own counts, for the pools this one continues.
    uint64_t settled(size_t s) const;

    // Held, so that the labels stay readable and no zone's address is reused
    // while the table lives.
    std::shared_ptr<const zone::Snapshot> snapshot_;
    core::KeyIndex by_zone_;          // into snapshot_->zones, by the Zone's address
    std::vector<uint32_t> first_pool_;  // by zone: the index of its first pool among all pools
    uint32_t region_count_;
    std::shared_ptr<Counter[]> own_;    // by slot; shared with the next table, which reads it through
    std::vector<uint64_t> carried_;     // by slot: settled counts of older tables; empty: none
    std::shared_ptr<const Counter[]> previous_own_;  // the previous table's own_; null: none
    std::vector<uint32_t> previous_pool_;            // by pool: the same pool among the previous table's, or none
};

class PoolCounters {
public:
    explicit PoolCounters(uint32_t region_count) : region_count_(region_count) {}

    // The control loop, before it publishes a view with `snapshot`: builds
    // the table the worker will move to, from the one it counts into now,
    // and returns that one (null: none yet). The caller holds it until the
    // worker has moved on (control::Retired), so that the worker never
    // frees a table. Allocates; takes the lock only to read and to store a table.
    std::shared_ptr<const PoolCounterTable> prepare(std::shared_ptr<const zone::Snapshot> snapshot);
    // The worker, when it adopts a view: moves to the table prepared for its
    // snapshot. Builds one itself only when none was: a view published
    // without prepare(), or two snapshots published within one of the
    // worker's pauses between queries.
    void adopt(const std::shared_ptr<const zone::Snapshot>& snapshot);
    // The worker, per answer: no allocation, no lock.
    void count(const answer::PoolAnswer& answer) {
        if (answer.zone != nullptr && table_) table_->count(answer);
    }

    // Any thread: the table the worker counts into now (null before the first view).
    std::shared_ptr<const PoolCounterTable> table() const;

private:
    std::shared_ptr<PoolCounterTable> next_table(std::shared_ptr<const zone::Snapshot> snapshot,
                                                 const std::shared_ptr<PoolCounterTable>& from) const;

    const uint32_t region_count_;
    // Guards the swaps of table_ (by the worker, its only writer) and
    // pending_ against readers and prepare().
    mutable std::mutex mutex_;
    std::shared_ptr<PoolCounterTable> table_;
    // Built by prepare() from table_; dropped whenever the worker moves to
    // another table, so that it always continues the one the worker counts into.
    std::shared_ptr<PoolCounterTable> pending_;
};

}  // namespace dnsd::net
