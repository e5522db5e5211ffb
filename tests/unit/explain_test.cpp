// `dnsd explain` in process (control/explain): the report's answer, TTL and ECS
// scope are what respond() sends for the same client and rotation, for every
// pool of tests/data/e2e/geo/zones over many clients; its response is
// respond()'s byte for byte for every name of every zone, every type, several
// clients and health; its JSON carries the same facts; its arguments are checked.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "dnsd/answer/trace.hpp"

#include "dnsd/answer/respond.hpp"
#include "dnsd/control/explain.hpp"
#include "dnsd/zone/load.hpp"
#include "dnsd/zone/name.hpp"
#include "packet.hpp"

using namespace dnsd;
namespace fs = std::filesystem;

namespace {

const fs::path geo_data = fs::path(DNSD_SOURCE_DIR) / "tests/data/e2e/geo";

struct Server {
    config::Config config;
    answer::View view;
};

Server load_server() {
    core::Diagnostics diagnostics;
    auto config = config::load_file((geo_data / "config.json").string(), diagnostics);
    REQUIRE(config);
    zone::DirectoryLoad zones = zone::load_directory((geo_data / "zones").string(), config->region_names());
    REQUIRE(zones.diagnostics.empty());
    std::string error;
    Server server{*config, {}};
    server.view.snapshot = zones.snapshot;
    server.view.geo = geo::Geo::load(*config, error);
    INFO(error);
    REQUIRE(server.view.geo);
    return server;
}

struct Served {
    std::vector<std::string> answer;  // "OWNER TTL TYPE RDATA"
    std::optional<unsigned> scope;
};

Served serve(const answer::View& view, const std::string& name, uint16_t type, const core::Address& client,
             uint8_t prefix, uint64_t counter) {
    test::QuerySpec spec;
    spec.name = name;
    spec.type = type;
    spec.ecs_address = client;
    spec.ecs_prefix = prefix;
    const auto packet = test::build_query(spec);
    answer::WorkerState state;
    state.prepare(view);
    state.rotation_offset = counter;
    std::vector<uint8_t> out(65535);
    const auto outcome = answer::respond({packet, *core::Address::parse("127.0.0.1"), answer::Transport::udp},
                                         view, state, out);
    const test::Decoded decoded = test::decode({out.data(), outcome.size});
    REQUIRE(decoded.ok);
    Served served{decoded.answer, std::nullopt};
    for (const auto& line : decoded.lines) {
        const size_t at = line.find("ecs=");
        if (at != std::string::npos) served.scope = static_cast<unsigned>(std::stoul(line.substr(line.rfind('/') + 1)));
    }
    return served;
}

// explain's "owner ttl IN TYPE rdata" as the decoder writes it: "owner ttl TYPE rdata".
std::vector<std::string> without_class(const std::vector<std::string>& records) {
    std::vector<std::string> out;
    for (std::string record : records) {
        const size_t at = record.find(" IN ");
        REQUIRE(at != std::string::npos);
        out.push_back(record.erase(at, 3));
    }
    return out;
}

}  // namespace

TEST_CASE("explain: the answer, TTL and ECS scope are respond()'s for every pool and client", "[explain]") {
    const Server server = load_server();
    const char* const networks[] = {
        "10.9.1.0/24",     "10.1.0.0/24",   "10.2.3.0/24",    "192.0.2.0/26",    "192.0.2.64/26",  "192.0.2.5/32",
        "100.64.0.0/16",   "100.64.0.0/10", "100.65.1.0/24",  "100.66.0.0/16",   "198.51.100.0/24", "203.0.113.5/32",
        "203.0.113.130/32", "8.8.8.0/24",   "81.2.69.0/24",   "fd00:1::/64",     "2001:db8::/48",   "2001:db8:1::/48",
        "2001:db8:2::/48", "2001:4860::/32", "2001:db8:42::/64"};
    const char* const names[] = {"web",    "eu-down", "ap-down",     "ap-us-down",
                                 "sticky", "plain",   "plain-sticky"};
    size_t compared = 0;
    for (const char* network : networks) {
        const std::string text(network);
        const auto address = core::Address::parse(text.substr(0, text.find('/')));
        REQUIRE(address);
        const auto prefix = static_cast<uint8_t>(std::stoul(text.substr(text.find('/') + 1)));
        for (const char* name : names)
            for (uint16_t type : {zone::rrtype::A, zone::rrtype::AAAA})
                for (uint64_t counter : {0u, 1u, 2u}) {
                    const std::string qname = std::string(name) + ".geo.test";
                    INFO(qname << " " << type << " " << network << " counter " << counter);
                    const Served served = serve(server.view, qname, type, *address, prefix, counter);

                    control::ExplainRequest request;
                    request.name = qname;
                    request.type = type;
                    request.client = *address;
                    request.prefix = prefix;
                    control::ExplainOptions options;
                    options.counter = counter;
                    const control::ExplainReport e = control::explain(server.view, request, options);
                    INFO(control::to_text(e));
                    CHECK(without_class(e.answer) == served.answer);
                    CHECK(e.scope_prefix == served.scope);
                    ++compared;
                }
    }
    CHECK(compared == 21 * 7 * 2 * 3);
}

