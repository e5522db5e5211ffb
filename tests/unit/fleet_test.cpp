// The fleet's pure parts (SPEC §13): the quorum rule with an injected clock,
// its config section, the records nodes exchange through NATS, and the shared
// zones cache in the state directory.
#include <catch2/catch.hpp>

#include <filesystem>

#include "dnsd/config/config.hpp"
#include "dnsd/fleet/fleet.hpp"
#include "dnsd/fleet/latency_records.hpp"
#include "dnsd/fleet/quorum.hpp"
#include "dnsd/fleet/records.hpp"
#include "dnsd/fleet/zone_cache.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace dnsd;
using namespace std::chrono_literals;
using config::Quorum;
using fleet::Clock;
using fleet::Vote;

namespace {

const Clock::time_point now = Clock::time_point{} + 1000s;
constexpr Clock::duration stale_after = 15s;

// `down` nodes saying down and `up` saying up, all heard from just now.
std::vector<Vote> votes(int down, int up) {
    std::vector<Vote> out;
    for (int i = 0; i < down; ++i) out.push_back({false, now});
    for (int i = 0; i < up; ++i) out.push_back({true, now});
    return out;
}

bool up(const std::vector<Vote>& v, Quorum quorum) { return fleet::decide(v, quorum, now, stale_after).up; }

std::string all(const core::Diagnostics& diagnostics) {
    std::string out;
    for (const auto& d : diagnostics) out += d.to_string() + "\n";
    return out;
}

}  // namespace

TEST_CASE("fleet quorum: any, majority, all and at least N among three nodes") {
    const Quorum any{Quorum::Rule::any, 0}, majority{}, every{Quorum::Rule::all, 0}, two{Quorum::Rule::at_least, 2};
    CHECK(up(votes(0, 3), any));
    CHECK_FALSE(up(votes(1, 2), any));
    CHECK(up(votes(1, 2), majority));
    CHECK_FALSE(up(votes(2, 1), majority));
    CHECK(up(votes(2, 1), every));
    CHECK_FALSE(up(votes(3, 0), every));
    CHECK(up(votes(1, 2), two));
    CHECK_FALSE(up(votes(2, 1), two));
    // More than half: two of four is not a majority, three is.
    CHECK(up(votes(2, 2), majority));
    CHECK_FALSE(up(votes(3, 1), majority));
    // A node alone decides for itself under every rule.
    for (const Quorum& q : {any, majority, every}) {
        CHECK(up(votes(0, 1), q));
        CHECK_FALSE(up(votes(1, 0), q));
    }
    // At least N is never met by fewer nodes than N.
    CHECK(up(votes(1, 0), two));
}

TEST_CASE("fleet quorum: nodes not heard from within stale_after are not counted") {
    std::vector<Vote> v{{false, now - 16s}, {false, now - 15s}, {true, now - 1s}};
    const auto decision = fleet::decide(v, Quorum{}, now, stale_after);
    CHECK(decision.counted == 2);
    CHECK(decision.down == 1);
    CHECK(decision.up);  // one of two is not more than half
    // The same votes a second later: the second node is stale too.
    const auto later = fleet::decide(v, Quorum{}, now + 1s, stale_after);
    CHECK(later.counted == 1);
    CHECK(later.up);
    // Nobody heard from: no verdict against the member.
    CHECK(fleet::decide(v, Quorum{Quorum::Rule::any, 0}, now + 60s, stale_after).up);
    CHECK(fleet::decide({}, Quorum{}, now, stale_after).counted == 0);
}

