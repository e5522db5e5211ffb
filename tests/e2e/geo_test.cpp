// GeoDNS against the real binary (SPEC §2, §4): region resolution, tiers,
// fail open, degraded_ttl and ECS scopes through `dig +subnet`, malformed ECS,
// `ecs: false`, the shipped database with the default config, and `dnsd
// explain` agreeing with the server.
//
// tests/data/e2e/geo/config.json places clients with the GeoIP2-layout fixture
// tests/data/geoip/geoip2.mmdb (networks in tests/data/geoip/generate):
//   lab   subnets 10.0.0.0/8, fd00::/8 (no location)
//   eu    continents EU AF, subnet 10.9.0.0/16, Frankfurt
//   us    continents NA SA, Ashburn; the default_region
//   ap    continents AS OC, Singapore, fallback [us]
//   tokyo country JP, Tokyo
// Pool web of tests/data/e2e/geo/zones/geo.test.json has one member per
// region and family, so an answer names the region that answered.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <sstream>

#include "tests/e2e/harness.hpp"

namespace dnsd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

const std::filesystem::path geo_dir = data_dir() / "geo";
const std::filesystem::path geo_config = geo_dir / "config.json";
const std::filesystem::path geo_zones = geo_dir / "zones";
const std::filesystem::path source_dir = DNSD_SOURCE_DIR;

Dnsd start_geo(const std::filesystem::path& config = geo_config, const std::filesystem::path& zones = geo_zones) {
    DnsdOptions options;
    options.zones_dir = zones;
    options.extra_args = {"--config", config.string(), "--threads", "1"};
    return Dnsd(options);
}

// One answer through dig: its records (as text, in order), TTLs and the echoed ECS.
struct Answer {
    std::string status;
    std::vector<std::string> addresses;
    std::vector<uint32_t> ttls;
    std::optional<std::string> client_subnet;  // "ADDRESS/SOURCE/SCOPE"
    std::vector<std::string> records;          // Rr::text(), in order
};

Answer ask(const Dnsd& server, const std::string& name, const std::string& type, const std::string& subnet = "") {
    std::vector<std::string> args{name, type};
    if (!subnet.empty()) args.push_back("+subnet=" + subnet);
    const DigResult result = dig(server.port(), args);
    INFO(result.output);
    REQUIRE(result.answered);
    Answer out;
    out.status = result.status;
    out.client_subnet = result.client_subnet;
    for (const auto& rr : result.answer) {
        out.records.push_back(rr.text());
        if (rr.type == "A" || rr.type == "AAAA") {
            out.addresses.push_back(rr.rdata);
            out.ttls.push_back(rr.ttl);
        }
    }
    return out;
}

// The scope dig printed: the last field of "ADDRESS/SOURCE/SCOPE".
std::optional<unsigned> scope_of(const Answer& answer) {
    if (!answer.client_subnet) return std::nullopt;
    const std::string& text = *answer.client_subnet;
    return static_cast<unsigned>(std::stoul(text.substr(text.rfind('/') + 1)));
}

std::vector<std::string> sorted(std::vector<std::string> list) {
    std::sort(list.begin(), list.end());
    return list;
}

// `dnsd explain` output, split into its facts.
struct Explained {
    CommandResult run;
    std::map<std::string, std::string> facts;  // "region" → "eu, by subnet 10.9.0.0/16"
    std::vector<std::string> answer;           // the records after "answer:", normalised like Rr::text()

    std::string fact(const std::string& key) const {
        auto it = facts.find(key);
        return it == facts.end() ? "(no \"" + key + "\" line)" : it->second;
    }
};