TEST_CASE("explain: the JSON report carries the region, the reason, the tiers and the answer", "[explain]") {
    const Server server = load_server();
    std::string error;
    const auto request = control::parse_explain_request("eu-down.geo.test.", "a", "192.0.2.9/26", error);
    INFO(error);
    REQUIRE(request);
    const control::ExplainReport e = control::explain(server.view, *request, {});
    const nlohmann::json json = control::to_json(e);
    INFO(json.dump(2));
    CHECK(json["question"]["type"] == "A");
    CHECK(json["client"]["ecs_source"] == "192.0.2.0/26");
    CHECK(json["client"]["from_ecs"] == true);
    CHECK(json["geo"]["region"] == "eu");
    CHECK(json["geo"]["reason"] == "continent");
    CHECK(json["geo"]["record"]["country"] == "DE");
    CHECK(json["geo"]["region_order"] == nlohmann::json::array({"eu", "us", "tokyo", "ap", "lab"}));
    CHECK(json["pool"]["tier"] == "fallback");
    CHECK(json["pool"]["tiers"][2]["region"] == "tokyo");
    CHECK(json["pool"]["tiers"][2]["answered"] == true);
    CHECK(json["pool"]["members"][0]["state"] == "down");
    CHECK(json["pool"]["members"][0]["eligible"] == false);
    CHECK(json["pool"]["ttl"] == 5);
    CHECK(json["ecs_scope"] == 26);
    CHECK(json["rcode"] == "NOERROR");
    CHECK(json["answer"] == nlohmann::json::array({"eu-down.geo.test. 5 IN A 192.0.2.15"}));
}

TEST_CASE("explain: arguments", "[explain]") {
    std::string error;
    auto masked = control::parse_explain_request("www.demo.example", "", "192.0.2.77/24", error);
    REQUIRE(masked);
    CHECK(masked->type == zone::rrtype::A);
    CHECK(masked->client.to_string() == "192.0.2.0");  // as a resolver sends it
    CHECK(masked->prefix == std::optional<uint8_t>(24));

    auto source = control::parse_explain_request("www.demo.example.", "aaaa", "2001:db8::1", error);
    REQUIRE(source);
    CHECK(source->type == zone::rrtype::AAAA);
    CHECK_FALSE(source->prefix);

    for (const auto& [name, type, client] : {std::tuple{"www", "A", "192.0.2.1/0"}, std::tuple{"www", "A", "x"},
                                              std::tuple{"www", "A", "2001:db8::/129"}, std::tuple{"www", "BOGUS", "192.0.2.1"},
                                              std::tuple{"", "A", "192.0.2.1"}, std::tuple{"a..b", "A", "192.0.2.1"}}) {
        INFO(name << " " << type << " " << client);
        error.clear();
        CHECK_FALSE(control::parse_explain_request(name, type, client, error));
        CHECK_FALSE(error.empty());
    }
}

namespace {

// Names that take the walk everywhere it goes: a CNAME loop, chains of 8 and
// 9 links, ANY at a CNAME, a zone cut whose child is served too (DS at its
// apex is the parent's), a wildcard, an empty non-terminal, additional data.
constexpr const char* walk_zone = R"({"zone": "walk.test", "soa": {"mname": "ns1", "rname": "h"},
  "records": {"@": {"NS": ["ns1", "ns2.elsewhere.example."], "MX": [{"preference": 5, "exchange": "mail"}]},
    "ns1": {"A": ["192.0.2.53"]}, "mail": {"pool": "mail"},
    "l1": {"CNAME": "l2"}, "l2": {"CNAME": "l1"},
    "c1": {"CNAME": "c2"}, "c2": {"CNAME": "c3"}, "c3": {"CNAME": "c4"}, "c4": {"CNAME": "c5"},
    "c5": {"CNAME": "c6"}, "c6": {"CNAME": "c7"}, "c7": {"CNAME": "c8"}, "c8": {"CNAME": "c9"},
    "c9": {"CNAME": "c10"}, "c10": {"A": ["192.0.2.10"], "TXT": ["end"]},
    "out": {"CNAME": "www.elsewhere.example."}, "cut": {"CNAME": "x.child"},
    "child": {"NS": ["ns.child"]}, "ns.child": {"A": ["192.0.2.54"]},
    "*.wild": {"pool": "mail", "TXT": ["wild"]}, "deep.ent.x": {"TXT": ["below an empty non-terminal"]},
    "_s._tcp": {"SRV": [{"priority": 1, "weight": 2, "port": 25, "target": "mail"}]}},
  "pools": {"mail": {"policy": "weighted", "check": {"type": "tcp", "port": 25},
                     "members": [{"address": "192.0.2.25", "region": "eu"}, {"address": "192.0.2.26", "region": "us"},
                                 {"address": "2001:db8::25", "weight": 3}]}}})";
