// Pool member selection (SPEC §4 steps 3-6) as a truth table: pools built by
// hand, with the counter, the random draw and health injected.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "dnsd/answer/select.hpp"
#include "dnsd/core/hash.hpp"

using dnsd::answer::select;
using dnsd::answer::SelectInput;
using dnsd::answer::Selection;
using dnsd::core::stable_hash;
using dnsd::answer::Tier;
using dnsd::core::Address;
using dnsd::core::Family;
using dnsd::health::ZoneHealth;
using dnsd::zone::Member;
using dnsd::zone::MemberState;
using dnsd::zone::Policy;
using dnsd::zone::Pool;

namespace {

struct MemberSpec {
    const char* address;
    int32_t region = -1;
    uint32_t weight = 1;
    uint32_t priority = 0;
    MemberState state = MemberState::automatic;
};

// A pool as the zone compiler would build it: v4/v6 index lists in file order,
// health slot i for member i.
Pool make_pool(Policy policy, std::vector<MemberSpec> specs) {
    Pool pool;
    pool.name = "pool";
    pool.policy = policy;
    pool.ttl = 60;
    pool.degraded_ttl = 10;
    for (const auto& spec : specs) {
        Member member;
        member.address = *Address::parse(spec.address);
        member.region = spec.region;
        member.weight = spec.weight;
        member.priority = spec.priority;
        member.state = spec.state;
        member.health_slot = static_cast<uint32_t>(pool.members.size());
        (member.address.family == Family::v4 ? pool.v4 : pool.v6).push_back(member.health_slot);
        pool.uses_geo = pool.uses_geo || spec.region >= 0;
        pool.members.push_back(member);
    }
    pool.index_weights();
    return pool;
}

// Health with the listed members' slots down, every other slot up.
ZoneHealth health_down(const Pool& pool, std::vector<size_t> down) {
    ZoneHealth view;
    view.up.assign(pool.members.size(), 1);
    for (size_t m : down) view.up[m] = 0;
    return view;
}

struct Answer {
    Selection selection;
    std::vector<std::string> addresses;  // in answer order
};

// Runs select with buffers of exactly the pool's size, pre-filled with junk so
// that nothing relies on their initial contents.
Answer run(const SelectInput& in) {
    std::vector<uint32_t> out(in.pool->members.size(), 0xdeadbeef);
    std::vector<uint64_t> scratch(in.pool->members.size(), 0x5a5a5a5a5a5a5a5aull);
    Answer answer;
    answer.selection = select(in, out, scratch);
    for (size_t i = 0; i < answer.selection.count; ++i)
        answer.addresses.push_back(in.pool->members.at(out[i]).address.to_string());
    return answer;
}

std::vector<std::string> order(const Pool& pool, const ZoneHealth* health = nullptr, uint64_t counter = 0,
                               std::vector<int32_t> regions = {}) {
    SelectInput in;
    in.pool = &pool;
    in.health = health;
    in.region_order = regions;
    in.counter = counter;
    return run(in).addresses;
}

std::string first_for_client(const Pool& pool, const char* client, const ZoneHealth* health = nullptr,
                             Family family = Family::v4) {
    SelectInput in;
    in.pool = &pool;
    in.family = family;
    in.health = health;
    in.client = *Address::parse(client);
    auto answer = run(in);
    REQUIRE(answer.selection.count > 0);
    return answer.addresses.front();
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("round-robin rotates the tier by one per counter", "[answer][select]") {
    auto pool = make_pool(Policy::round_robin, {{"192.0.2.1"}, {"192.0.2.2"}, {"192.0.2.3"}});
    CHECK(order(pool, nullptr, 0) == Strings{"192.0.2.1", "192.0.2.2", "192.0.2.3"});
    CHECK(order(pool, nullptr, 1) == Strings{"192.0.2.2", "192.0.2.3", "192.0.2.1"});
    CHECK(order(pool, nullptr, 2) == Strings{"192.0.2.3", "192.0.2.1", "192.0.2.2"});
    CHECK(order(pool, nullptr, 3) == Strings{"192.0.2.1", "192.0.2.2", "192.0.2.3"});
}

TEST_CASE("round-robin gives each of N members the first place once in N consecutive counters",
          "[answer][select]") {
    auto pool = make_pool(Policy::round_robin,
                          {{"192.0.2.1"}, {"192.0.2.2"}, {"192.0.2.3"}, {"192.0.2.4"}, {"192.0.2.5"}});
    ZoneHealth health = health_down(pool, {1});  // the tier is the 4 others
    for (uint64_t start : {uint64_t{0}, uint64_t{7}, uint64_t{1} << 40}) {
        std::map<std::string, int> firsts;
        for (uint64_t counter = start; counter < start + 4; ++counter)
            firsts[order(pool, &health, counter).front()]++;
        CHECK(firsts == std::map<std::string, int>{
                            {"192.0.2.1", 1}, {"192.0.2.3", 1}, {"192.0.2.4", 1}, {"192.0.2.5", 1}});
    }
}

TEST_CASE("each family answers only with its own members, none is NODATA", "[answer][select]") {
    auto pool = make_pool(Policy::round_robin, {{"192.0.2.1"}, {"2001:db8::1"}, {"192.0.2.2"}, {"2001:db8::2"}});
    SelectInput in;
    in.pool = &pool;
    in.family = Family::v4;
    CHECK(run(in).addresses == Strings{"192.0.2.1", "192.0.2.2"});
    in.family = Family::v6;
    CHECK(run(in).addresses == Strings{"2001:db8::1", "2001:db8::2"});

    auto v4_only = make_pool(Policy::round_robin, {{"192.0.2.1"}});
    in.pool = &v4_only;
    auto answer = run(in);
    CHECK(answer.selection.count == 0);
}

TEST_CASE("forced states override health, auto follows it", "[answer][select]") {
    auto pool = make_pool(Policy::round_robin, {{"192.0.2.1", -1, 1, 0, MemberState::up},
                                                {"192.0.2.2", -1, 1, 0, MemberState::down},
                                                {"192.0.2.3"},
                                                {"192.0.2.4"}});
    // Forced up answers although its probe says down; forced down never
    // answers although its probe says up; auto follows the probe.
    ZoneHealth health = health_down(pool, {0, 3});
    CHECK(order(pool, &health) == Strings{"192.0.2.1", "192.0.2.3"});
    // No health view, or slots past its end, count as up.
    CHECK(order(pool) == Strings{"192.0.2.1", "192.0.2.3", "192.0.2.4"});
    ZoneHealth short_view;
    short_view.up = {1};
    CHECK(order(pool, &short_view) == Strings{"192.0.2.1", "192.0.2.3", "192.0.2.4"});
}

TEST_CASE("a member without a probe slot counts as up", "[answer][select]") {
    auto pool = make_pool(Policy::round_robin, {{"192.0.2.1"}, {"192.0.2.2"}});
    pool.members[1].health_slot = UINT32_MAX;
    ZoneHealth health;
    health.up = {0, 0};
    auto answer = order(pool, &health);
    CHECK(answer == Strings{"192.0.2.2"});
}

TEST_CASE("with nothing eligible, fail open answers every member not forced down", "[answer][select]") {
    auto pool = make_pool(Policy::round_robin, {{"192.0.2.1"},
                                                {"192.0.2.2", -1, 1, 0, MemberState::down},
                                                {"192.0.2.3"}});
    ZoneHealth health = health_down(pool, {0, 1, 2});
    SelectInput in;
    in.pool = &pool;
    in.health = &health;
    auto answer = run(in);
    CHECK(answer.addresses == Strings{"192.0.2.1", "192.0.2.3"});
    CHECK(answer.selection.tier == Tier::fail_open);
    CHECK(answer.selection.ttl == 10);
    CHECK(answer.selection.region == -1);

    SECTION("every member forced down: nothing to answer") {
        for (auto& member : pool.members) member.state = MemberState::down;
        auto none = run(in);
        CHECK(none.selection.count == 0);
        CHECK(none.selection.tier == Tier::fail_open);
    }
}

TEST_CASE("fail open lists members in region order, no-region members once with the first", "[answer][select]") {
    auto pool = make_pool(Policy::round_robin, {{"192.0.2.1", 0},
                                                {"192.0.2.2", -1},
                                                {"192.0.2.3", 1},
                                                {"192.0.2.4", 2},
                                                {"192.0.2.5", 0}});
    ZoneHealth health = health_down(pool, {0, 1, 2, 3, 4});
    // Region 2 first, then 0; region 1 is listed nowhere and comes last.
    std::vector<int32_t> regions{2, 0};
    SelectInput in;
    in.pool = &pool;
    in.health = &health;
    in.region_order = regions;
    auto answer = run(in);
    CHECK(answer.addresses == Strings{"192.0.2.2", "192.0.2.4", "192.0.2.1", "192.0.2.5", "192.0.2.3"});
    CHECK(answer.selection.tier == Tier::fail_open);
    CHECK(answer.selection.region == -1);
    // The policy still orders each region's members; regions keep their order.
    in.counter = 1;
    CHECK(run(in).addresses == Strings{"192.0.2.4", "192.0.2.2", "192.0.2.5", "192.0.2.1", "192.0.2.3"});
}

TEST_CASE("region tiers: the first region with an eligible member answers", "[answer][select]") {
    auto pool = make_pool(Policy::round_robin, {{"192.0.2.1", 0}, {"192.0.2.2", 1}, {"192.0.2.3", 1},
                                                {"192.0.2.9", -1}, {"192.0.2.4", 2}});
    SelectInput in;
    in.pool = &pool;
    std::vector<int32_t> regions{1, 0, 2};
    in.region_order = regions;

    SECTION("primary: the client's region plus the members of no region") {
        auto answer = run(in);
        CHECK(answer.addresses == Strings{"192.0.2.2", "192.0.2.3", "192.0.2.9"});
        CHECK(answer.selection.tier == Tier::primary);
        CHECK(answer.selection.region == 1);
        CHECK(answer.selection.ttl == 60);
        std::vector<int32_t> other{0, 1, 2};
        in.region_order = other;
        auto region0 = run(in);
        CHECK(region0.addresses == Strings{"192.0.2.1", "192.0.2.9"});
        CHECK(region0.selection.region == 0);
    }
    SECTION("a no-region member alone keeps the primary tier up") {
        ZoneHealth health = health_down(pool, {1, 2});
        in.health = &health;
        auto answer = run(in);
        CHECK(answer.addresses == Strings{"192.0.2.9"});
        CHECK(answer.selection.tier == Tier::primary);
        CHECK(answer.selection.region == 1);
    }
    SECTION("fallback: the next region in order, with the degraded ttl") {
        ZoneHealth health = health_down(pool, {1, 2, 3});
        in.health = &health;
        auto answer = run(in);
        CHECK(answer.addresses == Strings{"192.0.2.1"});
        CHECK(answer.selection.tier == Tier::fallback);
        CHECK(answer.selection.region == 0);
        CHECK(answer.selection.ttl == 10);
    }
    SECTION("fallback goes further down the order") {
        ZoneHealth health = health_down(pool, {0, 1, 2, 3});
        in.health = &health;
        auto answer = run(in);
        CHECK(answer.addresses == Strings{"192.0.2.4"});
        CHECK(answer.selection.tier == Tier::fallback);
        CHECK(answer.selection.region == 2);
    }
    SECTION("members of a region not in the order are in no tier") {
        std::vector<int32_t> only_zero{0};
        in.region_order = only_zero;
        ZoneHealth health = health_down(pool, {0, 3});
        in.health = &health;
        auto answer = run(in);
        CHECK(answer.selection.tier == Tier::fail_open);
        CHECK(answer.addresses == Strings{"192.0.2.1", "192.0.2.9", "192.0.2.2", "192.0.2.3", "192.0.2.4"});
    }
    SECTION("without a region order every member is one tier") {
        in.region_order = {};
        auto answer = run(in);
        CHECK(answer.addresses.size() == 5);
        CHECK(answer.selection.tier == Tier::primary);
        CHECK(answer.selection.region == -1);
    }
}

TEST_CASE("max_answers keeps the first N of the ordered tier", "[answer][select]") {
    auto pool = make_pool(Policy::round_robin, {{"192.0.2.1"}, {"192.0.2.2"}, {"192.0.2.3"}});
    pool.max_answers = 2;
    CHECK(order(pool, nullptr, 2) == Strings{"192.0.2.3", "192.0.2.1"});
    pool.max_answers = 5;
    CHECK(order(pool, nullptr, 0).size() == 3);
    pool.max_answers = 1;
    ZoneHealth health = health_down(pool, {0, 1, 2});
    SelectInput in;
    in.pool = &pool;
    in.health = &health;
    auto fail_open = run(in);
    CHECK(fail_open.selection.tier == Tier::fail_open);
    CHECK(fail_open.addresses == Strings{"192.0.2.1"});
}

TEST_CASE("weighted: the first place goes to each member in proportion to its weight", "[answer][select]") {
    auto pool = make_pool(Policy::weighted, {{"192.0.2.1", -1, 1}, {"192.0.2.2", -1, 3}});
    std::mt19937_64 draws(20240601);  // fixed seed: the same sequence on every run
    SelectInput in;
    in.pool = &pool;
    int heavy_first = 0;
    constexpr int total = 10000;
    for (int i = 0; i < total; ++i) {
        in.random = draws();
        auto answer = run(in);
        REQUIRE(answer.addresses.size() == 2);  // an order of all members, each once
        REQUIRE(answer.addresses[0] != answer.addresses[1]);
        heavy_first += answer.addresses.front() == "192.0.2.2";
    }
    // Expected 7500, standard deviation about 43.
    CHECK(heavy_first > 7200);
    CHECK(heavy_first < 7800);
}

TEST_CASE("weighted: three weights, and the order depends only on the draw", "[answer][select]") {
    auto pool = make_pool(Policy::weighted, {{"192.0.2.1", -1, 2}, {"192.0.2.2", -1, 1}, {"192.0.2.3", -1, 5}});
    std::mt19937_64 draws(7);
    SelectInput in;
    in.pool = &pool;
    std::map<std::string, int> firsts;
    constexpr int total = 8000;
    for (int i = 0; i < total; ++i) {
        in.random = draws();
        auto answer = run(in);
        REQUIRE(answer.addresses.size() == 3);
        CHECK(run(in).addresses == answer.addresses);
        firsts[answer.addresses.front()]++;
    }
    // Expected 2000, 1000, 5000 (standard deviations 39, 30, 43).
    CHECK(std::abs(firsts["192.0.2.1"] - 2000) < 250);
    CHECK(std::abs(firsts["192.0.2.2"] - 1000) < 250);
    CHECK(std::abs(firsts["192.0.2.3"] - 5000) < 250);
}

TEST_CASE("weight 0 is used only when nothing weighted is eligible", "[answer][select]") {
    auto pool = make_pool(Policy::weighted,
                          {{"192.0.2.1", -1, 0}, {"192.0.2.2", -1, 2}, {"192.0.2.3", -1, 0}, {"192.0.2.4", -1, 1}});
    std::mt19937_64 draws(99);
    SelectInput in;
    in.pool = &pool;
    for (int i = 0; i < 200; ++i) {
        in.random = draws();
        auto answer = run(in);
        REQUIRE(answer.addresses.size() == 2);
        CHECK(answer.addresses[0] != "192.0.2.1");
        CHECK(answer.addresses[0] != "192.0.2.3");
        CHECK(answer.addresses[1] != "192.0.2.1");
        CHECK(answer.addresses[1] != "192.0.2.3");
    }

    // With the weighted members down, the weight-0 ones answer, uniformly.
    ZoneHealth health = health_down(pool, {1, 3});
    in.health = &health;
    int first_of_two = 0;
    constexpr int total = 10000;
    for (int i = 0; i < total; ++i) {
        in.random = draws();
        auto answer = run(in);
        REQUIRE(answer.addresses.size() == 2);
        CHECK(answer.selection.tier == Tier::primary);
        first_of_two += answer.addresses.front() == "192.0.2.1";
    }
    CHECK(first_of_two > 4700);
    CHECK(first_of_two < 5300);
}

TEST_CASE("stable_hash is pinned: a change of hash moves every sticky client", "[answer][select]") {
    auto hash = [](const char* text, uint64_t seed) {
        return stable_hash(reinterpret_cast<const uint8_t*>(text), std::strlen(text), seed);
    };
    CHECK(hash("", 0) == 0x48218226ff3cd4bfull);
    CHECK(hash("dnsd", 0) == 0x454173083121e10full);
    CHECK(hash("dnsd", 1) == 0xaf41d1ea56625a56ull);
    CHECK(hash("123456789", 7) == 0x05d39f238481dbebull);  // a partial last word
    const uint8_t address[4] = {192, 0, 2, 1};
    CHECK(stable_hash(address, 4, 0) == 0x53afa699712f69e1ull);
    uint8_t sixteen[16];
    for (uint8_t i = 0; i < 16; ++i) sixteen[i] = i;
    CHECK(stable_hash(sixteen, 16, 0x0123456789abcdefull) == 0xe0de8e26eb7170f2ull);
    // Trailing zero bytes still change the hash (the length is mixed in).
    const uint8_t padded[5] = {192, 0, 2, 1, 0};
    CHECK(stable_hash(padded, 5, 0) != stable_hash(address, 4, 0));
}

TEST_CASE("sticky: pinned answers, the same on every machine and restart", "[answer][select]") {
    auto pool = make_pool(Policy::sticky, {{"192.0.2.1"}, {"192.0.2.2"}, {"192.0.2.3"}, {"192.0.2.4"}});
    SelectInput in;
    in.pool = &pool;
    in.client = *Address::parse("198.51.100.7");
    CHECK(run(in).addresses == Strings{"192.0.2.3", "192.0.2.1", "192.0.2.2", "192.0.2.4"});
    in.client = *Address::parse("203.0.113.9");
    CHECK(run(in).addresses == Strings{"192.0.2.1", "192.0.2.3", "192.0.2.4", "192.0.2.2"});
    in.client = *Address::parse("10.0.0.1");
    CHECK(run(in).addresses == Strings{"192.0.2.4", "192.0.2.1", "192.0.2.3", "192.0.2.2"});

    auto pool6 = make_pool(Policy::sticky, {{"2001:db8::1"}, {"2001:db8::2"}, {"2001:db8::3"}, {"2001:db8::4"}});
    in.pool = &pool6;
    in.family = Family::v6;
    in.client = *Address::parse("2001:db8:aa:bb00::1");
    CHECK(run(in).addresses == Strings{"2001:db8::2", "2001:db8::1", "2001:db8::4", "2001:db8::3"});
    in.client = *Address::parse("2001:db8:1:2::3");
    CHECK(run(in).addresses == Strings{"2001:db8::4", "2001:db8::2", "2001:db8::3", "2001:db8::1"});
}

TEST_CASE("sticky: one answer per /24 or /56, whatever the counter and draw", "[answer][select]") {
    auto pool = make_pool(Policy::sticky, {{"192.0.2.1"}, {"192.0.2.2"}, {"192.0.2.3"}, {"192.0.2.4"},
                                           {"2001:db8::1"}, {"2001:db8::2"}, {"2001:db8::3"}});
    SelectInput in;
    in.pool = &pool;
    std::map<std::string, int> firsts;
    for (int net = 0; net < 256; ++net) {
        std::string prefix = "10.1." + std::to_string(net) + ".";
        in.client = *Address::parse(prefix + "1");
        in.counter = 0;
        in.random = 0;
        auto expected = run(in).addresses;
        firsts[expected.front()]++;
        for (int host : {2, 77, 255}) {
            in.client = *Address::parse(prefix + std::to_string(host));
            in.counter = static_cast<uint64_t>(host) * 31;
            in.random = static_cast<uint64_t>(host) * 0x1234567;
            CHECK(run(in).addresses == expected);
        }
    }
    // Different networks spread over the members (expected 64 each).
    REQUIRE(firsts.size() == 4);
    for (const auto& [address, count] : firsts) CHECK(count > 30);

    in.family = Family::v6;
    std::map<std::string, int> firsts6;
    for (int net = 0; net < 256; ++net) {
        char text[64];
        std::snprintf(text, sizeof text, "2001:db8:0:%x00::1", net);
        in.client = *Address::parse(text);
        auto expected = run(in).addresses;
        firsts6[expected.front()]++;
        std::snprintf(text, sizeof text, "2001:db8:0:%xff:ffff::9", net);  // same /56
        in.client = *Address::parse(text);
        CHECK(run(in).addresses == expected);
    }
    REQUIRE(firsts6.size() == 3);
    for (const auto& [address, count] : firsts6) CHECK(count > 40);
}

TEST_CASE("sticky: a client moves only when its own member leaves", "[answer][select]") {
    auto pool = make_pool(Policy::sticky,
                          {{"192.0.2.1"}, {"192.0.2.2"}, {"192.0.2.3"}, {"192.0.2.4"}, {"192.0.2.5"}});
    auto without_third = make_pool(Policy::sticky, {{"192.0.2.1"}, {"192.0.2.2"}, {"192.0.2.4"}, {"192.0.2.5"}});
    ZoneHealth third_down = health_down(pool, {2});
    int moved = 0;
    for (int net = 0; net < 500; ++net) {
        std::string client = "172." + std::to_string(16 + net / 250) + "." + std::to_string(net % 250) + ".9";
        std::string before = first_for_client(pool, client.c_str());
        std::string when_down = first_for_client(pool, client.c_str(), &third_down);
        std::string when_removed = first_for_client(without_third, client.c_str());
        if (before == "192.0.2.3") {
            ++moved;
            CHECK(when_down != "192.0.2.3");
            CHECK(when_removed == when_down);
        } else {
            CHECK(when_down == before);
            CHECK(when_removed == before);
        }
    }
    CHECK(moved > 50);  // expected 100: the check above did run on moving clients
}

TEST_CASE("sticky honours weights across clients", "[answer][select]") {
    auto pool = make_pool(Policy::sticky, {{"192.0.2.1", -1, 1}, {"192.0.2.2", -1, 3}, {"192.0.2.3", -1, 0}});
    int heavy_first = 0;
    constexpr int total = 10000;
    for (int net = 0; net < total; ++net) {
        std::string client = "10." + std::to_string(net / 256) + "." + std::to_string(net % 256) + ".1";
        SelectInput in;
        in.pool = &pool;
        in.client = *Address::parse(client);
        auto answer = run(in);
        REQUIRE(answer.addresses.size() == 2);  // weight 0 only as a last resort
        heavy_first += answer.addresses.front() == "192.0.2.2";
    }
    CHECK(heavy_first > 7200);
    CHECK(heavy_first < 7800);
}

TEST_CASE("priority: the lowest priority number with an eligible member, round-robin", "[answer][select]") {
    auto pool = make_pool(Policy::priority, {{"192.0.2.1", -1, 1, 1},
                                             {"192.0.2.2", -1, 1, 0},
                                             {"192.0.2.3", -1, 1, 2},
                                             {"192.0.2.4", -1, 1, 0},
                                             {"192.0.2.5", -1, 1, 1}});
    CHECK(order(pool, nullptr, 0) == Strings{"192.0.2.2", "192.0.2.4"});
    CHECK(order(pool, nullptr, 1) == Strings{"192.0.2.4", "192.0.2.2"});

    ZoneHealth group0_down = health_down(pool, {1, 3});
    CHECK(order(pool, &group0_down, 0) == Strings{"192.0.2.1", "192.0.2.5"});
    CHECK(order(pool, &group0_down, 1) == Strings{"192.0.2.5", "192.0.2.1"});

    ZoneHealth only_last = health_down(pool, {0, 1, 3, 4});
    CHECK(order(pool, &only_last, 0) == Strings{"192.0.2.3"});

    SECTION("fail open applies priority over the members not forced down") {
        ZoneHealth all_down = health_down(pool, {0, 1, 2, 3, 4});
        SelectInput in;
        in.pool = &pool;
        in.health = &all_down;
        in.counter = 1;
        auto answer = run(in);
        CHECK(answer.selection.tier == Tier::fail_open);
        CHECK(answer.addresses == Strings{"192.0.2.4", "192.0.2.2"});
        pool.members[1].state = MemberState::down;
        pool.members[3].state = MemberState::down;
        CHECK(run(in).addresses == Strings{"192.0.2.5", "192.0.2.1"});
    }
}

TEST_CASE("policies order only the answering tier", "[answer][select]") {
    std::vector<int32_t> regions{1, 0};
    for (Policy policy : {Policy::round_robin, Policy::weighted, Policy::sticky, Policy::priority}) {
        auto pool = make_pool(policy, {{"192.0.2.1", 0}, {"192.0.2.2", 1}, {"192.0.2.3", 1}, {"192.0.2.4", 0}});
        SelectInput in;
        in.pool = &pool;
        in.region_order = regions;
        in.client = *Address::parse("198.51.100.1");
        for (uint64_t i = 0; i < 8; ++i) {
            in.counter = i;
            in.random = i * 0x9e3779b97f4a7c15ull;
            auto answer = run(in);
            REQUIRE(answer.addresses.size() == 2);
            CHECK((answer.addresses[0] == "192.0.2.2" || answer.addresses[0] == "192.0.2.3"));
            CHECK((answer.addresses[1] == "192.0.2.2" || answer.addresses[1] == "192.0.2.3"));
            CHECK(answer.addresses[0] != answer.addresses[1]);
        }
    }
}

namespace {

// 1,000 members: weights 1 to 7, a tenth down, and (with `regions`) three regions and no region.
Pool wide_pool(Policy policy, bool regions) {
    std::vector<std::string> addresses;
    std::vector<MemberSpec> specs;
    for (int m = 0; m < 1000; ++m) addresses.push_back("10.0." + std::to_string(m / 250) + "." + std::to_string(m % 250));
    for (int m = 0; m < 1000; ++m)
        specs.push_back({addresses[static_cast<size_t>(m)].c_str(), regions ? m % 4 - 1 : -1,
                         static_cast<uint32_t>(m % 7 + 1)});
    return make_pool(policy, specs);
}

// The answer with max_answers `n`, and the first `n` of the whole order.
std::pair<Strings, Strings> capped_and_whole(Pool& pool, SelectInput in, uint32_t n) {
    pool.max_answers = n;
    Strings capped = run(in).addresses;
    pool.max_answers = 0;
    Strings whole = run(in).addresses;
    whole.resize(std::min<size_t>(whole.size(), n));
    return {capped, whole};
}

}  // namespace

TEST_CASE("weighted and sticky over a wide tier: max_answers keeps the first N of the full order",
          "[answer][select]") {
    for (const Policy policy : {Policy::weighted, Policy::sticky})
        for (const bool regions : {false, true}) {
            Pool pool = wide_pool(policy, regions);
            std::vector<size_t> down;
            for (size_t m = 0; m < 1000; m += 10) down.push_back(m);
            const ZoneHealth health = health_down(pool, down);
            const std::vector<int32_t> order{2, 0, 1};
            std::mt19937_64 draws(7);
            for (int i = 0; i < 200; ++i) {
                SelectInput in;
                in.pool = &pool;
                in.health = &health;
                if (regions) in.region_order = order;
                in.random = draws();
                in.client = *Address::parse("198.51." + std::to_string(i % 256) + ".1");
                for (const uint32_t n : {1u, 8u, 999u}) {
                    const auto [capped, whole] = capped_and_whole(pool, in, n);
                    INFO("policy " << static_cast<int>(policy) << ", regions " << regions << ", n " << n);
                    CHECK(capped.size() == std::min<size_t>(n, regions ? 450 : 900));  // region 2 and no region, less those down
                    CHECK(capped == whole);
                }
            }
        }
}

TEST_CASE("weighted and sticky in fail open over a wide pool: max_answers spans the region tiers in order",
          "[answer][select]") {
    for (const Policy policy : {Policy::weighted, Policy::sticky}) {
        Pool pool = wide_pool(policy, true);
        std::vector<size_t> every;
        for (size_t m = 0; m < 1000; ++m) every.push_back(m);
        const ZoneHealth health = health_down(pool, every);
        const std::vector<int32_t> order{2, 0, 1};
        SelectInput in;
        in.pool = &pool;
        in.health = &health;
        in.region_order = order;
        in.random = 12345;
        in.client = *Address::parse("203.0.113.9");
        // 250 members without a region form the first tier with region 2's 250.
        for (const uint32_t n : {8u, 499u, 500u, 501u, 760u}) {
            const auto [capped, whole] = capped_and_whole(pool, in, n);
            pool.max_answers = n;
            CHECK(run(in).selection.tier == Tier::fail_open);
            CHECK(capped.size() == n);
            CHECK(capped == whole);
        }
    }
}

TEST_CASE("weighted over a wide tier: each place goes by weight among the eligible members not yet placed",
          "[answer][select]") {
    // 100 members of weight 1 and 100 of weight 3; with `down`, all but 10 of each.
    for (const bool most_down : {false, true}) {
        std::vector<std::string> addresses;
        std::vector<MemberSpec> specs;
        for (int m = 0; m < 200; ++m) addresses.push_back("10.1." + std::to_string(m / 100) + "." + std::to_string(m % 100));
        for (int m = 0; m < 200; ++m) specs.push_back({addresses[static_cast<size_t>(m)].c_str(), -1, m < 100 ? 1u : 3u});
        Pool pool = make_pool(Policy::weighted, specs);
        pool.max_answers = 2;
        std::vector<size_t> down;
        if (most_down)
            for (size_t m = 0; m < 200; ++m)
                if (m % 100 >= 10) down.push_back(m);
        const ZoneHealth health = health_down(pool, down);
        std::mt19937_64 draws(most_down ? 11 : 5);
        SelectInput in;
        in.pool = &pool;
        in.health = &health;
        int heavy_first = 0, heavy_second_after_light = 0, light_first = 0;
        constexpr int total = 20000;
        for (int i = 0; i < total; ++i) {
            in.random = draws();
            const auto answer = run(in);
            REQUIRE(answer.addresses.size() == 2);
            REQUIRE(answer.addresses[0] != answer.addresses[1]);
            for (const auto& address : answer.addresses) {
                const auto m = static_cast<size_t>(std::find(addresses.begin(), addresses.end(), address) - addresses.begin());
                REQUIRE((!most_down || m % 100 < 10));
            }
            const bool heavy = answer.addresses[0].rfind("10.1.1.", 0) == 0;
            heavy_first += heavy;
            if (!heavy) {
                ++light_first;
                heavy_second_after_light += answer.addresses[1].rfind("10.1.1.", 0) == 0;
            }
        }
        INFO("most down " << most_down);
        // First place: 3/4 heavy (expected 15000, standard deviation about 61).
        CHECK(std::abs(heavy_first - 15000) < 400);
        // After a light member (n = 100 or 10 light members eligible): heavy with
        // 300 / 399 = 0.752 or 30 / 39 = 0.769 (standard deviation about 0.006 over ~5000).
        const double expected = most_down ? 30.0 / 39 : 300.0 / 399;
        CHECK(std::abs(static_cast<double>(heavy_second_after_light) / light_first - expected) < 0.03);
    }
}

namespace {

// The key select() files a client's ranking under: the hash of its /24 or /56.
dnsd::answer::StickyCache::Key ranking_key(const Pool& pool, const Address& client, int32_t region) {
    const Address network = client.masked(client.family == Family::v4 ? 24 : 56);
    return {&pool, stable_hash(network.bytes.data(), network.size(), 0), region, client.family};
}

}  // namespace

TEST_CASE("sticky: a worker's rankings answer as ranking the tier afresh does", "[answer][select][sticky]") {
    dnsd::answer::StickyCache cache;
    for (const bool regions : {false, true}) {
        Pool pool = wide_pool(Policy::sticky, regions);
        // Weight 0 for a few members: ranked never, answered only as a last resort.
        for (size_t m = 3; m < 1000; m += 97) pool.members[m].weight = 0;
        pool.index_weights();
        const std::vector<int32_t> order{2, 0, 1};
        std::vector<size_t> tenth, most;
        for (size_t m = 0; m < 1000; ++m) {
            if (m % 10 == 0) tenth.push_back(m);
            if (m % 50 != 0) most.push_back(m);
        }
        const ZoneHealth all_up = health_down(pool, {}), tenth_down = health_down(pool, tenth),
                         most_down = health_down(pool, most);
        for (const uint32_t n : {1u, 8u, 16u})
            // Health changes between queries with the rankings kept: they must
            // filter, never decide.
            for (const ZoneHealth* health : {&all_up, &tenth_down, &most_down, &all_up})
                for (int net = 0; net < 300; ++net) {
                    pool.max_answers = n;
                    SelectInput in;
                    in.pool = &pool;
                    in.health = health;
                    if (regions) in.region_order = order;
                    in.client = *Address::parse("198.51." + std::to_string(net) + ".7");
                    const Answer afresh = run(in);
                    in.sticky_cache = &cache;
                    const Answer remembered = run(in);
                    const Answer again = run(in);
                    INFO("regions " << regions << ", n " << n << ", net " << net);
                    CHECK(remembered.addresses == afresh.addresses);
                    CHECK(again.addresses == afresh.addresses);
                    CHECK(remembered.selection.tier == afresh.selection.tier);
                    CHECK(remembered.selection.region == afresh.selection.region);
                    // The ranking was made and kept: the answer came from it.
                    const auto* ranking = cache.find(ranking_key(pool, in.client, regions ? 2 : -1));
                    REQUIRE(ranking != nullptr);
                    CHECK(ranking->count == dnsd::answer::StickyCache::ranked);
                    if (health == &all_up)
                        for (size_t i = 0; i < afresh.addresses.size(); ++i)
                            CHECK(pool.members[ranking->members[i]].address.to_string() == afresh.addresses[i]);
                }
    }
}

TEST_CASE("sticky: a ranking of every weighted member answers with fewer than max_answers", "[answer][select][sticky]") {
    // 40 members, 30 of weight 0: the ranking holds all 10 others.
    std::vector<std::string> addresses;
    std::vector<MemberSpec> specs;
    for (int m = 0; m < 40; ++m) addresses.push_back("10.9.0." + std::to_string(m + 1));
    for (int m = 0; m < 40; ++m) specs.push_back({addresses[static_cast<size_t>(m)].c_str(), -1, m % 4 == 0 ? 2u : 0u});
    Pool pool = make_pool(Policy::sticky, specs);
    pool.max_answers = 16;
    const ZoneHealth health = health_down(pool, {0, 4});
    dnsd::answer::StickyCache cache;
    SelectInput in;
    in.pool = &pool;
    in.health = &health;
    in.client = *Address::parse("192.0.2.77");
    const Answer afresh = run(in);
    in.sticky_cache = &cache;
    const Answer remembered = run(in);
    CHECK(afresh.addresses.size() == 8);
    CHECK(remembered.addresses == afresh.addresses);
    const auto* ranking = cache.find(ranking_key(pool, in.client, -1));
    REQUIRE(ranking != nullptr);
    CHECK(ranking->count == 10);
}

TEST_CASE("sticky cache: clear forgets every ranking, a store replaces its slot's", "[answer][sticky]") {
    dnsd::answer::StickyCache cache;
    const Pool pool = make_pool(Policy::sticky, {{"192.0.2.1"}});
    const dnsd::answer::StickyCache::Key key{&pool, 42, -1, Family::v4};
    CHECK(cache.find(key) == nullptr);
    auto& ranking = cache.store(key);
    ranking.members[0] = 7;
    ranking.count = 1;
    REQUIRE(cache.find(key) != nullptr);
    CHECK(cache.find(key)->members[0] == 7);
    CHECK(cache.find({&pool, 43, -1, Family::v4}) == nullptr);
    CHECK(cache.find({&pool, 42, 0, Family::v4}) == nullptr);
    CHECK(cache.find({&pool, 42, -1, Family::v6}) == nullptr);
    cache.clear();
    CHECK(cache.find(key) == nullptr);
    CHECK(cache.store(key).count == 0);
}

TEST_CASE("sticky cache: the ranking used last is never the one a store evicts", "[answer][sticky]") {
    dnsd::answer::StickyCache cache;
    const Pool pool = make_pool(Policy::sticky, {{"192.0.2.1"}});
    const dnsd::answer::StickyCache::Key kept{&pool, 0, -1, Family::v4};
    cache.store(kept).count = 1;
    size_t still_there = 0;
    for (uint64_t network = 1; network <= 20000; ++network) {
        cache.store({&pool, network, -1, Family::v4}).count = 1;
        still_there += cache.find(kept) != nullptr;
    }
    CHECK(still_there == 20000);
    // A thousand client networks asking in turn keep nearly all their rankings.
    size_t found = 0;
    for (uint64_t network = 100000; network < 101000; ++network) cache.store({&pool, network, -1, Family::v4});
    for (uint64_t network = 100000; network < 101000; ++network) found += cache.find({&pool, network, -1, Family::v4}) != nullptr;
    CHECK(found >= 990);
}