Explained explain(const std::vector<std::string>& args) {
    std::vector<std::string> argv{DNSD_BINARY, "explain"};
    argv.insert(argv.end(), args.begin(), args.end());
    Explained out;
    out.run = run_command(argv, 60s);
    std::istringstream lines(out.run.out);
    bool in_answer = false;
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        if (line.front() != ' ') {
            const size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            const std::string key = line.substr(0, colon);
            const size_t value = line.find_first_not_of(' ', colon + 1);
            out.facts[key] = value == std::string::npos ? "" : line.substr(value);
            in_answer = key == "answer";
        } else if (in_answer) {
            // "  web.geo.test. 30 IN A 192.0.2.2": the same fields dig prints.
            std::istringstream words(line);
            std::string owner, ttl, cls, type, rdata;
            words >> owner >> ttl >> cls >> type >> rdata;
            out.answer.push_back(owner + " " + ttl + " " + cls + " " + type + " " + rdata);
        }
    }
    return out;
}

Explained explain_geo(const std::string& name, const std::string& type, const std::string& client,
                      const std::filesystem::path& config = geo_config) {
    return explain({"--config", config.string(), "--zones", geo_zones.string(), name, type, "--client", client});
}

// The scope `dnsd explain` reports: the number after "/" on its "ecs scope" line.
std::optional<unsigned> scope_of(const Explained& explained) {
    const std::string scope = explained.fact("ecs scope");
    if (scope.empty() || scope.front() != '/') return std::nullopt;
    return static_cast<unsigned>(std::stoul(scope.substr(1)));
}

// Checks that `dnsd explain` for this question tells what the server answered.
void check_explain_agrees(const Answer& served, const std::string& name, const std::string& type,
                          const std::string& subnet, const std::string& region_line) {
    const Explained explained = explain_geo(name, type, subnet);
    INFO("dnsd explain " << name << " " << type << " --client " << subnet << "\n" << explained.run.out
                         << explained.run.err);
    CHECK(explained.run.exit_code == 0);
    CHECK(explained.fact("region") == region_line);
    CHECK(explained.answer == served.records);
    CHECK(scope_of(explained) == scope_of(served));
}

// A loopback TCP port nothing listens on: bound, read back, closed.
uint16_t closed_port(const char* address) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, address, &sa.sin_addr) == 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t size = sizeof sa;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &size) == 0);
    ::close(fd);
    return ntohs(sa.sin_port);
}

}  // namespace

TEST_CASE("geo: every step of region resolution, through ECS", "[geo]") {
    Dnsd server = start_geo();
    struct Case {
        const char* subnet;
        const char* type;
        const char* address;  // web's member of the region expected
        const char* region;   // `dnsd explain`'s region line
    };
    const Case cases[] = {
        // The longest subnet wins: eu's 10.9.0.0/16 inside lab's 10.0.0.0/8.
        {"10.9.1.0/24", "A", "192.0.2.2", "eu, by subnet 10.9.0.0/16"},
        // A subnet beats the GeoIP record (10.1.0.0/16 is DE, continent EU).
        {"10.1.0.0/24", "A", "192.0.2.1", "lab, by subnet 10.0.0.0/8"},
        {"fd00:1::/48", "AAAA", "2001:db8::1", "lab, by subnet fd00::/8"},
        // A country beats a continent: JP is listed by tokyo, AS by ap.
        {"192.0.2.64/26", "A", "192.0.2.5", "tokyo, by country JP"},
        {"2001:db8:1::/48", "AAAA", "2001:db8::5", "tokyo, by country JP"},
        {"192.0.2.0/26", "A", "192.0.2.2", "eu, by continent EU"},
        // Records without a country: a continent, then only coordinates (Reykjavik).
        {"100.64.0.0/16", "A", "192.0.2.4", "ap, by continent OC"},
        {"2001:db8:2::/48", "AAAA", "2001:db8::3", "us, by continent NA"},
        {"100.65.0.0/16", "A", "192.0.2.2", "eu, by distance: the nearest location, 2378 km away"},
        // A record with nothing in it, and no record at all.
        {"100.66.0.0/16", "A", "192.0.2.3",
         "us, by default_region: no subnet, country, continent or location matched"},
        {"203.0.114.0/24", "A", "192.0.2.3",
         "us, by default_region: no subnet, country, continent or location matched"},
    };
    for (const Case& c : cases) {
        INFO(c.subnet << " " << c.type);
        const Answer answer = ask(server, "web.geo.test.", c.type, c.subnet);
        CHECK(answer.status == "NOERROR");
        CHECK(answer.addresses == std::vector<std::string>{c.address});
        CHECK(answer.ttls == std::vector<uint32_t>{30});
        check_explain_agrees(answer, "web.geo.test", c.type, c.subnet, c.region);
    }
    // Without ECS the packet's source decides: 127.0.0.1 has no record, so us.
    CHECK(ask(server, "web.geo.test.", "A").addresses == std::vector<std::string>{"192.0.2.3"});
}

