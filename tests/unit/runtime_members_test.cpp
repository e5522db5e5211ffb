// Runtime members (SPEC §11): a compiled zone with members joined to its pools
// without compiling it again, and control::State's one entry point for them
// (what is published, what is not, what survives a reload).
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/control/registrations.hpp"
#include "dnsd/control/state.hpp"
#include "dnsd/zone/load.hpp"
#include "dnsd/zone/runtime.hpp"

using namespace dnsd;

namespace {

std::string elastic_zone(const std::string& web_members = R"({ "address": "192.0.2.1" })") {
    return R"({
  "zone": "elastic.example",
  "soa": { "mname": "ns1", "rname": "hostmaster.example.", "serial": 1 },
  "records": {
    "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] },
    "rr": { "A": ["192.0.2.21", "192.0.2.22"] },
    "web": { "pool": "web" }, "api": { "pool": "api" }
  },
  "pools": {
    "web": { "check": { "type": "tcp", "port": 8080 }, "members": [)" + web_members + R"(] },
    "api": { "members": [{ "address": "192.0.2.1" }, { "address": "2001:db8::1" }] }
  }
})";
}

std::shared_ptr<const zone::Zone> load(const std::string& text) {
    core::Diagnostics diagnostics;
    const std::vector<std::string_view> regions{"eu", "us"};
    auto zone = zone::load_zone(text, "elastic.example.json", regions, diagnostics);
    std::string problems;
    for (const auto& d : diagnostics) problems += d.to_string() + "\n";
    INFO(problems);
    REQUIRE(zone);
    return zone;
}

core::Address address(const char* text) { return *core::Address::parse(text); }

zone::RuntimeMember compiled(const char* text, int32_t region = -1, uint32_t weight = 1, uint16_t port = 0) {
    return {address(text), region, weight, 0, zone::MemberState::automatic, port};
}

control::RuntimeMember given(const char* text, std::string region = "", uint32_t weight = 1) {
    return {address(text), std::move(region), weight, 0, zone::MemberState::automatic, 0};
}

const zone::Pool& pool_of(const zone::Zone& zone, const std::string& name) {
    for (const auto& pool : zone.pools)
        if (pool.name == name) return pool;
    FAIL("no pool " << name);
    throw;
}

std::vector<std::string> addresses(const zone::Pool& pool) {
    std::vector<std::string> out;
    for (const auto& member : pool.members) out.push_back(member.address.to_string());
    return out;
}

config::Config two_regions() {
    config::Config config;
    config.regions.resize(2);
    config.regions[0].name = "eu";
    config.regions[1].name = "us";
    return config;
}

std::shared_ptr<const zone::Snapshot> snapshot_of(std::shared_ptr<const zone::Zone> zone) {
    return std::make_shared<const zone::Snapshot>(std::vector<std::shared_ptr<const zone::Zone>>{std::move(zone)});
}

}  // namespace

TEST_CASE("Runtime members join their pool after its own, sharing the compiled names", "[zone][runtime]") {
    const auto base = load(elastic_zone());
    zone::RuntimePools runtime;
    runtime["web"]["registration"] = {compiled("192.0.2.7", 1, 2, 9000), compiled("192.0.2.1")};  // the file has it already
    runtime["web"]["dns:web.service.consul."] = {compiled("2001:db8::7")};
    runtime["gone"]["registration"] = {compiled("192.0.2.8")};  // no such pool: left out
    const auto derived = zone::with_runtime_members(base, runtime);

    CHECK(&derived->names() == &base->names());
    CHECK(derived->find(derived->apex) == base->find(base->apex));
    const zone::Pool& web = pool_of(*derived, "web");
    // Sources in name order: "dns:…" before "registration".
    CHECK(addresses(web) == std::vector<std::string>{"192.0.2.1", "2001:db8::7", "192.0.2.7"});
    CHECK(derived->sources[web.members[0].source] == "zone");
    CHECK(derived->sources[web.members[1].source] == "dns:web.service.consul.");
    CHECK(derived->sources[web.members[2].source] == "registration");
    CHECK(web.members[2].region == 1);
    CHECK(web.members[2].weight == 2);
    CHECK(web.v4 == std::vector<uint32_t>{0, 2});
    CHECK(web.v6 == std::vector<uint32_t>{1});
    CHECK(web.uses_geo);
    CHECK(derived->max_pool_members == 3);
    // Each member probed, the registered one on its own port.
    REQUIRE(derived->probe_targets.size() == 3);
    CHECK(derived->probe_targets.at(web.members[2].health_slot).check.port == 9000);
    CHECK(derived->probe_targets.at(web.members[0].health_slot).check.port == 8080);
    // The base is untouched.
    CHECK(addresses(pool_of(*base, "web")) == std::vector<std::string>{"192.0.2.1"});
    CHECK(base->probe_targets.size() == 1);
}

