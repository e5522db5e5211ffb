#pragma once
// When the answers handed out with each member run out (SPEC §11, drain).
//
// Every member has one Slot: the Unix second at which the last answer that
// carried it expires in a resolver's cache. Workers raise it with a relaxed
// compare-and-swap as they answer (no lock, no allocation); the control loop
// reads it to say when a member taken out is safe to remove.
//
// A slot belongs to the member (zone, pool, address), not to a compiled
// Zone: a reload or a registration that rebuilds the zone keeps the member's
// slot, and a worker still answering from the previous view raises the same
// one. Slots never move (a deque) and are never freed while the server runs.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dnsd/core/address.hpp"

namespace dnsd::health {

class Handouts {
public:
    using Slot = std::atomic<uint32_t>;  // Unix seconds; 0: never handed out

    // The answer path: `slot` expires no earlier than `expires`. A slot
    // already at or past it is only read, so a member answered many times a
    // second is written about once a second per worker.
    static void record(Slot& slot, uint32_t expires) noexcept {
        uint32_t seen = slot.load(std::memory_order_relaxed);
        while (seen < expires && !slot.compare_exchange_weak(seen, expires, std::memory_order_relaxed)) {
        }
    }

    // The control loop: the member's slot, made on first use.
    Slot& slot(std::string_view zone, std::string_view pool, const core::Address& address);

private:
    std::deque<Slot> slots_;
    std::unordered_map<std::string, Slot*> by_member_;
};

// One zone's slots as the answer path finds them: slots[pool][member], in the
// compiled Zone's order. Keeps the Handouts alive for the views that hold it.
struct HandoutSlots {
    std::shared_ptr<Handouts> owner;
    std::vector<std::vector<Handouts::Slot*>> slots;

    // The answer path: `members` (indices into the pool) were handed out until `expires`.
    void handed_out(size_t pool, std::span<const uint32_t> members, uint32_t expires) const noexcept {
        if (pool >= slots.size()) return;
        const auto& of_pool = slots[pool];
        for (uint32_t m : members)
            if (m < of_pool.size()) Handouts::record(*of_pool[m], expires);
    }
};

// The drain rule, pure. A member taken out at `out_since` is safe to remove
// once no answer handed out with it can still be cached: at the later of
// `out_since` and its slot's expiry.
using SystemClock = std::chrono::system_clock;
inline SystemClock::time_point safe_to_remove_at(SystemClock::time_point out_since, uint32_t expires) {
    return std::max(out_since, SystemClock::time_point(std::chrono::seconds(expires)));
}

}  // namespace dnsd::health
