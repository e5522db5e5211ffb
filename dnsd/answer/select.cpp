#include "dnsd/answer/select.hpp"

#include <algorithm>
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
// scratch[member] as double bits) first, in key order, largest first; equal
// keys keep member order, so the result never depends on the algorithm. The
// rest, which no answer shows, stay unordered: a wide pool that answers with a
// few members costs a selection, not a sort.
void order_by_key(std::span<uint32_t> group, size_t wanted, std::span<const uint64_t> scratch) {
    const auto before = [&](uint32_t a, uint32_t b) {
        double ka = std::bit_cast<double>(scratch[a]), kb = std::bit_cast<double>(scratch[b]);
        return ka > kb || (ka == kb && a < b);
    };
    const auto end = group.begin() + static_cast<ptrdiff_t>(wanted);
    if (wanted < group.size()) std::nth_element(group.begin(), end, group.end(), before);
    std::sort(group.begin(), end, before);
}

// Orders one tier's members by the pool's policy, at least its first
// `wanted`. `client_key` is the hash of the client's network (sticky only).
void order_group(const SelectInput& in, uint64_t client_key, std::span<uint32_t> group, size_t wanted,
                 std::span<uint64_t> scratch) {
    const auto& members = in.pool->members;
    switch (in.pool->policy) {
        case Policy::round_robin:
        case Policy::priority:
            std::rotate(group.begin(), group.begin() + static_cast<ptrdiff_t>(in.counter % group.size()),
                        group.end());
            return;
        case Policy::weighted:
            // The (m + 1)-th output of a splitmix64 stream seeded with the draw:
            // one independent uniform per member from a single random value.
            for (uint32_t m : group)
                scratch[m] = std::bit_cast<uint64_t>(
                    weighted_key(mix64(in.random + (m + 1) * golden_gamma), members[m].weight));
            order_by_key(group, wanted, scratch);
            return;
        case Policy::sticky:
            // The score depends only on the client's network and the member's
            // address, so a client moves only when its own member leaves the tier.
            for (uint32_t m : group) {
                const auto& address = members[m].address;
                scratch[m] = std::bit_cast<uint64_t>(
                    weighted_key(stable_hash(address.bytes.data(), address.size(), client_key), members[m].weight));
            }
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

}  // namespace

zone::MemberState state_of(const SelectInput& in, uint32_t m) {
    return m < in.states.size() ? in.states[m] : in.pool->members[m].state;
}

bool eligible(const SelectInput& in, uint32_t m) {
    switch (state_of(in, m)) {
        case MemberState::up: return true;
        case MemberState::down: return false;
        case MemberState::automatic: break;
    }
    return in.health == nullptr || in.health->is_up(in.pool->members[m].health_slot);
}

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

    // scratch[m] holds member m's tier until the policy overwrites it with a key.
    uint64_t best = UINT64_MAX;
    for (uint32_t m : family) {
        scratch[m] = tier_of(pool.members[m], order);
        bool in_a_tier = order.empty() || scratch[m] < order.size();
        if (in_a_tier && eligible(in, m)) best = std::min(best, scratch[m]);
    }

    size_t count = 0;
    if (best != UINT64_MAX) {
        for (uint32_t m : family)
            if (scratch[m] == best && eligible(in, m)) out[count++] = m;
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
    // Runs of equal tier, up to the last member answered; outside fail open
    // the whole list is one run.
    for (size_t begin = 0; begin < count;) {
        size_t end = begin + 1;
        while (end < listed && scratch[out[end]] == scratch[out[begin]]) ++end;
        order_group(in, client_key, out.subspan(begin, end - begin), std::min(end, count) - begin, scratch);
        begin = end;
    }
    result.count = count;
    return result;
}

}  // namespace dnsd::answer