TEST_CASE("Runtime members: a pool whose set is unchanged keeps its rotation keys", "[zone][runtime][rotation]") {
    const auto base = load(elastic_zone());
    zone::RuntimePools runtime;
    runtime["web"]["registration"] = {compiled("2001:db8::7")};
    const auto derived = zone::with_runtime_members(base, runtime);
    // api did not change; web's IPv4 set did not either, its IPv6 set did.
    CHECK(pool_of(*derived, "api").rotation_keys == pool_of(*base, "api").rotation_keys);
    CHECK(pool_of(*derived, "web").rotation_keys[0] == pool_of(*base, "web").rotation_keys[0]);
    CHECK(pool_of(*derived, "web").rotation_keys[1] != pool_of(*base, "web").rotation_keys[1]);
    // Static sets are the shared tree's.
    CHECK(&derived->names().rotation_keys == &base->names().rotation_keys);
    CHECK(derived->rotation_keys.size() == base->rotation_keys.size());

    // A member that comes and goes again leaves the keys as they were.
    const auto again = zone::with_runtime_members(base, {});
    CHECK(pool_of(*again, "web").rotation_keys == pool_of(*base, "web").rotation_keys);
    // The same set yields the same keys: the rotation carries on across a re-derivation.
    CHECK(pool_of(*zone::with_runtime_members(base, runtime), "web").rotation_keys ==
          pool_of(*derived, "web").rotation_keys);
}