TEST_CASE("geo: tiers in order — fallback list, distance, config order — with degraded_ttl", "[geo]") {
    Dnsd server = start_geo();
    struct Case {
        const char* name;
        const char* subnet;
        const char* address;
        const char* why;
    };
    const Case cases[] = {
        // eu drained; from Germany tokyo (9,300 km) comes before ap (10,200 km),
        // though ap comes first in the config.
        {"eu-down.geo.test.", "192.0.2.0/26", "192.0.2.15", "distance from the client"},
        // A lab client without coordinates, lab without a location: config order, ap before tokyo.
        {"eu-down.geo.test.", "10.2.0.0/16", "192.0.2.14", "config order"},
        // ap drained; its fallback list names only us, though tokyo and eu have members.
        {"ap-down.geo.test.", "100.64.0.0/16", "192.0.2.23", "fallback list"},
    };
    for (const Case& c : cases) {
        INFO(c.name << " " << c.subnet << ": " << c.why);
        const Answer answer = ask(server, c.name, "A", c.subnet);
        CHECK(answer.addresses == std::vector<std::string>{c.address});
        CHECK(answer.ttls == std::vector<uint32_t>{5});
        const Explained explained = explain_geo(c.name, "A", c.subnet);
        INFO(explained.run.out << explained.run.err);
        CHECK(explained.answer == answer.records);
        CHECK(explained.fact("region order").find(c.why) != std::string::npos);
        CHECK(explained.fact("ttl") == "5 (degraded_ttl: not the primary tier)");
    }
    // The primary tier keeps the pool's ttl.
    CHECK(ask(server, "ap-down.geo.test.", "A", "198.51.100.0/24").ttls == std::vector<uint32_t>{30});
}

TEST_CASE("geo: fail open when no tier has an eligible member, drained members excluded", "[geo]") {
    Dnsd server = start_geo();
    // ap's tiers are ap and us (its fallback list), both drained: eu and tokyo
    // are in no tier, so only failing open reaches them.
    for (int i = 0; i < 4; ++i) {
        const Answer answer = ask(server, "ap-us-down.geo.test.", "A", "100.64.0.0/16");
        CHECK(sorted(answer.addresses) == std::vector<std::string>{"192.0.2.32", "192.0.2.35"});
        CHECK(answer.ttls == std::vector<uint32_t>{5, 5});
    }
    const Explained explained = explain_geo("ap-us-down.geo.test", "A", "100.64.0.0/16");
    INFO(explained.run.out);
    CHECK(explained.run.out.find("fail open") != std::string::npos);
    CHECK(sorted(explained.answer) == sorted(ask(server, "ap-us-down.geo.test.", "A", "100.64.0.0/16").records));
}

TEST_CASE("geo: fail open when health takes every member of every tier down", "[geo][health]") {
    TempDir zones;
    const uint16_t port = closed_port("127.0.0.21");
    zones.write("probed.test.json", R"({
  "zone": "probed.test",
  "soa": { "mname": "ns1", "rname": "hostmaster", "serial": 1 },
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] }, "www": { "pool": "web" } },
  "pools": {
    "web": {
      "ttl": 30, "degraded_ttl": 5,
      "check": { "type": "tcp", "port": )" + std::to_string(port) + R"(, "interval": 0.5, "timeout": 0.2, "rise": 1, "fall": 1 },
      "members": [
        { "address": "127.0.0.21", "region": "eu" },
        { "address": "127.0.0.22", "region": "us" },
        { "address": "127.0.0.23", "region": "ap", "state": "down" }
      ]
    }
  }
})");
    Dnsd server = start_geo(geo_config, zones.path());
    // Members start up; once the probes fail, eu and then us have no eligible
    // member, and the answer fails open to both, never to the drained one.
    const auto deadline = Clock::now() + 20s;
    Answer answer;
    do {
        answer = ask(server, "www.probed.test.", "A", "192.0.2.0/26");
        if (answer.addresses.size() == 2) break;
        // Before: eu's member, then, once it is down, us's.
        CHECK((answer.addresses == std::vector<std::string>{"127.0.0.21"} ||
               answer.addresses == std::vector<std::string>{"127.0.0.22"}));
    } while (Clock::now() < deadline);
    INFO(server.log());
    CHECK(sorted(answer.addresses) == std::vector<std::string>{"127.0.0.21", "127.0.0.22"});
    CHECK(answer.ttls == std::vector<uint32_t>{5, 5});
}

