#include "dnsd/fleet/quorum.hpp"

namespace dnsd::fleet {

Decision decide(std::span<const Vote> votes, const config::Quorum& quorum, Clock::time_point now,
                Clock::duration stale_after) {
    Decision decision;
    for (const Vote& vote : votes) {
        if (now - vote.heard > stale_after) continue;
        ++decision.counted;
        if (!vote.up) ++decision.down;
    }
    if (decision.counted == 0) return decision;
    using Rule = config::Quorum::Rule;
    switch (quorum.rule) {
        case Rule::any: decision.up = decision.down == 0; break;
        case Rule::majority: decision.up = decision.down * 2 <= decision.counted; break;
        case Rule::all: decision.up = decision.down < decision.counted; break;
        case Rule::at_least: decision.up = decision.down < quorum.count; break;
    }
    return decision;
}

}  // namespace dnsd::fleet