TEST_CASE("State: runtime members publish once per change, and a reload keeps them", "[control][runtime]") {
    control::State state(two_regions(), snapshot_of(load(elastic_zone())), nullptr);
    int health_updates = 0;
    state.set_health_updater([&](const zone::Snapshot&) { ++health_updates; });
    const auto generation = [&] { return state.published().generation(); };

    const uint64_t before = generation();
    const std::vector<control::RuntimeMember> two{given("192.0.2.9", "eu"), given("192.0.2.8", "", 3)};
    CHECK(state.set_runtime_members("Elastic.Example.", "web", "registration", two) == control::RuntimeResult::changed);
    CHECK(generation() == before + 1);
    CHECK(health_updates == 1);
    const zone::Zone& served = *state.snapshot()->zones.at(0);
    // Sorted by address, whatever order the source gave.
    CHECK(addresses(pool_of(served, "web")) == std::vector<std::string>{"192.0.2.1", "192.0.2.8", "192.0.2.9"});
    CHECK(pool_of(served, "web").members[2].region == 0);
    CHECK(pool_of(served, "web").members[1].weight == 3);

    // The same set in another order: nothing is published.
    const std::vector<control::RuntimeMember> reversed{two[1], two[0]};
    CHECK(state.set_runtime_members("elastic.example", "web", "registration", reversed) ==
          control::RuntimeResult::unchanged);
    CHECK(generation() == before + 1);
    CHECK(health_updates == 1);
    CHECK(state.set_runtime_members("elastic.example", "api", "registration", {}) == control::RuntimeResult::unchanged);
    CHECK(generation() == before + 1);

    // A reload brings a new version of the zone: the runtime members join it.
    state.set_snapshot(snapshot_of(load(elastic_zone(R"({ "address": "192.0.2.1" }, { "address": "192.0.2.2" })"))));
    CHECK(addresses(pool_of(*state.snapshot()->zones.at(0), "web")) ==
          std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.8", "192.0.2.9"});

    // An empty list removes the source's members.
    CHECK(state.set_runtime_members("elastic.example", "web", "registration", {}) == control::RuntimeResult::changed);
    CHECK(addresses(pool_of(*state.snapshot()->zones.at(0), "web")) == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
    CHECK(state.runtime_members().empty());
}

TEST_CASE("State: runtime members for what does not exist are refused, and change nothing", "[control][runtime]") {
    control::State state(two_regions(), snapshot_of(load(elastic_zone())), nullptr);
    const uint64_t before = state.published().generation();
    const std::vector<control::RuntimeMember> one{given("192.0.2.9")};
    CHECK(state.set_runtime_members("other.example", "web", "registration", one) == control::RuntimeResult::no_such_zone);
    CHECK(state.set_runtime_members("elastic.example", "www", "registration", one) == control::RuntimeResult::no_such_pool);
    CHECK(state.set_runtime_members("elastic.example", "web", "registration", {given("192.0.2.9", "ap")}) ==
          control::RuntimeResult::no_such_region);
    CHECK(state.published().generation() == before);
    CHECK(state.runtime_members().empty());
}

// ---- Registrations: leases with a clock the test moves.

namespace {

struct Leases {
    control::State state{two_regions(), snapshot_of(load(elastic_zone())), nullptr};
    std::chrono::system_clock::time_point now = std::chrono::system_clock::time_point(std::chrono::hours(500000));
    control::Registrations registrations{state, [this] { return now; }};

    control::Registration entry(const char* text, std::string region = "", uint32_t weight = 1) const {
        return {"elastic.example", "web", address(text), std::move(region), weight, 0, {}};
    }
    std::vector<std::string> web() const {
        return addresses(pool_of(*state.snapshot()->zones.at(0), "web"));
    }
};

}  // namespace

TEST_CASE("Registrations: a lease adds the member, a renewal only moves its end, its end removes it",
          "[control][registrations]") {
    Leases l;
    const uint64_t start = l.state.published().generation();
    CHECK(l.registrations.put(l.entry("192.0.2.7"), 60) == control::RegistrationResult::added);
    CHECK(l.web() == std::vector<std::string>{"192.0.2.1", "192.0.2.7"});
    CHECK(l.state.published().generation() == start + 1);
    const auto& member = pool_of(*l.state.snapshot()->zones.at(0), "web").members[1];
    CHECK(l.state.snapshot()->zones.at(0)->sources[member.source] == "registration");

    // Renewed at 50 s for another 60: no publish, the end moves to 110 s.
    l.now += std::chrono::seconds(50);
    const uint64_t version = l.registrations.version();
    CHECK(l.registrations.put(l.entry("192.0.2.7"), 60) == control::RegistrationResult::renewed);
    CHECK(l.state.published().generation() == start + 1);
    CHECK(l.registrations.version() > version);
    l.now += std::chrono::seconds(59);
    CHECK(l.registrations.expire() == 0);
    CHECK(l.web() == std::vector<std::string>{"192.0.2.1", "192.0.2.7"});
    // A new weight is a new member: published.
    CHECK(l.registrations.put(l.entry("192.0.2.7", "eu", 5), 1) == control::RegistrationResult::updated);
    CHECK(l.state.published().generation() == start + 2);
    CHECK(pool_of(*l.state.snapshot()->zones.at(0), "web").members[1].weight == 5);

    l.now += std::chrono::seconds(1);  // exactly the lease's end
    CHECK(l.registrations.expire() == 1);
    CHECK(l.web() == std::vector<std::string>{"192.0.2.1"});
    CHECK(l.registrations.size() == 0);
}

TEST_CASE("Registrations: delete, and what cannot be registered", "[control][registrations]") {
    Leases l;
    CHECK(l.registrations.put(l.entry("192.0.2.7"), 60) == control::RegistrationResult::added);
    CHECK(l.registrations.put(l.entry("2001:db8::7"), 60) == control::RegistrationResult::added);
    CHECK(l.registrations.remove("Elastic.Example.", "web", address("192.0.2.7")) == control::RegistrationResult::removed);
    CHECK(l.web() == std::vector<std::string>{"192.0.2.1", "2001:db8::7"});
    CHECK(l.registrations.remove("elastic.example", "web", address("192.0.2.7")) ==
          control::RegistrationResult::no_such_registration);

    auto other = l.entry("192.0.2.8");
    other.zone = "nowhere.example";
    CHECK(l.registrations.put(other, 60) == control::RegistrationResult::no_such_zone);
    other = l.entry("192.0.2.8");
    other.pool = "www";
    CHECK(l.registrations.put(other, 60) == control::RegistrationResult::no_such_pool);
    CHECK(l.registrations.put(l.entry("192.0.2.8", "ap"), 60) == control::RegistrationResult::no_such_region);
    CHECK(l.registrations.put(l.entry("192.0.2.1"), 60) == control::RegistrationResult::listed_in_zone);
    CHECK(l.registrations.size() == 1);
}

TEST_CASE("Registrations: those kept from before a restart join while their lease runs", "[control][registrations]") {
    Leases l;
    auto live = l.entry("192.0.2.7");
    live.expires_at = l.now + std::chrono::seconds(5);
    auto ended = l.entry("192.0.2.8");
    ended.expires_at = l.now;
    auto gone = l.entry("192.0.2.9");
    gone.pool = "gone";
    gone.expires_at = l.now + std::chrono::seconds(5);
    std::vector<std::string> skipped;
    l.registrations.restore({live, ended, gone}, skipped);
    CHECK(l.web() == std::vector<std::string>{"192.0.2.1", "192.0.2.7"});
    CHECK(l.registrations.size() == 1);
    CHECK(skipped == std::vector<std::string>{"1 in elastic.example/gone (no such pool)"});
}

TEST_CASE("Registrations: what the fleet holds is taken as it is, its end included, a delete ends it",
          "[control][registrations]") {
    Leases l;
    const uint64_t start = l.state.published().generation();
    auto seven = l.entry("192.0.2.7");
    seven.zone = "Elastic.Example.";  // as another node may spell it
    seven.expires_at = l.now + std::chrono::seconds(30);
    auto eight = l.entry("192.0.2.8", "eu", 2);
    eight.expires_at = l.now + std::chrono::seconds(30);
    l.registrations.adopt({seven, eight}, {});
    CHECK(l.web() == std::vector<std::string>{"192.0.2.1", "192.0.2.7", "192.0.2.8"});
    CHECK(l.state.published().generation() == start + 1);  // one publish for the pool

    // A moved end publishes nothing but is kept (the saver's cue); the same end changes nothing.
    uint64_t version = l.registrations.version();
    seven.expires_at = l.now + std::chrono::seconds(90);
    l.registrations.adopt({seven}, {});
    CHECK(l.registrations.version() > version);
    CHECK(l.state.published().generation() == start + 1);
    version = l.registrations.version();
    l.registrations.adopt({seven}, {});
    CHECK(l.registrations.version() == version);
    l.now += std::chrono::seconds(60);
    CHECK(l.registrations.expire() == 1);  // 192.0.2.8's end, as the fleet gave it
    CHECK(l.web() == std::vector<std::string>{"192.0.2.1", "192.0.2.7"});

    // An end that has passed ends it here too; what this node cannot hold is skipped.
    auto ended = seven;
    ended.expires_at = l.now;
    auto listed = l.entry("192.0.2.1");
    listed.expires_at = l.now + std::chrono::seconds(30);
    auto unknown_region = l.entry("192.0.2.9", "ap");
    unknown_region.expires_at = l.now + std::chrono::seconds(30);
    auto no_pool = l.entry("192.0.2.10");
    no_pool.pool = "gone";
    no_pool.expires_at = l.now + std::chrono::seconds(30);
    auto nine = l.entry("192.0.2.9");
    nine.expires_at = l.now + std::chrono::seconds(30);
    l.registrations.adopt({ended, listed, unknown_region, no_pool, nine}, {});
    CHECK(l.web() == std::vector<std::string>{"192.0.2.1", "192.0.2.9"});
    CHECK(l.registrations.size() == 1);

    l.registrations.adopt({}, {nine});
    CHECK(l.web() == std::vector<std::string>{"192.0.2.1"});
    CHECK(l.registrations.size() == 0);
}

TEST_CASE("Registration requests: each mistake is a 4xx with a reason naming it", "[control][registrations]") {
    const std::vector<std::string_view> regions{"eu", "us"};
    auto parse = [&](std::string_view address, std::string_view body) {
        std::string error;
        const auto request = control::parse_registration_request("elastic.example", "web", address, body, regions, error);
        CHECK(request.has_value() == error.empty());
        return error;
    };
    std::string error;
    const auto ok = control::parse_registration_request("elastic.example", "web", "2001:db8::7",
                                                        R"({"lease": 60, "region": "eu", "weight": 0, "port": 8080})",
                                                        regions, error);
    REQUIRE(ok);
    CHECK(ok->lease_s == 60);
    CHECK(ok->registration.region == "eu");
    CHECK(ok->registration.weight == 0);
    CHECK(ok->registration.port == 8080);
    CHECK(parse("192.0.2.7", R"({"lease": 86400})").empty());
    CHECK(parse("192.0.2.7", R"({"lease": 1})").empty());

    CHECK(parse("web1", R"({"lease": 60})") == "not an IP address: web1");
    CHECK(parse("0.0.0.0", R"({"lease": 60})") == "0.0.0.0 cannot be a member: it is the unspecified address");
    CHECK(parse("239.1.1.1", R"({"lease": 60})") == "239.1.1.1 cannot be a member: it is a multicast address");
    CHECK(parse("::ffff:192.0.2.7", R"({"lease": 60})") ==
          "::ffff:192.0.2.7 cannot be a member: it is an IPv4 address written as IPv6 (the wrong family for an "
          "AAAA answer); register 192.0.2.7 instead");
    CHECK(parse("192.0.2.7", "{\"lease\": 60") ==
          R"(the body is not a JSON object; expected {"lease": 60, "region": "eu", "weight": 1, "port": 8080})");
    CHECK(parse("192.0.2.7", "[60]").starts_with("the body is not a JSON object"));
    CHECK(parse("192.0.2.7", "{}") == R"("lease" (seconds, 1 to 86400) is required)");
    CHECK(parse("192.0.2.7", R"({"lease": 0})") == R"("lease" must be a whole number from 1 to 86400, not 0)");
    CHECK(parse("192.0.2.7", R"({"lease": 86401})") == R"("lease" must be a whole number from 1 to 86400, not 86401)");
    CHECK(parse("192.0.2.7", R"({"lease": 6.5})") == R"("lease" must be a whole number from 1 to 86400, not 6.5)");
    CHECK(parse("192.0.2.7", R"({"lease": "60"})") == R"("lease" must be a whole number from 1 to 86400, not "60")");
    CHECK(parse("192.0.2.7", R"({"lease": 18446744073709551615})") ==
          R"("lease" must be a whole number from 1 to 86400, not 18446744073709551615)");
    CHECK(parse("192.0.2.7", R"({"lease": 60, "port": 0})") == R"("port" must be a whole number from 1 to 65535, not 0)");
    CHECK(parse("192.0.2.7", R"({"lease": 60, "weight": -1})") ==
          R"("weight" must be a whole number from 0 to 2147483647, not -1)");
    CHECK(parse("192.0.2.7", R"({"lease": 60, "region": "ap"})") ==
          R"(no region "ap" in the config; its regions are eu, us)");
    CHECK(parse("192.0.2.7", R"({"lease": 60, "region": 1})") == R"("region" must be a region's name)");
    CHECK(parse("192.0.2.7", R"({"lease": 60, "ttl": 5})") ==
          R"(unknown key "ttl"; a registration takes lease, region, weight and port)");
}