TEST_CASE("fleet config: every key of SPEC §13") {
    core::Diagnostics diagnostics;
    auto c = config::load_text(R"({"fleet": {"nats": ["nats://10.0.0.5:4222", "nats://10.0.0.6:4222"], "node": "ns1-fra",
        "health_quorum": "all", "stale_after": 30, "zones": "shared", "creds": "nats.creds"}})",
                               "/etc/dnsd/dnsd.json", diagnostics);
    INFO(all(diagnostics));
    REQUIRE(c);
    REQUIRE(c->fleet);
    CHECK(c->fleet->nats == std::vector<std::string>{"nats://10.0.0.5:4222", "nats://10.0.0.6:4222"});
    CHECK(c->fleet->node == "ns1-fra");
    CHECK(c->fleet->health_quorum == Quorum{Quorum::Rule::all, 0});
    CHECK(c->fleet->stale_after_s == 30);
    CHECK(c->fleet->zones == config::Fleet::Zones::shared);
    CHECK(c->fleet->creds == "/etc/dnsd/nats.creds");

    auto d = config::load_text(R"({"fleet": {"nats": "nats://127.0.0.1:4222", "health_quorum": 2, "token": "s"}})",
                               "d.json", diagnostics);
    REQUIRE(d);
    CHECK(d->fleet->health_quorum == Quorum{Quorum::Rule::at_least, 2});
    CHECK(d->fleet->token == "s");
    CHECK(d->fleet->stale_after_s == 15);
    CHECK(d->fleet->zones == config::Fleet::Zones::local);
    CHECK_FALSE(d->fleet->node.empty());  // the host name

    auto alone = config::load_text("{}", "d.json", diagnostics);
    REQUIRE(alone);
    CHECK_FALSE(alone->fleet);
}

