// Health: the rise/fall rule as a truth table, probe slots as the zone
// compiler assigns them, runtime overrides through select() and respond(),
// and the Monitor's bookkeeping (targets, overrides, status, state carried
// over by update()). The one test that probes connects to a closed port on
// 127.0.0.1, which fails at once without anything listening.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/answer/respond.hpp"
#include "dnsd/answer/select.hpp"
#include "dnsd/health/monitor.hpp"
#include "dnsd/health/rise_fall.hpp"
#include "dnsd/zone/load.hpp"
#include "packet.hpp"

using namespace dnsd;
using zone::MemberState;

namespace {

// A zone with one pool per case of probe slot sharing.
std::string slots_zone(const std::string& name, const std::string& extra_member = "") {
    return R"({
  "zone": ")" + name + R"(",
  "soa": { "mname": "ns1", "rname": "hostmaster.example.", "serial": 1 },
  "records": {
    "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] },
    "a": { "pool": "a" }, "b": { "pool": "b" }, "c": { "pool": "c" }, "d": { "pool": "d" },
    "e": { "pool": "e" }, "f": { "pool": "f" }, "g": { "pool": "g" }
  },
  "pools": {
    "a": { "check": { "type": "http", "port": 8080, "path": "/h" },
           "members": [{ "address": "192.0.2.1" }, { "address": "192.0.2.2", "port": 9090 },
                       { "address": "192.0.2.3" })" + extra_member + R"(] },
    "b": { "check": { "type": "http", "port": 8080, "path": "/h" },
           "members": [{ "address": "192.0.2.1" }, { "address": "192.0.2.2" }] },
    "c": { "check": { "type": "http", "port": 8080, "path": "/other" }, "members": [{ "address": "192.0.2.1" }] },
    "d": { "members": [{ "address": "192.0.2.1" }] },
    "e": { "check": { "type": "dns" }, "members": [{ "address": "192.0.2.5" }] },
    "f": { "check": { "type": "https" }, "members": [{ "address": "192.0.2.5" }] },
    "g": { "check": { "type": "http" }, "members": [{ "address": "192.0.2.5" }] }
  }
})";
}

std::shared_ptr<const zone::Zone> load(const std::string& text, const std::string& file) {
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone(text, file, {}, diagnostics);  // no pool names a region
    std::string problems;
    for (const auto& d : diagnostics) problems += d.to_string() + "\n";
    INFO(problems);
    REQUIRE(zone);
    return zone;
}

const zone::Pool& pool_named(const zone::Zone& zone, const std::string& name) {
    for (const auto& pool : zone.pools)
        if (pool.name == name) return pool;
    FAIL("no pool " << name);
    return zone.pools.front();
}

uint32_t slot(const zone::Zone& zone, const std::string& pool, size_t member) {
    return pool_named(zone, pool).members.at(member).health_slot;
}

// A pool built by hand, health slot i for member i, every member IPv4.
zone::Pool hand_pool(std::vector<MemberState> states) {
    zone::Pool pool;
    pool.ttl = 60;
    pool.degraded_ttl = 10;
    for (size_t i = 0; i < states.size(); ++i) {
        zone::Member member;
        member.address = *core::Address::parse("192.0.2." + std::to_string(i + 1));
        member.state = states[i];
        member.health_slot = static_cast<uint32_t>(i);
        pool.v4.push_back(static_cast<uint32_t>(i));
        pool.members.push_back(member);
    }
    return pool;
}

struct Chosen {
    std::vector<std::string> addresses;  // sorted: these tests are about who, not the order
    answer::Tier tier = answer::Tier::primary;
};

Chosen choose(const zone::Pool& pool, const health::ZoneHealth& health, const std::vector<MemberState>& states) {
    answer::SelectInput in;
    in.pool = &pool;
    in.health = &health;
    in.states = states;
    std::vector<uint32_t> out(pool.members.size());
    std::vector<uint64_t> scratch(pool.members.size());
    const answer::Selection selection = answer::select(in, out, scratch);
    Chosen chosen;
    chosen.tier = selection.tier;
    for (size_t i = 0; i < selection.count; ++i) chosen.addresses.push_back(pool.members[out[i]].address.to_string());
    std::sort(chosen.addresses.begin(), chosen.addresses.end());
    return chosen;
}

using Strings = std::vector<std::string>;

