#pragma once
// Per-worker rotation counters, one per rotating set (a static RRset of several
// records, or a pool's members of one family), so that N consecutive queries
// for one name give each of its N records the first place once, whatever other
// names and types are asked in between, and whatever health, overrides or
// reloads are published meanwhile: a set is found by its key (RRset and Pool
// rotation keys), which a reload that leaves the set unchanged keeps.
#include <cstdint>
#include <vector>

#include "dnsd/zone/snapshot.hpp"

namespace dnsd::answer {

class Rotations {
public:
    // Makes room for every set of `snapshot`, keeping the counters of the sets
    // it still has. Called when the worker adopts a new snapshot, never per
    // query; allocates and sweeps out the counters of sets gone only when the
    // table must grow, or once those outnumber the live ones.
    void adopt(const zone::Snapshot& snapshot);

    // This query's counter for the set with `key`, bumped for the next one.
    // No allocation: an open-addressing table at most three quarters full.
    uint64_t next(uint64_t key);

    // Counters held, for tests: the live sets asked for plus those not yet swept.
    size_t size() const { return used_; }

private:
    struct Slot {
        uint64_t key = 0;  // 0: free
        uint64_t count = 0;
    };
    std::vector<Slot> slots_;  // a power of two in size, or empty
    size_t used_ = 0;
};

}  // namespace dnsd::answer