TEST_CASE("fleet config: each bad key is a FILE:LINE:COL diagnostic") {
    const std::pair<std::string, std::string> cases[] = {
        {R"({"fleet": {"node": "a"}})", "d.json:1:11: \"fleet\" needs \"nats\""},
        {R"({"fleet": {"nats": []}})", "d.json:1:20: \"nats\" is empty"},
        {R"({"fleet": {"nats": ["http://x:4222"]}})", "d.json:1:21: \"http://x:4222\" is not a NATS URL"},
        {R"({"fleet": {"nats": "nats://x", "node": "a b"}})", "d.json:1:40: \"a b\" is not a node name"},
        {R"({"fleet": {"nats": "nats://x", "token": "t", "creds": "c"}})",
         "d.json:1:55: give \"token\" or \"creds\", not both"},
        {R"({"fleet": {"nats": "nats://x", "health_quorum": "most"}})", "d.json:1:49: unknown \"health_quorum\" \"most\""},
        {R"({"fleet": {"nats": "nats://x", "health_quorum": 0}})", "d.json:1:49: \"health_quorum\" is too small"},
        {R"({"fleet": {"nats": "nats://x", "stale_after": 0}})", "d.json:1:47: \"stale_after\" is too small"},
        {R"({"fleet": {"nats": "nats://x", "zones": "all"}})", "d.json:1:41: unknown \"zones\" \"all\""},
        {R"({"fleet": {"nats": "nats://x", "quorum": 1}})", "d.json:1:32: unknown key \"quorum\""},
        {R"({"fleet": "nats://x"})", "d.json:1:11: \"fleet\" must be"},
    };
    for (const auto& [text, expected] : cases) {
        core::Diagnostics diagnostics;
        INFO(text);
        CHECK_FALSE(config::load_text(text, "d.json", diagnostics));
        REQUIRE_FALSE(diagnostics.empty());
        CHECK_THAT(diagnostics.front().to_string(), Catch::StartsWith(expected));
    }
}

TEST_CASE("fleet records: keys are the same on every node and cannot be split by what names hold") {
    CHECK(fleet::escape_key_part("svc.example.com") == "svc=2Eexample=2Ecom");
    CHECK(fleet::escape_key_part("2001:db8::1") == "2001=3Adb8=3A=3A1");
    CHECK(fleet::escape_key_part("web_1-a") == "web_1-a");
    const health::Override o{"svc.example.com", "web", *core::Address::parse("192.0.2.10"), zone::MemberState::down};
    CHECK(fleet::override_key(o) == "override.svc=2Eexample=2Ecom.web.192=2E0=2E2=2E10");
    CHECK(fleet::vote_key("ns1", "127.0.0.1:80 http /") == "vote.ns1.127=2E0=2E0=2E1=3A80=20http=20=2F");
    CHECK(fleet::node_key("ns1.fra") == "node.ns1=2Efra");
    const fleet::Registration r{"svc.example.com", "web", *core::Address::parse("2001:db8::40"), "", 1, 0, {}};
    CHECK(fleet::registration_key(r) == "registration.svc=2Eexample=2Ecom.web.2001=3Adb8=3A=3A40");
}

TEST_CASE("fleet records: what a node writes, another reads back") {
    core::Diagnostics diagnostics;
    const health::Override o{"svc.example.com", "web", *core::Address::parse("2001:db8::10"), zone::MemberState::up};
    CHECK(fleet::decode_override(fleet::encode_override(o, "ns1"), "k", diagnostics) == o);

    fleet::Heartbeat h;
    h.node = "ns2";
    h.version = "1.2.3";
    h.started_at_s = 1700000000;
    h.sent_at_ms = 1700000000123;
    h.zones = {{"a.example", 7}, {"b.example", 4294967295u}};
    h.zone_errors = {"zones/c.json:1:2: bad"};
    h.zones_revision = 12;
    CHECK(fleet::decode_heartbeat(fleet::encode_heartbeat(h), "k", diagnostics) == h);

    const auto vote = fleet::decode_vote(fleet::encode_vote({"ns3", "127.0.0.1:80 tcp", false}), "k", diagnostics);
    REQUIRE(vote);
    CHECK(vote->node == "ns3");
    CHECK(vote->target == "127.0.0.1:80 tcp");
    CHECK_FALSE(vote->up);

    fleet::ZoneSet zones;
    zones.files = {{"a.example.json", "{}"}, {"b.example.json", "{\"zone\": \"b.example\"}"}};
    zones.pushed_at_s = 42;
    zones.pushed_by = "ci";
    const auto back = fleet::decode_zone_set(fleet::encode_zone_set(zones), "k", diagnostics);
    REQUIRE(back);
    CHECK(back->files == zones.files);
    CHECK(back->pushed_at_s == 42);

    const fleet::Registration r{"svc.example.com", "web", *core::Address::parse("192.0.2.40"), "eu", 3, 8080,
                                std::chrono::system_clock::time_point(1767225600123ms)};
    CHECK(fleet::decode_registration(fleet::encode_registration(r, "ns1"), "k", diagnostics) == r);
    // Only the address and the lease's end are needed; the rest has defaults.
    const auto minimal = fleet::decode_registration(
        R"({"zone": "svc.example.com", "pool": "web", "address": "2001:db8::40", "expires_at_ms": 5})", "k",
        diagnostics);
    REQUIRE(minimal);
    CHECK(minimal->region.empty());
    CHECK(minimal->weight == 1);
    CHECK(minimal->port == 0);
    CHECK(minimal->expires_at == std::chrono::system_clock::time_point(5ms));
    CHECK(diagnostics.empty());
}

TEST_CASE("fleet registrations: a renewal is written when the fleet's end would lag by more than a quarter lease") {
    using Time = std::chrono::system_clock::time_point;
    const Time held(1000s);
    CHECK_FALSE(fleet::renewal_worth_writing(held, held, 60s));
    CHECK_FALSE(fleet::renewal_worth_writing(held, held + 15s, 60s));
    CHECK(fleet::renewal_worth_writing(held, held + 15s + 1ms, 60s));
    // A 300 s lease renewed every 10 s: written every eighth renewal (80 s), not every one.
    Time written = held;
    int writes = 0;
    for (int renewal = 1; renewal <= 18; ++renewal) {
        const Time end = held + renewal * 10s;
        if (!fleet::renewal_worth_writing(written, end, 300s)) continue;
        ++writes;
        written = end;
        CHECK(renewal % 8 == 0);
    }
    CHECK(writes == 2);
    // A shorter lease is always written: no node keeps a member longer than asked.
    CHECK(fleet::renewal_worth_writing(held, held - 1s, 60s));
}

TEST_CASE("fleet records: a bad record is refused with where and why") {
    core::Diagnostics diagnostics;
    CHECK_FALSE(fleet::decode_override(R"({"zone": "z", "pool": "p", "address": "x", "state": "down"})", "k",
                                       diagnostics));
    CHECK_FALSE(fleet::decode_override(R"({"zone": "z", "pool": "p", "address": "192.0.2.1", "state": "auto"})", "k",
                                       diagnostics));
    CHECK_FALSE(fleet::decode_vote(R"({"node": "n", "target": "t", "health": "maybe"})", "k", diagnostics));
    CHECK_FALSE(fleet::decode_heartbeat(R"({"node": "n", "zones": {"a": -1}})", "k", diagnostics));
    CHECK_FALSE(fleet::decode_heartbeat("{\"node\": ", "k", diagnostics));
    // A zone set can never name a file outside the directory it is written to.
    CHECK_FALSE(fleet::decode_zone_set(R"({"files": {"../x.json": "{}"}})", "k", diagnostics));
    CHECK_FALSE(fleet::decode_zone_set(R"({"files": {".hidden.json": "{}"}})", "k", diagnostics));
    CHECK_FALSE(fleet::decode_zone_set(R"({"files": {"a/b.json": "{}"}})", "k", diagnostics));
    CHECK_FALSE(fleet::decode_registration(R"({"zone": "z", "pool": "p", "address": "x", "expires_at_ms": 1})", "k",
                                           diagnostics));
    CHECK_FALSE(fleet::decode_registration(R"({"zone": "z", "pool": "p", "address": "192.0.2.1"})", "k", diagnostics));
    CHECK_FALSE(fleet::decode_registration(
        R"({"zone": "z", "pool": "p", "address": "192.0.2.1", "expires_at_ms": 1, "port": 65536})", "k", diagnostics));
    CHECK_FALSE(fleet::decode_registration(
        R"({"zone": "z", "pool": "p", "address": "192.0.2.1", "expires_at_ms": 1, "lease": 60})", "k", diagnostics));
    REQUIRE(diagnostics.size() >= 12);
    for (const auto& d : diagnostics) {
        CHECK(d.file == "k");
        CHECK(d.line > 0);
    }
    CHECK_FALSE(fleet::is_zone_file_name("x.json.tmp"));
    CHECK(fleet::is_zone_file_name("svc.example.com.json"));
}

TEST_CASE("fleet latency records: one key per node and network, a node reads back what another wrote") {
    const std::vector<std::string_view> regions{"eu", "us", "ap"};
    const auto network = latency::network_of(*core::Address::parse("81.2.69.17"));
    CHECK(fleet::latency_key("ns1.fra", network) == "latency.ns1=2Efra.81=2E2=2E69=2E0=2F24");
    const auto v6 = latency::network_of(*core::Address::parse("2001:db8:1:2::7"));
    CHECK(fleet::latency_key("ns2", v6) == "latency.ns2.2001=3Adb8=3A1=3A=3A=2F48");
    const auto key = fleet::parse_latency_key("latency.ns2.2001=3Adb8=3A1=3A=3A=2F48");
    REQUIRE(key);
    CHECK(key->node == "ns2");
    CHECK(key->network == v6);
    CHECK_FALSE(fleet::parse_latency_key("override.a.b.c"));
    CHECK_FALSE(fleet::parse_latency_key("latency.ns1.81=2E2=2E69=2E7=2F24"));  // not the network's first address
    CHECK_FALSE(fleet::parse_latency_key("latency.ns1.81=2E2=2E69=2E0=2F16"));
    CHECK_FALSE(fleet::parse_latency_key("latency.ns1.81=2E2=2E69=2E0=2F24.x"));
    CHECK_FALSE(fleet::parse_latency_key("latency..81=2E2=2E69=2E0=2F24"));

    std::vector<latency::Cell> cells(3);
    cells[0] = {18.5f, 4.25f, 7, 1764806400};
    cells[2] = {90.125f, 0.3f, 1, 1764806000};
    const std::string value = fleet::encode_latency(cells, regions);
    CHECK(value == "1 eu,18.5,4.25,7,1764806400 ap,90.125,0.3,1,1764806000");
    core::Diagnostics diagnostics;
    const auto record = fleet::decode_latency(fleet::latency_key("ns1", network), value, regions, "k", diagnostics);
    REQUIRE(record);
    CHECK(diagnostics.empty());
    CHECK(record->node == "ns1");
    CHECK(record->network == network);
    REQUIRE(record->cells.size() == 3);
    for (size_t r = 0; r < 3; ++r) {
        CHECK(record->cells[r].mean_ms == cells[r].mean_ms);
        CHECK(record->cells[r].weight == cells[r].weight);
        CHECK(record->cells[r].samples == cells[r].samples);
        CHECK(record->cells[r].updated_s == cells[r].updated_s);
    }
    // A node with other regions reads those it has, by name.
    const std::vector<std::string_view> others{"ap", "sa"};
    const auto other = fleet::decode_latency(fleet::latency_key("ns1", network), value, others, "k", diagnostics);
    REQUIRE(other);
    CHECK(other->cells[0].samples == 1);
    CHECK(other->cells[1].samples == 0);
    CHECK(diagnostics.empty());
}

TEST_CASE("fleet latency records: a bad record is refused with where and why") {
    const std::vector<std::string_view> regions{"eu", "us"};
    const std::string key = "latency.ns1.81=2E2=2E69=2E0=2F24";
    struct Bad {
        std::string key, value;
        uint32_t column;
    };
    const Bad bad[] = {
        {"latency.ns1.81=2E2=2E69=2E7=2F24", "1 eu,18.5,4.25,7,1764806400", 1},
        {key, "", 1},
        {key, "1", 2},
        {key, "2 eu,18.5,4.25,7,1764806400", 1},
        {key, "1 eu,18.5,4.25,7", 3},
        {key, "1 eu,18.5,4.25,7,1764806400,9", 3},
        {key, "1 eu,0,4.25,7,1764806400", 6},
        {key, "1 eu,nan,4.25,7,1764806400", 6},
        {key, "1 eu,18.5,-1,7,1764806400", 11},
        {key, "1 eu,18.5,4.25,0,1764806400", 16},
        {key, "1 eu,18.5,4.25,7,-5", 18},
        {key, "1 eu,18.5,4.25,7,1764806400  us,1,1,1,1", 29},
        {key, "1 eu,18.5,4.25,7,1764806400 eu,1,1,1,1", 29},
        {key, "1 e=2,18.5,4.25,7,1764806400", 3},
    };
    for (const Bad& b : bad) {
        INFO(b.key << " " << b.value);
        core::Diagnostics diagnostics;
        CHECK_FALSE(fleet::decode_latency(b.key, b.value, regions, "dnsd_latency:k", diagnostics));
        REQUIRE(diagnostics.size() == 1);
        CHECK(diagnostics[0].file == "dnsd_latency:k");
        CHECK(diagnostics[0].line == 1);
        CHECK(diagnostics[0].column == b.column);
    }
}

TEST_CASE("fleet zone cache: a set replaces the directory whole, with the push time as file time") {
    test::TempDir state("fleet-cache");
    fs::path dir;
    std::string error;
    REQUIRE(fleet::prepare_zone_cache(state.path(), dir, error));
    CHECK(dir == state.path() / "shared-zones");
    CHECK(fs::is_directory(dir));
    CHECK_FALSE(fleet::cached_revision(dir));

    fleet::ZoneSet first;
    first.files = {{"a.example.json", "A"}, {"b.example.json", "B"}};
    first.pushed_at_s = 1700000000;
    REQUIRE(fleet::write_zone_cache(dir, first, 3, error));
    CHECK(test::read_text(dir / "a.example.json") == "A");
    CHECK(fleet::cached_revision(dir) == 3u);
    const auto time = fs::last_write_time(dir / "b.example.json");
    CHECK(std::chrono::file_clock::to_sys(time) == std::chrono::system_clock::from_time_t(1700000000));

    fleet::ZoneSet second;
    second.files = {{"b.example.json", "B2"}};
    REQUIRE(fleet::write_zone_cache(dir, second, 4, error));
    CHECK_FALSE(fs::exists(dir / "a.example.json"));
    CHECK(test::read_text(dir / "b.example.json") == "B2");
    CHECK(fleet::cached_revision(dir) == 4u);
    CHECK_FALSE(fs::exists(dir.string() + ".new"));
    CHECK_FALSE(fs::exists(dir.string() + ".old"));

    // A replacement cut short between its renames: the staged set is put in place.
    fs::rename(dir, dir.string() + ".new");
    REQUIRE(fleet::prepare_zone_cache(state.path(), dir, error));
    CHECK(test::read_text(dir / "b.example.json") == "B2");
}