constexpr const char* child_zone = R"({"zone": "child.walk.test", "soa": {"mname": "ns", "rname": "h"},
  "records": {"@": {"NS": ["ns"]}, "ns": {"A": ["192.0.2.54"]}, "x": {"A": ["192.0.2.55", "192.0.2.56"]}}})";

// Every zone the repository ships or tests with, and the two above.
answer::View every_zone(const config::Config& config) {
    std::vector<std::shared_ptr<const zone::Zone>> zones;
    auto add = [&](std::shared_ptr<const zone::Zone> zone) {
        REQUIRE(zone);
        zones.push_back(std::move(zone));
    };
    for (const char* dir : {"zones", "tests/golden/zones", "tests/data/e2e/zones", "tests/data/e2e/geo/zones"}) {
        zone::DirectoryLoad loaded = zone::load_directory((fs::path(DNSD_SOURCE_DIR) / dir).string(), config.region_names());
        INFO(dir << ": " << (loaded.diagnostics.empty() ? "" : loaded.diagnostics.front().to_string()));
        REQUIRE(loaded.diagnostics.empty());
        for (auto& zone : loaded.snapshot->zones) add(zone);
    }
    for (const char* text : {walk_zone, child_zone}) {
        core::Diagnostics diagnostics;
        add(zone::load_zone(text, "walk.json", config.region_names(), diagnostics));
    }
    answer::View view;
    view.snapshot = std::make_shared<const zone::Snapshot>(std::move(zones));
    return view;
}

// Health for every zone: probed members up or down by `pattern`'s bits, and
// every third member of every pool overridden by turns to down, up or auto.
std::shared_ptr<const health::HealthView> health_of(const zone::Snapshot& snapshot, uint64_t pattern) {
    auto health = std::make_shared<health::HealthView>();
    for (const auto& zone : snapshot.zones) {
        health::ZoneHealth zone_health;
        for (size_t slot = 0; slot < zone->probe_targets.size(); ++slot)
            zone_health.up.push_back(static_cast<uint8_t>((pattern >> (slot % 64)) & 1));
        for (const auto& pool : zone->pools) {
            auto& states = zone_health.states.emplace_back();
            for (size_t m = 0; m < pool.members.size(); ++m) {
                const zone::MemberState overrides[] = {zone::MemberState::down, zone::MemberState::up,
                                                       zone::MemberState::automatic};
                states.push_back(m % 3 == 0 ? overrides[(m / 3 + pattern) % 3] : pool.members[m].state);
            }
        }
        health->add(zone, std::move(zone_health));
    }
    return health;
}

}  // namespace