// A loop the Monitor is given but that never runs a probe: each test closes
// the Monitor before running it, so the first round (up to 1 s away) never
// comes, and running it then frees every handle.
struct Loop {
    uv_loop_t loop;
    Loop() { uv_loop_init(&loop); }
    ~Loop() {
        uv_run(&loop, UV_RUN_DEFAULT);
        CHECK(uv_loop_close(&loop) == 0);
    }
};

// A TCP port on 127.0.0.1 that nothing listens on: bound once, then released.
uint16_t closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof in;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &size) == 0);
    ::close(fd);
    return ntohs(in.sin_port);
}

}  // namespace

TEST_CASE("rise/fall: truth table with rise 2, fall 3", "[health]") {
    struct Row {
        bool up;
        uint32_t streak;
        bool success;
        bool up_after;
        uint32_t streak_after;
        bool changed;
    };
    const Row rows[] = {
        {true, 0, true, true, 0, false},    // up and succeeding: nothing to count
        {true, 0, false, true, 1, false},   // first failure
        {true, 1, false, true, 2, false},   // second failure
        {true, 2, false, false, 0, true},   // third failure: down
        {true, 2, true, true, 0, false},    // a success breaks the run of failures
        {false, 0, false, false, 0, false}, // down and failing: nothing to count
        {false, 0, true, false, 1, false},  // first success
        {false, 1, true, true, 0, true},    // second success: up
        {false, 1, false, false, 0, false}, // a failure breaks the run of successes
    };
    for (const Row& row : rows) {
        health::RiseFall state{row.up, row.streak};
        INFO("up " << row.up << " streak " << row.streak << " success " << row.success);
        CHECK(health::apply(state, row.success, 2, 3) == row.changed);
        CHECK(state.up == row.up_after);
        CHECK(state.streak == row.streak_after);
    }
}

TEST_CASE("rise/fall: members start up, and 1/1 flips on every differing result", "[health]") {
    health::RiseFall state;
    CHECK(state.up);
    CHECK(health::apply(state, false, 1, 1));
    CHECK_FALSE(state.up);
    CHECK_FALSE(health::apply(state, false, 1, 1));
    CHECK(health::apply(state, true, 1, 1));
    CHECK(state.up);

    // A flapping target with rise 2 and fall 3 never changes state.
    health::RiseFall flapping;
    for (int i = 0; i < 10; ++i) {
        CHECK_FALSE(health::apply(flapping, i % 3 == 2, 2, 3));
        CHECK(flapping.up);
    }
}

TEST_CASE("compile: identical probes share a slot within a zone, the port and the check tell them apart",
          "[health][zone]") {
    auto zone = load(slots_zone("slots.example"), "slots.example.json");
    // a and b probe 192.0.2.1 on 8080 with the same check: one slot.
    CHECK(slot(*zone, "a", 0) == slot(*zone, "b", 0));
    // 192.0.2.2 on 9090 (member port) in a, on 8080 in b.
    CHECK(slot(*zone, "a", 1) != slot(*zone, "b", 1));
    // Another path is another check.
    CHECK(slot(*zone, "c", 0) != slot(*zone, "a", 0));
    // No check, no slot.
    CHECK(slot(*zone, "d", 0) == UINT32_MAX);
    // 9 probed members, 8 distinct probes.
    REQUIRE(zone->probe_targets.size() == 8);
    auto port_of = [&](const std::string& pool, size_t member) {
        return zone->probe_targets.at(slot(*zone, pool, member)).check.port;
    };
    CHECK(port_of("a", 0) == 8080);
    CHECK(port_of("a", 1) == 9090);
    CHECK(port_of("e", 0) == 53);
    CHECK(port_of("f", 0) == 443);
    CHECK(port_of("g", 0) == 80);
    for (const auto& target : zone->probe_targets) CHECK(target.check.type != zone::Check::Type::none);
    CHECK(zone->probe_targets.at(slot(*zone, "c", 0)).check.path == "/other");
}

