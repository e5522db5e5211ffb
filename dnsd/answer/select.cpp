#include "dnsd/answer/select.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>

#include "dnsd/core/hash.hpp"

namespace dnsd::answer {
namespace {

using zone::Member;
using zone::MemberState;
using zone::Policy;
using zone::Pool;

using core::golden_gamma;
using core::mix64;
using core::stable_hash;

// A uniform double in the open interval (0, 1) from the top 53 bits of `bits`:
// never 0 (ln would be -inf) and never 1 (ln would be 0, a division by zero).
double open_unit(uint64_t bits) { return (static_cast<double>(bits >> 11) + 0.5) * 0x1p-53; }

// Efraimidis–Spirakis key ln(u) / w: sorting by it, largest first, draws a
// weighted order without replacement, so the first place goes to each member
// with probability w / Σw. Weighted rendezvous hashing's score -w / ln(u) is
// an increasing function of the same key, so sticky orders by it too, with u
// taken from a hash instead of a random draw. Weight 0 only reaches here when
// every candidate has weight 0; those are ordered uniformly.
double weighted_key(uint64_t bits, uint32_t weight) {
    return std::log(open_unit(bits)) / static_cast<double>(std::max<uint32_t>(weight, 1));
}
// The same order where every weight is alike: ln and the division keep the
// order of the 53 bits open_unit takes, so the bits are the key. (Rounding
// can make ln's results for two neighbouring values equal, which the bits
// keep apart: about one pair in 2^50, and then only their order differs.)
double uniform_key(uint64_t bits) { return static_cast<double>(bits >> 11); }

// Member m's key for `bits`: the pool's weights decide whether the logarithm is
// needed, never the group being ordered, so that a member's key, and with it
// the relative order of any two members, is the same in every group.
double member_key(const Pool& pool, uint64_t bits, uint32_t m) {
    return pool.weights_alike ? uniform_key(bits) : weighted_key(bits, pool.members[m].weight);
}

// Sticky's rendezvous key of member m for the client network hashed to
// `network`: it depends only on the two, so a client moves only when its own
// member leaves the tier.
double sticky_key(const Pool& pool, uint64_t network, uint32_t m) {
    const auto& address = pool.members[m].address;
    return member_key(pool, stable_hash(address.bytes.data(), address.size(), network), m);
}

// The order both policies put keys in: largest first, equal keys in member
// order, so that the result never depends on the algorithm.
bool ranks_before(double ka, uint32_t a, double kb, uint32_t b) { return ka > kb || (ka == kb && a < b); }

// Draws a weighted tier's first members take at most, however many are shown,
// so that the order never depends on max_answers; tiers up to this size are
// ordered by key instead (order_group), which costs them less.
constexpr size_t weighted_draws = 64;

// std::upper_bound without branches on the data: the first position in
// `sums` (ascending, its last above `target`) whose sum is above `target`.
// Random targets would mispredict about every other step of a branching
// search, which costs a 1,000-member tier more than the rest of its answer.
size_t first_above(std::span<const uint64_t> sums, uint64_t target) {
    size_t base = 0;
    for (size_t n = sums.size(); n > 1;) {
        const size_t half = n / 2;
        base = sums[base + half] <= target ? base + half : base;
        n -= half;
    }
    return base + (sums[base] <= target);
}

// The first members of a weighted tier's order, drawn one at a time from the
// tier's summed weights (one binary search each); a draw that lands on a
// member not eligible or already drawn is drawn again. Each place so goes to
// an eligible member not yet placed with probability weight / the weights of
// all those: a weighted order without replacement, the distribution the keys
// of order_group draw. Stops at `wanted` members, at every member of weight
// above 0, or after weighted_draws draws; returns how many were drawn.
size_t draw_weighted(const SelectInput& in, const zone::RegionTier& tier, size_t wanted,
                     std::span<uint32_t, weighted_draws> drawn) {
    const uint64_t total = tier.cumulative.empty() ? 0 : tier.cumulative.back();
    if (total == 0) return 0;
    wanted = std::min<size_t>(wanted, tier.drawable);
    // Past the stream positions order_group gives the members (1 .. size).
    const uint64_t first = in.pool->members.size() + 1;
    size_t count = 0;
    for (size_t i = 0; i < weighted_draws && count < wanted; ++i) {
        const uint64_t bits = mix64(in.random + (first + i) * golden_gamma);
        const auto target = static_cast<uint64_t>((static_cast<unsigned __int128>(bits) * total) >> 64);
        const uint32_t m = tier.members[first_above(tier.cumulative, target)];
        const auto placed = drawn.first(count);
        if (eligible(in, m) && std::find(placed.begin(), placed.end(), m) == placed.end()) drawn[count++] = m;
    }
    return count;
}

// Keeps the entries of `list` for which `keep` holds, in their order; returns
// how many there are.
template <class Keep>
size_t keep_if(std::span<uint32_t> list, Keep keep) {
    return static_cast<size_t>(std::remove_if(list.begin(), list.end(), [&](uint32_t m) { return !keep(m); }) -
                               list.begin());
}

// Policy rules that narrow the candidates before they are ordered: priority
// keeps the lowest priority number present; weighted and sticky drop weight-0
// members unless nothing else is left.
size_t narrow(const Pool& pool, std::span<uint32_t> list) {
    const auto& members = pool.members;
    switch (pool.policy) {
        case Policy::priority: {
            uint32_t lowest = UINT32_MAX;
            for (uint32_t m : list) lowest = std::min(lowest, members[m].priority);
            return keep_if(list, [&](uint32_t m) { return members[m].priority == lowest; });
        }
        case Policy::weighted:
        case Policy::sticky:
            if (std::any_of(list.begin(), list.end(), [&](uint32_t m) { return members[m].weight > 0; }))
                return keep_if(list, [&](uint32_t m) { return members[m].weight > 0; });
            return list.size();
        case Policy::round_robin: return list.size();
    }
    return list.size();
}

// Puts the `wanted` members of `group` with the largest keys (left in
// scratch[member] as double bits) first, in ranks_before's order. The rest,
// which no answer shows, stay unordered: a wide pool that answers with a few
// members costs a selection, not a sort.
void order_by_key(std::span<uint32_t> group, size_t wanted, std::span<const uint64_t> scratch) {
    const auto before = [&](uint32_t a, uint32_t b) {
        return ranks_before(std::bit_cast<double>(scratch[a]), a, std::bit_cast<double>(scratch[b]), b);
    };
    const auto end = group.begin() + static_cast<ptrdiff_t>(wanted);
    if (wanted < group.size()) std::nth_element(group.begin(), end, group.end(), before);
    std::sort(group.begin(), end, before);
}

// Orders one tier's members by the pool's policy, at least its first
// `wanted`. `client_key` is the hash of the client's network (sticky only).
void order_group(const SelectInput& in, uint64_t client_key, std::span<uint32_t> group, size_t wanted,
                 std::span<uint64_t> scratch) {
    const Pool& pool = *in.pool;
    switch (pool.policy) {
        case Policy::round_robin:
        case Policy::priority:
            std::rotate(group.begin(), group.begin() + static_cast<ptrdiff_t>(in.counter % group.size()),
                        group.end());
            return;
        case Policy::weighted:
            // The (m + 1)-th output of a splitmix64 stream seeded with the draw:
            // one independent uniform per member from a single random value.
            for (uint32_t m : group)
                scratch[m] = std::bit_cast<uint64_t>(member_key(pool, mix64(in.random + (m + 1) * golden_gamma), m));
            order_by_key(group, wanted, scratch);
            return;
        case Policy::sticky:
            for (uint32_t m : group) scratch[m] = std::bit_cast<uint64_t>(sticky_key(pool, client_key, m));
            order_by_key(group, wanted, scratch);
            return;
    }
}

uint64_t client_network_key(const core::Address& client) {
    // A resolver's clients share a /24 (IPv4) or /56 (IPv6): hashing the
    // network keeps them together and matches the ECS scope sticky answers with.
    const core::Address network = client.masked(client.family == core::Family::v4 ? 24 : 56);
    return stable_hash(network.bytes.data(), network.size(), 0);
}

// The first StickyCache::ranked members of `tier`'s rendezvous order for the
// client network hashed to `network`, among those of weight above 0, eligible
// or not: one pass over the tier, keeping the best so far in order.
void rank_sticky(const Pool& pool, const zone::RegionTier& tier, uint64_t network, StickyCache::Ranking& ranking) {
    std::array<double, StickyCache::ranked> keys;
    size_t count = 0;
    for (const uint32_t m : tier.members) {
        if (pool.members[m].weight == 0) continue;
        const double key = sticky_key(pool, network, m);
        if (count == keys.size() && !ranks_before(key, m, keys[count - 1], ranking.members[count - 1])) continue;
        size_t at = std::min(count, keys.size() - 1);
        for (; at > 0 && ranks_before(key, m, keys[at - 1], ranking.members[at - 1]); --at) {
            keys[at] = keys[at - 1];
            ranking.members[at] = ranking.members[at - 1];
        }
        keys[at] = key;
        ranking.members[at] = m;
        count = std::min(count + 1, keys.size());
    }
    ranking.count = static_cast<uint32_t>(count);
}

// A wide sticky tier of the client's region answers from the worker's ranking
// of it for the client's network, made once per network and pool: its first
// eligible members are the answer when there are max_answers of them, or when
// the ranking holds every member of weight above 0 and some are eligible.
// Else (a small tier, one without enough eligible members ranked, no cache)
// returns false, for select() to order the tier itself.
bool select_ranked(const SelectInput& in, std::span<uint32_t> out, Selection& result) {
    const Pool& pool = *in.pool;
    if (in.sticky_cache == nullptr || pool.max_answers == 0 || pool.max_answers > StickyCache::ranked) return false;
    const int32_t region = in.region_order.empty() ? -1 : in.region_order[0];
    const zone::RegionTier* tier = pool.region_tier(in.family, region);
    if (tier == nullptr || tier->members.size() <= StickyCache::ranked) return false;
    const StickyCache::Key key{&pool, client_network_key(in.client), region, in.family};
    const StickyCache::Ranking* ranking = in.sticky_cache->find(key);
    if (ranking == nullptr) {
        StickyCache::Ranking& made = in.sticky_cache->store(key);
        rank_sticky(pool, *tier, key.network, made);
        ranking = &made;
    }
    size_t count = 0;
    for (size_t i = 0; i < ranking->count && count < pool.max_answers; ++i)
        if (eligible(in, ranking->members[i])) out[count++] = ranking->members[i];
    if (count < pool.max_answers && !(count > 0 && ranking->count == tier->drawable)) return false;
    result.count = count;
    result.region = region;
    return true;
}

}  // namespace

uint64_t tier_of(const zone::Member& member, std::span<const int32_t> order) {
    if (member.region < 0) return 0;
    for (size_t i = 0; i < order.size(); ++i)
        if (order[i] == member.region) return i;
    return order.size();
}

Selection select(const SelectInput& in, std::span<uint32_t> out, std::span<uint64_t> scratch) {
    assert(in.pool != nullptr);
    const Pool& pool = *in.pool;
    assert(out.size() >= pool.members.size() && scratch.size() >= pool.members.size());
    const auto& family = in.family == core::Family::v4 ? pool.v4 : pool.v6;
    const auto order = in.region_order;

    Selection result;
    result.ttl = pool.ttl;
    if (family.empty()) return result;

    if (pool.policy == Policy::sticky && select_ranked(in, out, result)) return result;

    // A wide weighted tier draws its first members from its summed weights,
    // without a look at the others: when the client's tier has as many
    // eligible members as the answer shows, that is the answer.
    std::array<uint32_t, weighted_draws> drawn;
    size_t drawn_count = 0;
    const zone::RegionTier* wide = pool.policy == Policy::weighted
                                       ? pool.region_tier(in.family, order.empty() ? -1 : order[0])
                                       : nullptr;
    if (wide != nullptr && wide->members.size() > weighted_draws) {
        const size_t wanted = pool.max_answers > 0 ? pool.max_answers : SIZE_MAX;
        drawn_count = draw_weighted(in, *wide, wanted, drawn);
        if (drawn_count > 0 && drawn_count == std::min<size_t>(wanted, wide->drawable)) {
            std::copy_n(drawn.begin(), drawn_count, out.begin());
            result.count = drawn_count;
            result.region = order.empty() ? -1 : order[0];
            return result;
        }
    }

    // scratch[m] holds member m's tier until the policy overwrites it with a
    // key; `out` the eligible members in a tier, until the best tier's
    // replace them.
    uint64_t best = UINT64_MAX;
    size_t candidates = 0;
    for (uint32_t m : family) {
        scratch[m] = tier_of(pool.members[m], order);
        bool in_a_tier = order.empty() || scratch[m] < order.size();
        if (in_a_tier && eligible(in, m)) {
            best = std::min(best, scratch[m]);
            out[candidates++] = m;
        }
    }

    size_t count = 0;
    if (best != UINT64_MAX) {
        for (size_t i = 0; i < candidates; ++i)
            if (scratch[out[i]] == best) out[count++] = out[i];
        result.tier = best == 0 ? Tier::primary : Tier::fallback;
        result.region = order.empty() ? -1 : order[best];
    } else {
        // Fail open: health is more likely wrong than every member dead, so
        // answer with everything the operator has not drained, tier by tier;
        // but never with a newcomer that has yet to pass a probe.
        for (uint32_t m : family)
            if (state_of(in, m) != MemberState::down &&
                !(in.health != nullptr && in.health->is_unproven(pool.members[m].health_slot)))
                out[count++] = m;
        std::sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(count), [&](uint32_t a, uint32_t b) {
            return scratch[a] < scratch[b] || (scratch[a] == scratch[b] && a < b);
        });
        result.tier = Tier::fail_open;
        result.region = -1;
    }
    if (result.tier != Tier::primary) result.ttl = pool.degraded_ttl;

