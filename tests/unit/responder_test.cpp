// net::Responder: the worker's side of the answer path, without sockets.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dnsd/answer/rotation.hpp"
#include "dnsd/core/published.hpp"
#include "dnsd/health/view.hpp"
#include "dnsd/net/responder.hpp"
#include "dnsd/zone/load.hpp"
#include "packet.hpp"

using namespace dnsd;

namespace {

// One weighted pool of two equal members that answers with one of them.
answer::View coin_view() {
    const std::string text = R"({"zone": "coin.example", "soa": {"mname": "ns", "rname": "h"},
        "records": {"@": {"NS": ["ns"]}, "ns": {"A": ["192.0.2.53"]}, "flip": {"pool": "coin"}},
        "pools": {"coin": {"policy": "weighted", "max_answers": 1,
                           "members": [{"address": "192.0.2.1"}, {"address": "192.0.2.2"}]}}})";
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone(text, "coin.example.json", {}, diagnostics);
    REQUIRE(zone);
    auto snapshot = std::make_shared<zone::Snapshot>(std::vector<std::shared_ptr<const zone::Zone>>{zone});
    answer::View view;
    view.snapshot = snapshot;
    return view;
}

// The member each of `count` queries got, as a string of '1' and '2'.
std::string flips(net::Responder& responder, size_t count) {
    test::QuerySpec spec;
    spec.name = "flip.coin.example";
    const auto query = test::build_query(spec);
    const auto source = *core::Address::parse("198.51.100.7");
    std::vector<uint8_t> buffer(65535);
    std::string out;
    for (size_t i = 0; i < count; ++i) {
        const size_t size = responder.answer(query, source, answer::Transport::udp, buffer);
        const test::Decoded d = test::decode({buffer.data(), size});
        REQUIRE(d.answer.size() == 1);
        out += d.answer[0].back();
    }
    return out;
}

}  // namespace

TEST_CASE("Responder: every worker draws its own weighted choices", "[net]") {
    core::Published<answer::View> published(std::make_shared<const answer::View>(coin_view()));
    net::Responder first(published, 0), second(published, 0);
    const std::string a = flips(first, 64), b = flips(second, 64);
    // Both members come up, and two workers agree on all 64 draws only with
    // odds of 2^-64 unless they share a seed.
    CHECK(a.find('1') != std::string::npos);
    CHECK(a.find('2') != std::string::npos);
    CHECK(a != b);
}

namespace {

// Pools and static RRsets that rotate; `extra` adds records elsewhere, so that
// a reload changes the zone but not those sets.
std::shared_ptr<const zone::Zone> rotating_zone(const std::string& extra = "", const std::string& more_web = "") {
    const std::string text = R"({"zone": "rot.example", "soa": {"mname": "ns", "rname": "h"},
        "records": {"@": {"NS": ["ns"]}, "ns": {"A": ["192.0.2.53"]}, "web": {"pool": "web"},
                    "other": {"pool": "other"}, "rr": {"A": ["192.0.2.21", "192.0.2.22", "192.0.2.23"]})" +
                             extra + R"(},
        "pools": {"web": {"members": [{"address": "192.0.2.1"}, {"address": "192.0.2.2"},
                                      {"address": "192.0.2.3"})" +
                             more_web + R"(]},
                  "other": {"members": [{"address": "198.51.100.1"}, {"address": "198.51.100.2"}]}}})";
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone(text, "rot.example.json", {}, diagnostics);
    REQUIRE(zone);
    return zone;
}

std::shared_ptr<const answer::View> view_of(std::shared_ptr<const zone::Zone> zone,
                                            std::shared_ptr<const health::HealthView> health = nullptr) {
    auto snapshot = std::make_shared<zone::Snapshot>(std::vector<std::shared_ptr<const zone::Zone>>{std::move(zone)});
    auto view = std::make_shared<answer::View>();
    view->snapshot = std::move(snapshot);
    view->health = std::move(health);
    return view;
}

// The same snapshot with `other`'s first member overridden to `state`.
std::shared_ptr<const answer::View> with_override(const answer::View& view, zone::MemberState state) {
    auto health = std::make_shared<health::HealthView>();
    const auto& zone = view.snapshot->zones.front();
    health::ZoneHealth zone_health;
    zone_health.states.resize(zone->pools.size());
    for (size_t p = 0; p < zone->pools.size(); ++p)
        for (const auto& member : zone->pools[p].members) zone_health.states[p].push_back(member.state);
    zone_health.states[1][0] = state;
    health->add(zone, zone_health);
    auto next = std::make_shared<answer::View>(view);
    next->health = std::move(health);
    return next;
}

// The first record of the answer to NAME A.
std::string first_of(net::Responder& responder, const std::string& name) {
    test::QuerySpec spec;
    spec.name = name;
    const auto query = test::build_query(spec);
    std::vector<uint8_t> buffer(65535);
    const size_t size = responder.answer(query, *core::Address::parse("198.51.100.7"), answer::Transport::udp, buffer);
    const test::Decoded d = test::decode({buffer.data(), size});
    REQUIRE(!d.answer.empty());
    return d.answer.front();
}

}  // namespace

TEST_CASE("Responder: told of a publish, it lets go of the old view without waiting for a query", "[net]") {
    core::Published<answer::View> published(std::make_shared<const answer::View>(coin_view()));
    net::Responder responder(published, 0);
    REQUIRE(flips(responder, 1).size() == 1);
    const std::weak_ptr<const zone::Snapshot> old = published.load()->snapshot;

    published.publish(std::make_shared<const answer::View>(coin_view()));
    CHECK_FALSE(old.expired());  // the worker still holds it: no query came
    responder.catch_up();
    CHECK(old.expired());
    CHECK(flips(responder, 1).size() == 1);
}