TEST_CASE("select: runtime states act exactly like the zone file's", "[health][answer]") {
    using S = MemberState;
    // 192.0.2.1 auto (unhealthy), .2 auto (healthy), .3 down in the file (healthy), .4 up in the file (unhealthy).
    const zone::Pool pool = hand_pool({S::automatic, S::automatic, S::down, S::up});
    health::ZoneHealth health;
    health.up = {0, 1, 1, 0};

    SECTION("no override: the file's states") {
        CHECK(choose(pool, health, {}).addresses == Strings{"192.0.2.2", "192.0.2.4"});
    }
    SECTION("forced up answers although unhealthy") {
        CHECK(choose(pool, health, {S::up, S::automatic, S::down, S::up}).addresses ==
              Strings{"192.0.2.1", "192.0.2.2", "192.0.2.4"});
    }
    SECTION("forced down never answers, healthy or not") {
        auto none_left = choose(pool, health, {S::automatic, S::down, S::down, S::down});
        CHECK(none_left.tier == answer::Tier::fail_open);
        CHECK(none_left.addresses == Strings{"192.0.2.1"});
        CHECK(choose(pool, health, {S::automatic, S::down, S::down, S::up}).addresses == Strings{"192.0.2.4"});
    }
    SECTION("auto over a file's down follows health") {
        CHECK(choose(pool, health, {S::automatic, S::automatic, S::automatic, S::up}).addresses ==
              Strings{"192.0.2.2", "192.0.2.3", "192.0.2.4"});
        health.up[2] = 0;
        CHECK(choose(pool, health, {S::automatic, S::automatic, S::automatic, S::up}).addresses ==
              Strings{"192.0.2.2", "192.0.2.4"});
    }
    SECTION("auto over a file's up follows health") {
        CHECK(choose(pool, health, {S::automatic, S::automatic, S::down, S::automatic}).addresses ==
              Strings{"192.0.2.2"});
    }
    SECTION("fail open leaves out what is forced down, by the file or by override") {
        health.up = {0, 0, 0, 0};
        auto all_down = choose(pool, health, {S::automatic, S::automatic, S::down, S::automatic});
        CHECK(all_down.tier == answer::Tier::fail_open);
        CHECK(all_down.addresses == Strings{"192.0.2.1", "192.0.2.2", "192.0.2.4"});
        auto drained = choose(pool, health, {S::automatic, S::down, S::down, S::automatic});
        CHECK(drained.tier == answer::Tier::fail_open);
        CHECK(drained.addresses == Strings{"192.0.2.1", "192.0.2.4"});
        // The file's down, overridden to auto, is back in the fail-open answer.
        auto undrained = choose(pool, health, {S::automatic, S::automatic, S::automatic, S::automatic});
        CHECK(undrained.addresses == Strings{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"});
    }
}

TEST_CASE("respond: each zone reads its own health, and a zone without any answers as all up", "[health][answer]") {
    auto one = load(slots_zone("one.example"), "one.example.json");
    auto two = load(slots_zone("two.example"), "two.example.json");
    answer::View view;
    auto snapshot = std::make_shared<zone::Snapshot>(std::vector<std::shared_ptr<const zone::Zone>>{one, two});
    view.snapshot = snapshot;

    // In one.example every slot is down but 192.0.2.2:9090, and b's 192.0.2.2
    // is forced down; two.example has no entry.
    auto health = std::make_shared<health::HealthView>();
    health::ZoneHealth one_health;
    one_health.up.assign(one->probe_targets.size(), 0);
    one_health.up[slot(*one, "a", 1)] = 1;
    one_health.states.resize(one->pools.size());
    one_health.states[static_cast<size_t>(&pool_named(*one, "b") - one->pools.data())] = {MemberState::automatic,
                                                                                         MemberState::down};
    health->add(one, one_health);
    view.health = health;

    answer::WorkerState state;
    state.prepare(view);
    std::vector<uint8_t> out(65535);
    auto ask = [&](const std::string& name) {
        test::QuerySpec spec;
        spec.name = name;
        const auto packet = test::build_query(spec);
        const answer::Outcome outcome =
            answer::respond({packet, *core::Address::parse("192.0.2.250"), answer::Transport::udp}, view, state, out);
        auto answer = test::decode({out.data(), outcome.size}).answer;
        std::sort(answer.begin(), answer.end());
        return answer;
    };
    CHECK(ask("a.one.example") == Strings{"a.one.example. 30 A 192.0.2.2"});
    CHECK(ask("a.two.example") ==
          Strings{"a.two.example. 30 A 192.0.2.1", "a.two.example. 30 A 192.0.2.2", "a.two.example. 30 A 192.0.2.3"});
    // b in one.example: every slot down, so fail open, without the member forced down.
    CHECK(ask("b.one.example") == Strings{"b.one.example. 30 A 192.0.2.1"});
    CHECK(ask("b.two.example") == Strings{"b.two.example. 30 A 192.0.2.1", "b.two.example. 30 A 192.0.2.2"});
}

TEST_CASE("Monitor: one view entry per zone, every member up before any probe", "[health][monitor]") {
    Loop loop;
    std::shared_ptr<const health::HealthView> published;
    health::Monitor monitor(&loop.loop, {"eu", "us"},
                            [&](std::shared_ptr<const health::HealthView> view) { published = std::move(view); });
    auto snapshot = std::make_shared<zone::Snapshot>(std::vector<std::shared_ptr<const zone::Zone>>{
        load(slots_zone("one.example"), "one.example.json"), load(slots_zone("two.example"), "two.example.json")});
    monitor.update(*snapshot);
    REQUIRE(published);
    REQUIRE(published->zones().size() == 2);
    for (size_t z = 0; z < 2; ++z) {
        CHECK(published->zones()[z].zone == snapshot->zones[z]);
        CHECK(published->zones()[z].health.up == std::vector<uint8_t>(8, 1));
        CHECK(published->zones()[z].health.states.empty());
        CHECK(published->find(snapshot->zones[z].get()) == &published->zones()[z].health);
    }

    const health::Status status = monitor.status();
    REQUIRE(status.zones.size() == 2);
    CHECK(status.zones[0].name == "one.example");
    const health::PoolStatus& a = status.zones[0].pools.at(0);
    CHECK(a.name == "a");
    CHECK(a.check == zone::Check::Type::http);
    REQUIRE(a.members.size() == 3);
    CHECK(a.members[1].address == "192.0.2.2");
    CHECK(a.members[1].probed);
    CHECK(a.members[1].up);
    CHECK(a.members[1].target == "192.0.2.2:9090 http /h");
    CHECK_FALSE(a.members[1].last_check);
    const health::PoolStatus& d = status.zones[0].pools.at(3);
    CHECK_FALSE(d.members.at(0).probed);
    CHECK(d.members.at(0).target.empty());
    CHECK(monitor.counters().probes[static_cast<size_t>(zone::Check::Type::http)] ==
          std::array<uint64_t, health::probe_outcome_count>{});
    monitor.close();
}

TEST_CASE("Monitor: overrides are checked, published per pool, listed, ended by auto, and kept while their "
          "member is gone",
          "[health][monitor]") {
    Loop loop;
    std::shared_ptr<const health::HealthView> published;
    int publishes = 0;
    health::Monitor monitor(&loop.loop, {}, [&](std::shared_ptr<const health::HealthView> view) {
        published = std::move(view);
        ++publishes;
    });
    monitor.update(zone::Snapshot({load(slots_zone("one.example", R"(, { "address": "192.0.2.4" })"), "one.example.json")}));
    const auto address = [](const char* text) { return *core::Address::parse(text); };

    using R = health::OverrideResult;
    CHECK(monitor.set_override("nope.example", "a", address("192.0.2.1"), MemberState::down) == R::no_such_zone);
    CHECK(monitor.set_override("one.example", "zz", address("192.0.2.1"), MemberState::down) == R::no_such_pool);
    CHECK(monitor.set_override("one.example", "a", address("192.0.2.9"), MemberState::down) == R::no_such_member);
    CHECK(monitor.set_override("one.example", "c", address("192.0.2.2"), MemberState::down) == R::no_such_member);
    CHECK(publishes == 1);

    CHECK(monitor.set_override("One.Example.", "a", address("192.0.2.4"), MemberState::down) == R::ok);
    CHECK(monitor.set_override("one.example", "a", address("192.0.2.1"), MemberState::up) == R::ok);
    CHECK(publishes == 3);
    const health::ZoneHealth& health = published->zones().at(0).health;
    using S = MemberState;
    CHECK(health.states_of(0).size() == 4);
    CHECK(std::vector<S>(health.states_of(0).begin(), health.states_of(0).end()) ==
          std::vector<S>{S::up, S::automatic, S::automatic, S::down});
    // Only the pool named: b lists 192.0.2.1 too.
    CHECK(health.states_of(1).empty());

    // Setting it again replaces it.
    CHECK(monitor.set_override("one.example", "a", address("192.0.2.1"), MemberState::down) == R::ok);
    auto overrides = monitor.status().overrides;
    REQUIRE(overrides.size() == 2);
    CHECK(overrides[0].entry == health::Override{"one.example", "a", address("192.0.2.4"), S::down});
    CHECK(overrides[0].applied);
    CHECK(overrides[1].entry == health::Override{"one.example", "a", address("192.0.2.1"), S::down});
    CHECK(monitor.overrides() ==
          std::vector<health::Override>{overrides[0].entry, overrides[1].entry});
    auto member_status = monitor.status().zones.at(0).pools.at(0).members;
    CHECK(member_status.at(3).override_state == S::down);
    CHECK(member_status.at(3).state == S::automatic);
    CHECK_FALSE(member_status.at(2).override_state);

    // auto ends an override: the zone file's state holds again.
    CHECK(monitor.set_override("one.example", "a", address("192.0.2.1"), MemberState::automatic) == R::ok);
    CHECK(monitor.overrides() == std::vector<health::Override>{overrides[0].entry});
    CHECK(std::vector<S>(published->zones().at(0).health.states_of(0).begin(),
                         published->zones().at(0).health.states_of(0).end()) ==
          std::vector<S>{S::automatic, S::automatic, S::automatic, S::down});
    // On a member without one, auto changes nothing; on no member, it is refused.
    CHECK(monitor.set_override("one.example", "a", address("192.0.2.2"), MemberState::automatic) == R::ok);
    CHECK(monitor.overrides().size() == 1);
    CHECK(monitor.set_override("one.example", "a", address("192.0.2.9"), MemberState::automatic) ==
          R::no_such_member);

    // A reload without 192.0.2.4 keeps its override, not applied: nothing to apply it to.
    monitor.update(zone::Snapshot({load(slots_zone("one.example"), "one.example.json")}));
    overrides = monitor.status().overrides;
    REQUIRE(overrides.size() == 1);
    CHECK(overrides[0].entry.address == address("192.0.2.4"));
    CHECK_FALSE(overrides[0].applied);
    CHECK(published->zones().at(0).health.states_of(0).empty());
    // Up or down needs the member.
    CHECK(monitor.set_override("one.example", "a", address("192.0.2.4"), MemberState::up) == R::no_such_member);

    // The member is back: so is its override.
    monitor.update(zone::Snapshot({load(slots_zone("one.example", R"(, { "address": "192.0.2.4" })"), "one.example.json")}));
    CHECK(monitor.status().overrides.at(0).applied);
    CHECK(published->zones().at(0).health.states_of(0).size() == 4);

    // auto ends it even while the member is gone.
    monitor.update(zone::Snapshot({load(slots_zone("one.example"), "one.example.json")}));
    CHECK(monitor.set_override("one.example", "a", address("192.0.2.4"), MemberState::automatic) == R::ok);
    CHECK(monitor.overrides().empty());

    monitor.close();
    CHECK(monitor.set_override("one.example", "a", address("192.0.2.1"), MemberState::up) == R::no_such_zone);
}

TEST_CASE("Monitor: overrides restored from before a restart are in its first view", "[health][monitor]") {
    Loop loop;
    std::shared_ptr<const health::HealthView> published;
    const auto address = [](const char* text) { return *core::Address::parse(text); };
    // As a hand-edited file may spell the zone; and one whose zone is gone.
    std::vector<health::Override> restored{{"One.Example.", "b", address("192.0.2.2"), MemberState::down},
                                           {"gone.example", "a", address("192.0.2.1"), MemberState::up}};
    health::Monitor monitor(
        &loop.loop, {}, [&](std::shared_ptr<const health::HealthView> view) { published = std::move(view); }, restored);
    monitor.update(zone::Snapshot({load(slots_zone("one.example"), "one.example.json")}));
    REQUIRE(published);
    const health::ZoneHealth& health = published->zones().at(0).health;
    CHECK(health.states_of(0).empty());
    CHECK(std::vector<MemberState>(health.states_of(1).begin(), health.states_of(1).end()) ==
          std::vector<MemberState>{MemberState::automatic, MemberState::down});
    const auto overrides = monitor.status().overrides;
    REQUIRE(overrides.size() == 2);
    CHECK(overrides[0].entry.zone == "one.example");
    CHECK(overrides[0].applied);
    CHECK_FALSE(overrides[1].applied);
    monitor.close();
}

TEST_CASE("Member states, check types and probe outcomes have one spelling each", "[health]") {
    for (auto state : {MemberState::automatic, MemberState::up, MemberState::down})
        CHECK(zone::member_state(zone::to_string(state)) == state);
    CHECK_FALSE(zone::member_state("Up"));
    CHECK(zone::to_string(zone::Check::Type::https) == "https");
    CHECK(health::outcome_name(health::ProbeOutcome::timeout) == "timeout");
}

TEST_CASE("Monitor: update() carries the state of targets that stay, new targets start up", "[health][monitor]") {
    const std::string port = std::to_string(closed_port());
    auto zone_text = [&](const std::string& extra_pool) {
        return R"({ "zone": "carry.example",
  "soa": { "mname": "ns1", "rname": "hostmaster.example.", "serial": 1 },
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] }, "p": { "pool": "p" } },
  "pools": { "p": { "check": { "type": "tcp", "port": )" + port + R"(, "interval": 0.2, "timeout": 0.1,
                                "rise": 1, "fall": 1 },
                    "members": [{ "address": "127.0.0.1" }] })" + extra_pool + " } }";
    };
    Loop loop;
    std::shared_ptr<const health::HealthView> published;
    bool running = false;
    health::Monitor monitor(&loop.loop, {}, [&](std::shared_ptr<const health::HealthView> view) {
        published = std::move(view);
        // Once the target is down, hand control back to the test.
        if (running && published->zones().at(0).health.up.at(0) == 0) uv_stop(&loop.loop);
    });
    const zone::Snapshot first({load(zone_text(""), "carry.example.json")});
    monitor.update(first);
    REQUIRE(published->zones().at(0).health.up == std::vector<uint8_t>{1});

    // Bounded: the first probe comes within a second, and a refused
    // connection fails at once; the deadline stops the loop regardless.
    uv_timer_t deadline;
    uv_timer_init(&loop.loop, &deadline);
    uv_timer_start(&deadline, [](uv_timer_t* timer) { uv_stop(timer->loop); }, 5000, 0);
    running = true;
    uv_run(&loop.loop, UV_RUN_DEFAULT);
    running = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
    REQUIRE(published->zones().at(0).health.up == std::vector<uint8_t>{0});
    const auto& counters = monitor.counters();
    const auto tcp = static_cast<size_t>(zone::Check::Type::tcp);
    CHECK(counters.probes[tcp][static_cast<size_t>(health::ProbeOutcome::failure)] == 1);
    CHECK(counters.transitions_down == 1);
    CHECK(counters.transitions_up == 0);
    CHECK(counters.latency[tcp].count == 1);
    auto member = monitor.status().zones.at(0).pools.at(0).members.at(0);
    CHECK_FALSE(member.up);
    CHECK(member.last_check);
    CHECK_FALSE(member.last_ok);
    CHECK(member.last_error == "connection refused");
    CHECK(member.target == "127.0.0.1:" + port + " tcp");

    // A reload builds a new Zone with the same target and one more: the old
    // target is still down at once, the new one starts up.
    const zone::Snapshot second({load(zone_text(R"(, "q": { "check": { "type": "http", "port": )" + port +
                                            R"( }, "members": [{ "address": "127.0.0.1" }] })"),
                                  "carry.example.json")});
    REQUIRE(second.zones[0] != first.zones[0]);
    monitor.update(second);
    REQUIRE(published->zones().size() == 1);
    CHECK(published->zones()[0].zone == second.zones[0]);
    const zone::Zone& zone = *second.zones[0];
    CHECK(published->zones()[0].health.is_up(slot(zone, "p", 0)) == false);
    CHECK(published->zones()[0].health.is_up(slot(zone, "q", 0)) == true);
    auto kept = monitor.status().zones.at(0).pools.at(0).members.at(0);
    CHECK(kept.since == member.since);
    CHECK(kept.last_error == "connection refused");
    monitor.close();
}