    const size_t listed = narrow(pool, out.first(count));
    count = listed;
    if (pool.max_answers > 0) count = std::min<size_t>(count, pool.max_answers);
    const uint64_t client_key = pool.policy == Policy::sticky ? client_network_key(in.client) : 0;
    // Members drawn first (a wide weighted tier, in which they are eligible)
    // keep their places; the rest of the tier follows in key order.
    if (drawn_count > 0) {
        const auto list = out.first(listed);
        const auto placed = std::span(drawn).first(drawn_count);
        const auto rest = std::remove_if(list.begin(), list.end(), [&](uint32_t m) {
            return std::find(placed.begin(), placed.end(), m) != placed.end();
        });
        std::copy_backward(list.begin(), rest, list.end());
        std::copy(placed.begin(), placed.end(), list.begin());
    }
    // Runs of equal tier, up to the last member answered; outside fail open
    // the whole list is one run.
    for (size_t begin = drawn_count; begin < count;) {
        size_t end = begin + 1;
        while (end < listed && scratch[out[end]] == scratch[out[begin]]) ++end;
        order_group(in, client_key, out.subspan(begin, end - begin), std::min(end, count) - begin, scratch);
        begin = end;
    }
    result.count = count;
    return result;
}

}  // namespace dnsd::answer