TEST_CASE("geo: the ECS scope is the network that decided, capped at the source prefix", "[geo][ecs]") {
    Dnsd server = start_geo();
    struct Case {
        const char* name;
        const char* type;
        const char* subnet;
        unsigned scope;
        const char* why;
    };
    const Case cases[] = {
        {"web.geo.test.", "A", "10.9.1.0/24", 16, "the matched region subnet 10.9.0.0/16"},
        // DE's 192.0.2.0/24 has JP's 192.0.2.64/26 cut out of it: the /26 around the client.
        {"web.geo.test.", "A", "192.0.2.5/32", 26, "the record's network, narrowed by a neighbour"},
        // 203.0.113.0/25 (US) and /128/25 (CA) and everything else in 200.0.0.0/5
        // (no record: the default us) get us, eu, tokyo, ap, lab: merged.
        {"web.geo.test.", "A", "203.0.113.5/32", 5, "the US /25 merged with its neighbours"},
        {"web.geo.test.", "AAAA", "203.0.113.130/32", 5, "the CA /25 merged with its neighbours"},
        {"web.geo.test.", "A", "100.64.0.0/10", 10, "the record's /16 capped at the source /10"},
        {"web.geo.test.", "A", "192.0.0.0/16", 16, "the empty /23 capped at the source /16"},
        {"web.geo.test.", "AAAA", "2001:db8:1::/48", 48, "an IPv6 record"},
        // Sticky hashes the /24 (/56): never wider than that.
        {"sticky.geo.test.", "A", "100.65.1.0/24", 24, "sticky's /24 inside the record's /16"},
        {"sticky.geo.test.", "A", "192.0.2.5/32", 26, "the record's /26 inside sticky's /24"},
        {"sticky.geo.test.", "AAAA", "fd00:1::/64", 56, "sticky's /56 inside the subnet fd00::/8"},
        // Pools whose members name no region.
        {"plain.geo.test.", "A", "192.0.2.0/24", 0, "round-robin without geo: the same for everyone"},
        {"plain-sticky.geo.test.", "A", "192.0.2.7/32", 24, "sticky without geo: the /24"},
        {"plain-sticky.geo.test.", "A", "2001:db8:42::/64", 56, "sticky without geo: the /56"},
    };
    for (const Case& c : cases) {
        INFO(c.name << " " << c.type << " " << c.subnet << ": " << c.why);
        const Answer answer = ask(server, c.name, c.type, c.subnet);
        CHECK(answer.status == "NOERROR");
        CHECK_FALSE(answer.addresses.empty());
        CHECK(scope_of(answer) == std::optional<unsigned>(c.scope));
    }
    for (const Case& c : {cases[1], cases[2], cases[7], cases[10]}) {
        INFO(c.name << " " << c.subnet);
        const Explained explained = explain_geo(c.name, c.type, c.subnet);
        INFO(explained.run.out);
        CHECK(scope_of(explained) == std::optional<unsigned>(c.scope));
    }
    // Source prefix 0: the resolver keeps its client to itself, the packet's
    // source (127.0.0.1, default us) decides, scope 0.
    const Answer undisclosed = ask(server, "web.geo.test.", "A", "0.0.0.0/0");
    CHECK(undisclosed.addresses == std::vector<std::string>{"192.0.2.3"});
    CHECK(scope_of(undisclosed) == std::optional<unsigned>(0));
}