TEST_CASE("Monitor: a member taken out drains until the last answer handed out with it expires", "[health][monitor][drain]") {
    Loop loop;
    std::shared_ptr<const health::HealthView> published;
    health::Monitor monitor(&loop.loop, {}, [&](std::shared_ptr<const health::HealthView> view) { published = std::move(view); });
    const auto with_4 = [] { return load(slots_zone("one.example", R"(, { "address": "192.0.2.4" })"), "one.example.json"); };
    monitor.update(zone::Snapshot({with_4()}));
    const auto address = [](const char* text) { return *core::Address::parse(text); };
    // As a worker answering pool a (index 0) does: 192.0.2.4 (member 3) handed out until `expires`.
    const auto hand_out = [&](uint32_t member, uint32_t expires) {
        published->zones().at(0).health.handouts->handed_out(0, std::vector<uint32_t>{member}, expires);
    };
    const auto report = [&](const char* member) {
        health::MemberReport out;
        CHECK(monitor.member("one.example", "a", address(member), out) == health::OverrideResult::ok);
        return out;
    };
    using SystemClock = std::chrono::system_clock;
    const auto far = SystemClock::now() + std::chrono::hours(2);
    const auto far_s = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(far.time_since_epoch()).count());

    CHECK_FALSE(report("192.0.2.4").drain);
    hand_out(3, far_s);
    hand_out(3, far_s - 100);  // an earlier expiry never lowers it
    const auto before = SystemClock::now();
    REQUIRE(monitor.set_override("one.example", "a", address("192.0.2.4"), MemberState::down) == health::OverrideResult::ok);
    auto drained = report("192.0.2.4");
    REQUIRE(drained.drain);
    CHECK(drained.drain->out_since >= before);
    CHECK(drained.drain->safe_to_remove_at == SystemClock::time_point(std::chrono::seconds(far_s)));
    CHECK(drained.drain->draining(SystemClock::now()));
    CHECK(drained.status->drain);
    // Never handed out: safe from the moment it was taken out.
    REQUIRE(monitor.set_override("one.example", "a", address("192.0.2.3"), MemberState::down) == health::OverrideResult::ok);
    const auto never = report("192.0.2.3").drain;
    REQUIRE(never);
    CHECK(never->safe_to_remove_at == never->out_since);
    // Set down again: the drain that began goes on.
    REQUIRE(monitor.set_override("one.example", "a", address("192.0.2.4"), MemberState::down) == health::OverrideResult::ok);
    CHECK(report("192.0.2.4").drain->out_since == drained.drain->out_since);
    // Answerable again: no longer draining.
    REQUIRE(monitor.set_override("one.example", "a", address("192.0.2.4"), MemberState::automatic) == health::OverrideResult::ok);
    CHECK_FALSE(report("192.0.2.4").drain);

    // A reload that removes it: gone from the pool, remembered with its drain, in status under `gone`.
    const auto slots_before = published->zones().at(0).health.handouts;
    monitor.update(zone::Snapshot({load(slots_zone("one.example"), "one.example.json")}));
    const auto gone = report("192.0.2.4");
    CHECK_FALSE(gone.status);
    REQUIRE(gone.drain);
    CHECK(gone.drain->safe_to_remove_at == SystemClock::time_point(std::chrono::seconds(far_s)));
    const health::Status status = monitor.status();
    const auto& pool_a = status.zones.at(0).pools.at(0);
    REQUIRE(pool_a.gone.size() == 1);
    CHECK(pool_a.gone[0].address == "192.0.2.4");
    health::MemberReport none;
    CHECK(monitor.member("one.example", "a", address("192.0.2.9"), none) == health::OverrideResult::no_such_member);
    // Back by a reload: a new Zone, the same slot (what workers recorded stays), no drain.
    monitor.update(zone::Snapshot({with_4()}));
    CHECK_FALSE(report("192.0.2.4").drain);
    CHECK(published->zones().at(0).health.handouts != slots_before);
    CHECK(published->zones().at(0).health.handouts->slots[0][3] == slots_before->slots[0][3]);
    monitor.close();
}

TEST_CASE("drain rule: safe to remove at the later of out_since and the last expiry", "[health][drain]") {
    using SystemClock = std::chrono::system_clock;
    const SystemClock::time_point out(std::chrono::seconds(1000));
    CHECK(health::safe_to_remove_at(out, 0) == out);
    CHECK(health::safe_to_remove_at(out, 999) == out);
    CHECK(health::safe_to_remove_at(out, 1030) == SystemClock::time_point(std::chrono::seconds(1030)));
    health::Handouts::Slot slot{0};
    health::Handouts::record(slot, 1030);
    health::Handouts::record(slot, 1010);
    CHECK(slot.load() == 1030);
    health::Handouts::record(slot, 1031);
    CHECK(slot.load() == 1031);
}