TEST_CASE("Responder: a set's rotation carries on across publishes that leave it unchanged", "[net][rotation]") {
    const auto first_zone = rotating_zone();
    core::Published<answer::View> published(view_of(first_zone));
    net::Responder responder(published, 0);

    // Between every two queries something else is published: an override in
    // another pool, its removal, health for the zone, a reload of the same
    // file (new Zone objects), a reload that changes another name.
    const std::vector<std::function<std::shared_ptr<const answer::View>(const answer::View&)>> publishes{
        [](const answer::View& v) { return with_override(v, zone::MemberState::down); },
        [](const answer::View& v) { return with_override(v, zone::MemberState::automatic); },
        [](const answer::View&) { return view_of(rotating_zone()); },
        [](const answer::View&) { return view_of(rotating_zone(R"(, "new": {"A": ["192.0.2.99"]})")); },
        [](const answer::View& v) { return with_override(v, zone::MemberState::up); },
    };
    std::vector<std::string> web, rr;
    for (size_t i = 0; i < 30; ++i) {
        web.push_back(first_of(responder, "web.rot.example"));
        rr.push_back(first_of(responder, "rr.rot.example"));
        published.publish(publishes[i % publishes.size()](*published.load()));
    }
    // Round-robin over three: every member first exactly once in every three
    // consecutive queries, so the sequence repeats with period 3.
    for (size_t i = 3; i < web.size(); ++i) {
        INFO("query " << i);
        CHECK(web[i] == web[i - 3]);
        CHECK(rr[i] == rr[i - 3]);
    }
    CHECK(std::set<std::string>(web.begin(), web.begin() + 3).size() == 3);
    CHECK(std::set<std::string>(rr.begin(), rr.begin() + 3).size() == 3);
}

TEST_CASE("Responder: a set that changed starts its own rotation while the others carry on", "[net][rotation]") {
    core::Published<answer::View> published(view_of(rotating_zone()));
    net::Responder responder(published, 0);
    CHECK(first_of(responder, "rr.rot.example") == "rr.rot.example. 30 A 192.0.2.21");
    CHECK(first_of(responder, "web.rot.example") == "web.rot.example. 30 A 192.0.2.1");
    CHECK(first_of(responder, "web.rot.example") == "web.rot.example. 30 A 192.0.2.2");

    published.publish(view_of(rotating_zone("", R"(, {"address": "192.0.2.4"})")));
    std::set<std::string> web;
    for (int i = 0; i < 4; ++i) web.insert(first_of(responder, "web.rot.example"));
    CHECK(web.size() == 4);
    CHECK(first_of(responder, "rr.rot.example") == "rr.rot.example. 30 A 192.0.2.22");
}

TEST_CASE("Rotations: counters of sets gone are swept once they outnumber the live ones", "[answer][rotation]") {
    answer::Rotations rotations;
    auto snapshot_with = [](std::vector<uint64_t> keys) {
        auto zone = std::make_shared<zone::Zone>();
        zone->rotation_keys = std::move(keys);
        auto snapshot = std::make_shared<zone::Snapshot>(std::vector<std::shared_ptr<const zone::Zone>>{zone});
        return snapshot;
    };
    rotations.adopt(*snapshot_with({11, 12}));
    CHECK(rotations.next(11) == 0);
    CHECK(rotations.next(11) == 1);
    CHECK(rotations.next(12) == 0);
    // Every publish replaces set 12 by a new one; 11 stays.
    for (uint64_t gone = 13; gone < 1000; ++gone) {
        rotations.adopt(*snapshot_with({11, gone}));
        rotations.next(gone);
        CHECK(rotations.size() <= 4 * 2 + 4);
    }
    CHECK(rotations.next(11) == 2);
}

TEST_CASE("Responder: RRL shared by two workers holds for both, and counts what it drops and slips", "[net][rrl]") {
    core::Published<answer::View> published(std::make_shared<const answer::View>(coin_view()));
    guard::RrlSettings settings;
    settings.responses_per_second = 10;
    settings.slip = 2;
    guard::Rrl rrl(settings, 1);
    const guard::CookieSecrets secrets = guard::CookieSecrets::random();
    const net::Protection protection{&secrets, &rrl};
    net::Responder first(published, 0, protection), second(published, 0, protection);
    test::QuerySpec spec;
    spec.name = "flip.coin.example";
    const auto query = test::build_query(spec);
    const auto source = *core::Address::parse("198.51.100.7");
    std::vector<uint8_t> buffer(65535);
    // 40 queries from one network, alternating between the workers. The
    // wall clock may tick over a second once in between: 10 more pass then.
    size_t sent = 0;
    for (int i = 0; i < 40; ++i) {
        net::Responder& responder = i % 2 ? second : first;
        if (responder.answer(query, source, answer::Transport::udp, buffer) != 0) ++sent;
    }
    net::CounterTotals totals;
    net::add_to(totals, first.counters());
    net::add_to(totals, second.counters());
    const uint64_t passed = sent - totals.rrl_slipped;
    CHECK(passed >= 10);
    CHECK(passed <= 20);
    CHECK(totals.rrl_dropped + totals.rrl_slipped + passed == 40);
    CHECK(totals.rrl_dropped >= totals.rrl_slipped);
    CHECK(totals.rrl_dropped - totals.rrl_slipped <= 2);
    CHECK(totals.dropped == 0);  // RRL's drops are counted apart from undeliverable answers
}