TEST_CASE("geo: a malformed ECS option gets FORMERR", "[geo][ecs]") {
    Dnsd server = start_geo();
    constexpr uint16_t option_ecs = 8;
    struct Case {
        const char* what;
        Bytes data;
    };
    const Case cases[] = {
        {"unknown family 3", {0, 3, 8, 0, 10}},
        {"IPv4 bits set past the source prefix /20", {0, 1, 20, 0, 192, 0, 31}},
        {"IPv6 bits set past the source prefix /12", {0, 2, 12, 0, 0x20, 0x0f}},
        {"a scope prefix in a query", {0, 1, 24, 16, 192, 0, 2}},
        {"IPv4 source prefix 33", {0, 1, 33, 0, 192, 0, 2, 1, 0}},
    };
    for (const auto& [what, data] : cases) {
        INFO(what);
        Bytes query = make_query(0x6E0, "web.geo.test", rrtype::A);
        add_opt(query, 1232, 0, edns_option(option_ecs, data));
        const Response response = udp_response(server.port(), query);
        CHECK(response.header.id == 0x6E0);
        CHECK(response.header.rcode() == rcode::formerr);
        CHECK(response.header.ancount == 0);
    }
    // Well formed, 192.0.2.0/24 is answered from its region, eu.
    Bytes query = make_query(0x6E1, "web.geo.test", rrtype::A);
    add_opt(query, 1232, 0, edns_option(option_ecs, {0, 1, 24, 0, 192, 0, 2}));
    const Response good = udp_response(server.port(), query);
    CHECK(good.header.rcode() == rcode::noerror);
    CHECK(good.answer_addresses == std::vector<std::string>{"192.0.2.2"});
}

TEST_CASE("geo: with \"ecs\": false the packet's source decides and the scope is 0", "[geo][ecs]") {
    // The test config with "ecs": false and its database path made absolute.
    std::string text = read_text(geo_config);
    REQUIRE(text.front() == '{');
    const std::string relative = "\"../../geoip/", absolute = "\"" + (source_dir / "tests/data/geoip/").string();
    REQUIRE(text.find(relative) != std::string::npos);
    text.replace(text.find(relative), relative.size(), absolute);
    text.insert(1, "\n  \"ecs\": false,");
    TempDir dir;
    const auto config = dir.write("ecs-off.json", text);
    Dnsd server = start_geo(config);
    // The subnet is tokyo's; the source, 127.0.0.1, has no record: us.
    const Answer answer = ask(server, "web.geo.test.", "A", "192.0.2.64/26");
    CHECK(answer.addresses == std::vector<std::string>{"192.0.2.3"});
    CHECK(answer.client_subnet == std::optional<std::string>("192.0.2.64/26/0"));

    const Explained explained = explain_geo("web.geo.test", "A", "127.0.0.1/32", config);
    INFO(explained.run.out);
    CHECK(explained.fact("client").find("\"ecs\" is off") != std::string::npos);
    CHECK(explained.answer == answer.records);
}

TEST_CASE("geo: the shipped database and the default config place well-known networks", "[geo][shipped]") {
    DnsdOptions options;
    options.zones_dir = source_dir / "zones";
    options.extra_args = {"--threads", "1"};
    Dnsd server(options);  // in the source tree, where geoip/country.mmdb is
    struct Case {
        const char* subnet;
        const char* type;
        std::vector<std::string> addresses;
        uint32_t ttl;
        const char* region;
    };
    const Case cases[] = {
        {"8.8.8.0/24", "A", {"198.51.100.10", "198.51.100.11"}, 20, "us, by continent NA"},
        {"81.2.69.0/24", "A", {"192.0.2.10", "192.0.2.11"}, 20, "eu, by continent EU"},
        {"1.0.16.0/24", "A", {"203.0.113.10"}, 20, "ap, by continent AS"},
        // us's IPv6 member is drained: the nearest other region, eu, with degraded_ttl.
        {"8.8.8.0/24", "AAAA", {"2001:db8::10"}, 5, "us, by continent NA"},
    };
    for (const Case& c : cases) {
        INFO(c.subnet << " " << c.type);
        const Answer answer = ask(server, "www.demo.example.", c.type, c.subnet);
        CHECK(sorted(answer.addresses) == c.addresses);
        CHECK(answer.ttls == std::vector<uint32_t>(c.addresses.size(), c.ttl));

        const Explained explained =
            explain({"--zones", (source_dir / "zones").string(), "--geoip", (source_dir / "geoip/country.mmdb").string(),
                     "www.demo.example", c.type, "--client", c.subnet});
        INFO(explained.run.out << explained.run.err);
        CHECK(explained.run.exit_code == 0);
        CHECK(explained.fact("region") == c.region);
        // Round-robin: the server's rotation has moved on since explain's 0.
        CHECK(sorted(explained.answer) == sorted(answer.records));
    }
}

