// Latency-based routing against the real binary (SPEC §12), through ECS with
// dig: a client network answered by geo until beacons say another region is
// faster, then by RTT with the measured network as the scope; a neighbouring
// network keeps the geo answer; the table file reloaded on change; the
// measurements kept across a restart; explain's RTTs; bad beacons refused.
//
// The GeoIP2-layout fixture tests/data/geoip/geoip2.mmdb places
// 198.51.100.0/24 and 2001:4860::/32 in the US (NA), so geo sends them to us.
// Pool web of tests/data/e2e/latency/zones routes by latency, pool geo by geo;
// each has one member per region and family.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace dnsd::e2e {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::filesystem::path zones = data_dir() / "latency" / "zones";
const std::filesystem::path geoip = std::filesystem::path(DNSD_SOURCE_DIR) / "tests/data/geoip/geoip2.mmdb";

struct Setup {
    TempDir dir;
    std::filesystem::path state_dir = dir.path() / "state";
    std::filesystem::path table = dir.path() / "latency.csv";

    Setup() { write_table("prefix,region,rtt_ms\n"); }

    void write_table(const std::string& text) const {
        // Written beside and renamed, as a tool would: the server reads it whole.
        const auto temp = dir.path() / ".latency.csv.new";
        std::ofstream(temp) << text;
        std::filesystem::rename(temp, table);
    }

    std::string config() const {
        return nlohmann::ordered_json{{"geoip", geoip.string()},
                    {"regions",
                     {{"eu", {{"continents", {"EU", "AF"}}, {"location", {50.11, 8.68}}}},
                      {"us", {{"continents", {"NA", "SA"}}, {"location", {39.04, -77.49}}}},
                      {"ap", {{"continents", {"AS", "OC"}}, {"location", {1.35, 103.82}}}}}},
                    {"default_region", "us"},
                    {"latency", {{"half_life", 3600}, {"min_samples", 3}, {"table", table.string()}}}}
            .dump();
    }

    Dnsd start() const {
        DnsdOptions options;
        options.zones_dir = zones;
        options.config_json = config();
        options.state_dir = state_dir;
        options.extra_args = {"--threads", "1"};
        return Dnsd(options);
    }
};

struct Answer {
    std::vector<std::string> addresses;
    std::optional<unsigned> scope;
    std::string output;
};

Answer ask(const Dnsd& server, const std::string& name, const std::string& type, const std::string& subnet) {
    const DigResult result = dig(server.port(), {name, type, "+subnet=" + subnet});
    INFO(result.output);
    REQUIRE(result.answered);
    REQUIRE(result.status == "NOERROR");
    Answer out;
    out.output = result.output;
    for (const auto& rr : result.answer) out.addresses.push_back(rr.rdata);
    if (result.client_subnet) {
        const std::string& text = *result.client_subnet;
        out.scope = static_cast<unsigned>(std::stoul(text.substr(text.rfind('/') + 1)));
    }
    return out;
}

// The first address of the answer once it is `expected`, polling for up to 10 s
// (routes follow beacons within a second, a table within a reload).
Answer ask_until(const Dnsd& server, const std::string& name, const std::string& type, const std::string& subnet,
                 const std::string& expected) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    Answer answer = ask(server, name, type, subnet);
    while ((answer.addresses.empty() || answer.addresses.front() != expected) && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        answer = ask(server, name, type, subnet);
    }
    return answer;
}

std::string beacons(const std::string& client, const std::vector<std::pair<std::string, double>>& rtts, int times) {
    json list = json::array();
    for (int i = 0; i < times; ++i)
        for (const auto& [region, rtt] : rtts) list.push_back({{"client", client}, {"region", region}, {"rtt_ms", rtt}});
    return list.dump();
}

HttpResponse post_beacons(const Dnsd& server, const std::string& body) {
    return http_request(server.http_port(), "POST", "/v1/latency", body);
}

}  // namespace

