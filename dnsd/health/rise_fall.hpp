#pragma once
// The rise/fall rule (SPEC §5): a target changes state only after `rise`
// consecutive successes (down → up) or `fall` consecutive failures (up → down).
// Pure, so that it is tested as a truth table.
#include <cstdint>

namespace dnsd::health {

struct RiseFall {
    bool up = true;       // members start up, so that a restart never blackholes traffic
    uint32_t streak = 0;  // consecutive results that disagree with `up`
};

// Applies one probe result; true when it changed `up`.
constexpr bool apply(RiseFall& state, bool success, uint32_t rise, uint32_t fall) {
    if (success == state.up) {
        state.streak = 0;
        return false;
    }
    ++state.streak;
    if (state.streak < (state.up ? fall : rise)) return false;
    state.up = success;
    state.streak = 0;
    return true;
}

}  // namespace dnsd::health