TEST_CASE("geo: without the shipped database dnsd warns and serves, a named one must open", "[geo][cli]") {
    TempDir elsewhere;
    const std::string zones = (data_dir() / "zones").string();
    // Started outside the source tree: no geoip/ here.
    Process process({DNSD_BINARY, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--zones", zones},
                    elsewhere.path() / "log", elsewhere.path());
    const auto deadline = Clock::now() + 20s;
    std::string log;
    while (Clock::now() < deadline && log.find("ready") == std::string::npos && !process.exited()) {
        pollfd none{-1, 0, 0};
        ::poll(&none, 0, 5);  // nothing to block on while the log grows
        log = read_text(elsewhere.path() / "log");
    }
    log = read_text(elsewhere.path() / "log");
    INFO(log);
    CHECK(log.find("ready") != std::string::npos);
    CHECK(log.find("geoip/country.mmdb: no GeoIP database here") != std::string::npos);
    CHECK(process.stop() == 0);

    const CommandResult named = run_command(
        {DNSD_BINARY, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--zones", zones, "--geoip", "/nonexistent/x.mmdb"});
    INFO(named.err);
    CHECK(named.exit_code != 0);
    CHECK_FALSE(named.timed_out);
    size_t error_lines = 0;
    std::istringstream lines(named.err);
    for (std::string line; std::getline(lines, line);)
        if (line.find("error") != std::string::npos) {
            ++error_lines;
            CHECK(line.find("/nonexistent/x.mmdb: cannot open GeoIP database") != std::string::npos);
        }
    CHECK(error_lines == 1);
}

TEST_CASE("dnsd explain: bad arguments are one clear line and exit 1", "[geo][explain]") {
    for (const auto& [client, message] : {std::pair{"192.0.2.300", "is not ADDR or ADDR/PREFIX"},
                                          std::pair{"192.0.2.0/33", "the prefix must be 1 to 32"},
                                          std::pair{"192.0.2.0/0", "the prefix must be 1 to 32"}}) {
        const Explained explained = explain_geo("web.geo.test", "A", client);
        INFO(client << "\n" << explained.run.err);
        CHECK(explained.run.exit_code == 1);
        CHECK(explained.run.out.empty());
        CHECK(explained.run.err.find(message) != std::string::npos);
    }
    const Explained bad_type = explain_geo("web.geo.test", "BOGUS", "192.0.2.1");
    CHECK(bad_type.run.exit_code == 1);
    CHECK(bad_type.run.err.find("unknown TYPE") != std::string::npos);

    // Every type the server answers is explained, AXFR too: REFUSED, as the server answers it.
    const Explained transfer = explain_geo("web.geo.test", "AXFR", "192.0.2.1");
    CHECK(transfer.run.exit_code == 0);
    CHECK(transfer.fact("answer") == "REFUSED, 0 records");

    // A name in no zone is REFUSED, as the server answers it.
    const Explained outside = explain_geo("www.example.org", "A", "192.0.2.1");
    CHECK(outside.run.exit_code == 0);
    CHECK(outside.fact("answer") == "REFUSED, 0 records");
}

}  // namespace dnsd::e2e