TEST_CASE("latency: beacons move a network to the faster region, with its prefix as the ECS scope",
          "[e2e][latency]") {
    const Setup setup;
    {
        Dnsd server = setup.start();
        // No measurement: geo's answer (US → us) and geo's scope, as the geo pool has them.
        const Answer by_geo = ask(server, "geo.latency.test", "AAAA", "2001:4860:1::/56");
        REQUIRE(by_geo.scope);
        CHECK(*by_geo.scope < 47u);
        Answer before = ask(server, "web.latency.test", "AAAA", "2001:4860:1::/56");
        CHECK(before.addresses.front() == "2001:db8::3");
        CHECK(before.scope == by_geo.scope);
        CHECK(ask(server, "web.latency.test", "A", "198.51.100.0/24").addresses.front() == "192.0.2.3");

        // Two beacons a region, then a third: min_samples is 3.
        REQUIRE(post_beacons(server, beacons("2001:4860:1::7", {{"eu", 20}, {"us", 95}}, 2)).status == 200);
        // Then enough: eu is faster for this network.
        const HttpResponse posted = post_beacons(server, beacons("2001:4860:1::7", {{"eu", 20}, {"us", 95}}, 1));
        INFO(posted.body);
        REQUIRE(posted.status == 200);
        CHECK(json::parse(posted.body)["accepted"] == 2);

        const Answer moved = ask_until(server, "web.latency.test", "AAAA", "2001:4860:1::/56", "2001:db8::2");
        INFO(moved.output);
        CHECK(moved.addresses.front() == "2001:db8::2");
        CHECK(moved.scope.value_or(0) == 48u);  // the measured /48, inside the /56 source
        // The neighbouring /48 keeps geo's answer, in a scope that leaves the measured one out.
        const Answer neighbour = ask(server, "web.latency.test", "AAAA", "2001:4860:2::/56");
        CHECK(neighbour.addresses.front() == "2001:db8::3");
        CHECK(neighbour.scope.value_or(0) == 47u);
        // A pool routed by geo is not moved.
        CHECK(ask(server, "geo.latency.test", "AAAA", "2001:4860:1::/56").addresses.front() == "2001:db8::13");

        // IPv4: a measured ap is faster than us's estimate (23 ms from the US record's coordinates).
        REQUIRE(post_beacons(server, beacons("198.51.100.77", {{"ap", 12}}, 3)).status == 200);
        const Answer moved4 = ask_until(server, "web.latency.test", "A", "198.51.100.0/24", "192.0.2.4");
        CHECK(moved4.addresses.front() == "192.0.2.4");
        CHECK(moved4.scope.value_or(0) == 24u);
        // The next /24 keeps geo's region.
        CHECK(ask(server, "web.latency.test", "A", "198.51.101.0/24").addresses.front() == "192.0.2.3");

        // Explain says why, with each region's RTT.
        const HttpResponse explained = http_request(
            server.http_port(), "GET", "/v1/explain?name=web.latency.test&type=AAAA&client=2001:4860:1::/56");
        REQUIRE(explained.status == 200);
        const json report = json::parse(explained.body);
        INFO(report.dump(2));
        CHECK(report["pool"]["routing"] == "latency");
        const json& latency = report["latency"];
        CHECK(latency["network"] == "2001:4860:1::/48");
        CHECK(latency["measured"] == true);
        CHECK(latency["order_by_rtt"] == json{"eu", "us", "ap"});
        CHECK(latency["regions"][0]["source"] == "measured");
        CHECK(latency["regions"][0]["samples"] == 3);
        CHECK(latency["regions"][0]["rtt_ms"] == 20);
        CHECK(latency["regions"][1]["rtt_ms"] == 95);
        CHECK(latency["regions"][2]["source"] == "estimated");
        CHECK(latency["regions"][2]["distance_km"].get<double>() > 10000);
        CHECK(report["ecs_scope"] == 48);
        CHECK(report["answer"][0].get<std::string>().find("2001:db8::2") != std::string::npos);
        REQUIRE(server.stop() == 0);
    }
    // A restart keeps the measurements: the first answer is already eu's.
    CHECK(std::filesystem::exists(setup.state_dir / "latency-measurements.csv"));
    const Dnsd again = setup.start();
    const Answer after = ask(again, "web.latency.test", "AAAA", "2001:4860:1::/56");
    CHECK(after.addresses.front() == "2001:db8::2");
    CHECK(after.scope.value_or(0) == 48u);
    CHECK(ask(again, "web.latency.test", "A", "198.51.100.0/24").addresses.front() == "192.0.2.4");
}

TEST_CASE("latency: the table file is read again when it changes, an invalid one keeps the previous",
          "[e2e][latency]") {
    const Setup setup;
    setup.write_table("2001:4860:3::/48,ap,5\n");
    const Dnsd server = setup.start();
    CHECK(ask(server, "web.latency.test", "AAAA", "2001:4860:3::/56").addresses.front() == "2001:db8::4");

    setup.write_table("2001:4860:3::/48,ap,5\n2001:4860:4::/48,eu,4\n");
    CHECK(ask_until(server, "web.latency.test", "AAAA", "2001:4860:4::/56", "2001:db8::2").addresses.front() ==
          "2001:db8::2");

    // An invalid table is logged with its position; the previous one serves.
    setup.write_table("2001:4860:3::/48,mars,5\n");
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (server.log().find("latency.csv:1:18: no region \"mars\"") == std::string::npos && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    INFO(server.log());
    CHECK(server.log().find("latency.csv:1:18: no region \"mars\"") != std::string::npos);
    CHECK(ask(server, "web.latency.test", "AAAA", "2001:4860:4::/56").addresses.front() == "2001:db8::2");

    // A table without the line sends the network back to geo's region.
    setup.write_table("2001:4860:3::/48,ap,5\n");
    CHECK(ask_until(server, "web.latency.test", "AAAA", "2001:4860:4::/56", "2001:db8::3").addresses.front() ==
          "2001:db8::3");
}

TEST_CASE("latency: a bad beacon gets a 400 naming it, and nothing of its batch is taken", "[e2e][latency]") {
    const Setup setup;
    const Dnsd server = setup.start();
    const std::string body = R"([{"client": "2001:4860:5::1", "region": "eu", "rtt_ms": 1},
                                 {"client": "2001:4860:5::1", "region": "eu", "rtt_ms": 1},
                                 {"client": "2001:4860:5::1", "region": "eu", "rtt_ms": 1},
                                 {"client": "2001:4860:5::1", "region": "moon", "rtt_ms": 1}])";
    const HttpResponse refused = post_beacons(server, body);
    CHECK(refused.status == 400);
    CHECK(json::parse(refused.body)["error"] == "beacon 3: no region \"moon\"; the regions are eu, us, ap");
    CHECK(post_beacons(server, "{").status == 400);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a compile would have run
    CHECK(ask(server, "web.latency.test", "AAAA", "2001:4860:5::/56").addresses.front() == "2001:db8::3");
}

}  // namespace dnsd::e2e
