#pragma once
// What the answer path knows about member health and runtime overrides.
// Published whole by the control loop (health::Monitor through
// control::State); never mutated after it is published.
//
// Health is kept per zone because Zones are shared between snapshots and a
// reload rebuilds only the zones that changed: a zone's probe slots
// (zone::Member::health_slot) index that zone's own table. Entries are found by
// the Zone they were built for rather than by position, so that a snapshot
// published a moment before its health (they are published one after the
// other) never reads another zone's slots.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dnsd/core/key_index.hpp"
#include "dnsd/health/handouts.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::health {

// One zone's health.
struct ZoneHealth {
    // By zone::Member::health_slot: 1 up, 0 down, `unproven` down and never
    // up yet: a member that joined at run time and has not passed its first
    // probe (SPEC §11), which not even fail open answers with. A slot past
    // the end (or no slot) counts as up.
    std::vector<uint8_t> up;
    static constexpr uint8_t unproven = 2;
    // Runtime overrides: states[pool][member] is each member's effective state
    // (the override where one is set, else the zone file's). A pool past the
    // end or with an empty list has no override.
    std::vector<std::vector<zone::MemberState>> states;
    // Where answers record until when they handed out each member (drain);
    // null: nothing is recorded.
    std::shared_ptr<const HandoutSlots> handouts;

    bool is_up(uint32_t slot) const { return slot >= up.size() || up[slot] == 1; }
    bool is_unproven(uint32_t slot) const { return slot < up.size() && up[slot] == unproven; }
    std::span<const zone::MemberState> states_of(size_t pool) const {
        if (pool >= states.size()) return {};
        return states[pool];
    }
};

class HealthView {
public:
    struct Entry {
        std::shared_ptr<const zone::Zone> zone;  // held, so that its address is not reused while we are
        ZoneHealth health;
    };

    // Adds `zone`'s health; a zone added twice keeps its first.
    void add(std::shared_ptr<const zone::Zone> zone, ZoneHealth health) {
        const auto key = zone.get();
        if (by_zone_.insert(key, static_cast<uint32_t>(entries_.size()),
                            [this](uint32_t e) { return entries_[e].zone.get(); }) == core::KeyIndex::none)
            entries_.push_back({std::move(zone), std::move(health)});
    }
    // Room for `count` zones.
    void reserve(size_t count) {
        entries_.reserve(count);
        by_zone_.reserve(count);
    }

    const std::vector<Entry>& zones() const { return entries_; }

    // The health of `zone`, or nullptr (every member up, no override) when the
    // view has none for it: one probe of an index by the Zone's address,
    // whatever the number of zones.
    const ZoneHealth* find(const zone::Zone* zone) const {
        const uint32_t e = by_zone_.find(zone, [this](uint32_t i) { return entries_[i].zone.get(); });
        return e == core::KeyIndex::none ? nullptr : &entries_[e].health;
    }

private:
    std::vector<Entry> entries_;
    core::KeyIndex by_zone_;  // into entries_
};

}  // namespace dnsd::health
