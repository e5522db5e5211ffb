#pragma once
// A worker's memory of sticky tiers' rendezvous rankings (SPEC §4 step 5).
// Rendezvous hashing scores every member of the tier for the client's network,
// which a pool of 1,000 members pays on every query; but a client network asks
// again and again, and its ranking changes only with the pool. An entry keeps
// the first `ranked` members of one (pool, family, region, client network)
// ranking of every member of weight above 0, eligible or not: select() filters
// it by health and overrides per query, so they never make it stale. Only a new
// snapshot does, whose pools are new: clear() then forgets every entry.
//
// Fixed size, allocated once (zeroed pages, so untouched entries take no
// memory); finding and storing allocate nothing. One per worker, never shared.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "dnsd/core/address.hpp"

namespace dnsd::zone {
struct Pool;
}

namespace dnsd::answer {

class StickyCache {
public:
    static constexpr size_t ranked = 16;  // members kept per ranking
    // Rankings kept: `ways` in each of `sets` sets, the least recently used
    // giving way, so that a few thousand client networks asking in turn each
    // keep theirs rather than evicting each other from one slot.
    static constexpr size_t sets = 1024;  // a power of 2
    static constexpr size_t ways = 4;

    struct Key {
        const zone::Pool* pool = nullptr;  // in the snapshot adopted since the last clear()
        uint64_t network = 0;              // the hash of the client's /24 or /56
        int32_t region = -1;               // the tier's region; -1: every member
        core::Family family = core::Family::v4;
        bool operator==(const Key&) const = default;
    };
    struct Ranking {
        std::array<uint32_t, ranked> members;  // indices into the pool's members, first place first
        uint32_t count = 0;
    };

    StickyCache();

    // The ranking stored for `key`, else nullptr.
    const Ranking* find(const Key& key);
    // The ranking slot for `key`, emptied, for the caller to fill. It takes the
    // place of the least recently used ranking of its set.
    Ranking& store(const Key& key);
    // Forgets every ranking.
    void clear() { ++generation_; }

private:
    struct Slot {
        uint64_t generation;  // 0 (never stored) or the generation it was stored in
        uint64_t used;        // when last found or stored, by use_
        Key key;
        Ranking ranking;
    };
    struct Free {
        void operator()(Slot* slots) const { std::free(slots); }
    };
    // The first slot of key's set.
    Slot* set_of(const Key& key);

    std::unique_ptr<Slot[], Free> slots_;
    uint64_t generation_ = 1;
    uint64_t use_ = 0;
};

}  // namespace dnsd::answer
