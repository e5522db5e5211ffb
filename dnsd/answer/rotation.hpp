#pragma once
// Per-worker rotation counters, one per rotating set (a static RRset of several
// records, or a pool's members of one family), so that N consecutive queries
// for one name give each of its N records the first place once, whatever other
// names and types are asked in between.
#include <cstdint>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::answer {

class Rotations {
public:
    // Makes room for `sets` distinct sets and restarts every counter. Called
    // when the worker adopts a new view, never per query.
    void reset(size_t sets);

    // This query's counter for the set, bumped for the next one. No allocation:
    // an open-addressing table keyed by the set's address, at most half full
    // while the view's sets are all that is asked for.
    uint64_t next(const zone::RRset& rrset) { return next(reinterpret_cast<uintptr_t>(&rrset)); }
    uint64_t next(const zone::Pool& pool, core::Family family) {
        // A Pool is aligned to at least 8, so the low bit is free to tell the families apart.
        return next(reinterpret_cast<uintptr_t>(&pool) | (family == core::Family::v6 ? 1u : 0u));
    }

private:
    uint64_t next(uintptr_t key);

    struct Slot {
        uintptr_t key = 0;  // 0: free
        uint64_t count = 0;
    };
    std::vector<Slot> slots_;  // a power of two in size
};

}  // namespace dnsd::answer