TEST_CASE("explain: its response is respond()'s, byte for byte, for every name, type, client and health",
          "[explain][differential]") {
    const Server server = load_server();
    answer::View base = every_zone(server.config);
    base.geo = server.view.geo;
    base.options = server.view.options;

    // Every name of every zone, a name below each (wildcards, cuts,
    // NXDOMAIN), and names outside them all.
    std::vector<std::string> names{"example.org", "walk.test.example", "."};
    for (const auto& zone : base.snapshot->zones)
        for (const auto& node : zone->nodes()) {
            std::string name = zone::to_text(node.name);
            if (name.rfind("*.", 0) == 0) name.replace(0, 1, "any-label");
            names.push_back(name);
            names.push_back("below." + name);
        }
    const uint16_t types[] = {zone::rrtype::A,   zone::rrtype::AAAA, zone::rrtype::CNAME, zone::rrtype::NS,
                              zone::rrtype::SOA, zone::rrtype::MX,   zone::rrtype::TXT,   zone::rrtype::SRV,
                              zone::rrtype::CAA, zone::rrtype::PTR,  zone::rrtype::DS,    zone::rrtype::ANY,
                              zone::rrtype::AXFR, 99};
    struct ClientCase {
        const char* address;
        uint8_t prefix;  // 0: no ECS
    };
    const ClientCase clients[] = {{"81.2.69.160", 0}, {"10.9.1.0", 24}, {"2001:db8:42::", 48}, {"203.0.113.5", 32}};
    const std::shared_ptr<const health::HealthView> healths[] = {
        nullptr, health_of(*base.snapshot, 0), health_of(*base.snapshot, 0x5555555555555555ull),
        health_of(*base.snapshot, ~0ull)};

    size_t compared = 0;
    std::vector<uint8_t> out(65535);
    for (size_t h = 0; h < std::size(healths); ++h) {
        answer::View view = base;
        view.health = healths[h];
        for (const auto& name : names)
            for (const uint16_t type : types) {
                const ClientCase& c = clients[compared % std::size(clients)];
                const uint64_t counter = compared % 5;
                const uint64_t seed = 0x1234567 + compared;
                control::ExplainRequest request;
                request.name = name;
                request.type = type;
                request.client = *core::Address::parse(c.address);
                if (c.prefix) request.prefix = c.prefix;
                control::ExplainOptions options;
                options.counter = counter;
                options.random = seed;
                const control::ExplainReport e = control::explain(view, request, options);

                test::QuerySpec spec;
                spec.name = name;
                spec.type = type;
                spec.id = 0;
                spec.rd = false;
                if (c.prefix) {
                    spec.ecs_address = request.client;
                    spec.ecs_prefix = c.prefix;
                }
                const auto packet = test::build_query(spec);
                answer::WorkerState state;
                state.prepare(view);
                state.rotation_offset = counter;
                state.rng_state = seed;
                const auto outcome = answer::respond({packet, request.client, answer::Transport::tcp}, view, state, out);
                const std::vector<uint8_t> served(out.begin(), out.begin() + static_cast<ptrdiff_t>(outcome.size));
                INFO(name << " " << type << " " << c.address << "/" << int(c.prefix) << " health " << h);
                if (e.response != served) {
                    INFO(control::to_text(e));
                    REQUIRE(e.response == served);
                }
                // The report's records are the response's, section by section.
                const test::Decoded decoded = test::decode(served);
                REQUIRE(decoded.ok);
                const auto shown = without_class(e.answer);
                REQUIRE(shown.size() == decoded.answer.size());
                for (size_t i = 0; i < shown.size(); ++i)  // escapes: the decoder's \034, the report's \"
                    if (decoded.answer[i].find('\\') == std::string::npos) CHECK(shown[i] == decoded.answer[i]);
                size_t authority = 0, additional = 0;
                for (const auto& line : decoded.lines) {
                    authority += line.rfind("authority ", 0) == 0;
                    additional += line.rfind("additional ", 0) == 0;
                }
                CHECK(e.authority.size() == authority);
                CHECK(e.additional.size() == additional);
                CHECK(e.rcode == test::rcode_name(decoded.rcode));
                ++compared;
            }
    }
    INFO(names.size() << " names");
    CHECK(compared > 5000);
}

TEST_CASE("explain: the walk a CNAME loop, a chain past 8 links and DS at a child's apex take", "[explain]") {
    const Server server = load_server();
    const answer::View view = every_zone(server.config);
    auto report = [&](const char* name, uint16_t type) {
        control::ExplainRequest request;
        request.name = name;
        request.type = type;
        request.client = *core::Address::parse("192.0.2.1");
        const control::ExplainReport e = control::explain(view, request, {});
        INFO(control::to_text(e));
        return e;
    };
    const auto loop = report("l1.walk.test", zone::rrtype::A);
    CHECK(loop.answer.size() == 2);
    CHECK(loop.steps.back() == "l2.walk.test. is an alias (CNAME) for l1.walk.test., already in the chain: a loop, not followed");

    const auto nine = report("c1.walk.test", zone::rrtype::A);
    CHECK(nine.answer.size() == 8);
    CHECK(nine.steps.back().find("past the 8 links followed") != std::string::npos);
    const auto eight = report("c2.walk.test", zone::rrtype::A);
    CHECK(eight.answer.size() == 9);
    CHECK(eight.answer.back() == "c10.walk.test. 30 IN A 192.0.2.10");

    const auto any = report("l1.walk.test", zone::rrtype::ANY);
    CHECK(any.answer == std::vector<std::string>{"l1.walk.test. 30 IN CNAME l2.walk.test."});

    const auto ds = report("child.walk.test", zone::rrtype::DS);
    CHECK(ds.zone == "walk.test");
    CHECK(ds.rcode == "NOERROR");
    CHECK(ds.authoritative);
    CHECK(ds.steps.front().find("DS is the parent's") != std::string::npos);
    CHECK(ds.authority.size() == 1);
}
