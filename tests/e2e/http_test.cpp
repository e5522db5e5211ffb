// The HTTP endpoint of SPEC §8 against the real binary: /metrics parsed with
// the exposition-format checker and its counts checked after known queries,
// /v1/status, /v1/explain, member overrides, reload, the bearer token, and bad
// requests that must get a 4xx and never take the server down.
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"
#include "tests/unit/exposition_check.hpp"

namespace dnsd::e2e {
namespace {

using nlohmann::json;
using test::CheckedExposition;
using Clock = std::chrono::steady_clock;

void pause_briefly() {
    pollfd none{-1, 0, 0};
    ::poll(&none, 0, 10);
}

// Polls `done` until it holds or `timeout` passes; whether it held.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
        if (Clock::now() > deadline) return false;
        pause_briefly();
    }
    return true;
}

CheckedExposition scrape(const Dnsd& server) {
    const HttpResponse response = http_request(server.http_port(), "GET", "/metrics");
    REQUIRE(response.status == 200);
    CHECK(response.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    CheckedExposition checked = test::check_exposition(response.body);
    INFO(response.body);
    INFO(checked.error_text());
    REQUIRE(checked.errors.empty());
    return checked;
}

json get_json(uint16_t port, const std::string& target, int expected_status = 200) {
    const HttpResponse response = http_request(port, "GET", target);
    INFO(target << " → " << response.status << " " << response.body);
    REQUIRE(response.status == expected_status);
    CHECK(response.header("content-type") == "application/json");
    const json body = json::parse(response.body, nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    return body;
}

// The A/AAAA addresses of one UDP answer from `source`'s point of view, sorted.
std::vector<std::string> answer_set(uint16_t port, const std::string& name, uint16_t type = rrtype::A) {
    Response response = udp_response(port, make_query(1, name, type));
    std::sort(response.answer_addresses.begin(), response.answer_addresses.end());
    return response.answer_addresses;
}

using Addresses = std::vector<std::string>;
const Addresses rr_v4{"192.0.2.21", "192.0.2.22", "192.0.2.23", "192.0.2.24"};

std::string override_path(const std::string& zone, const std::string& pool, const std::string& address) {
    return "/v1/zones/" + zone + "/pools/" + pool + "/members/" + address;
}

// An ECS option (RFC 7871) for the IPv4 network a.b.0.0/16.
Bytes ecs_16(uint8_t a, uint8_t b) { return edns_option(8, {0, 1, 16, 0, a, b}); }

// Two pools with one member in each of two regions: "web" without probes,
// "dead" probed on a loopback port where nothing listens, so that it fails open.
constexpr const char* geo_zone = R"({
  "zone": "geo.test",
  "soa": { "mname": "ns1", "rname": "hostmaster.geo.test.", "serial": 5 },
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] },
               "www": { "pool": "web" }, "dead": { "pool": "dead" } },
  "pools": {
    "web": { "members": [ { "address": "192.0.2.10", "region": "eu" },
                          { "address": "192.0.2.20", "region": "us" } ] },
    "dead": { "check": { "type": "tcp", "port": 9, "interval": 1, "timeout": 0.5, "rise": 1, "fall": 1 },
              "members": [ { "address": "127.0.0.10", "region": "eu" },
                           { "address": "127.0.0.20", "region": "us" } ] }
  }
}
)";
constexpr const char* geo_config = R"({
  "regions": { "eu": { "subnets": ["10.1.0.0/16"], "fallback": ["us"] },
               "us": { "subnets": ["10.2.0.0/16"] } }
}
)";

}  // namespace

TEST_CASE("GET /metrics scrapes cleanly and counts queries by transport, type and rcode", "[http][metrics]") {
    Dnsd server;
    const uint16_t port = server.port();
    const CheckedExposition before = scrape(server);
    const auto udp_a = [](const CheckedExposition& m, const char* rcode) {
        return m.value("dnsd_queries_total", {{"transport", "udp"}, {"type", "A"}, {"rcode", rcode}}).value_or(0);
    };
    const auto rr_primary = [](const CheckedExposition& m) {
        return m.value("dnsd_pool_answers_total", {{"zone", "pools.test"}, {"pool", "rr"}, {"region", ""}, {"tier", "primary"}})
            .value_or(0);
    };

    for (int i = 0; i < 5; ++i) REQUIRE(answer_set(port, "rr.pools.test").size() == 4);
    for (int i = 0; i < 2; ++i) REQUIRE(udp_response(port, make_query(2, "nope.pools.test", rrtype::A)).header.rcode() == rcode::nxdomain);
    TcpClient tcp("127.0.0.1", port);
    tcp.send_message(make_query(3, "rr.pools.test", rrtype::AAAA));
    REQUIRE(tcp.receive_message());

    CheckedExposition after;
    REQUIRE(eventually([&] {
        after = scrape(server);
        return after.value("dnsd_queries_total", {{"transport", "tcp"}, {"type", "AAAA"}, {"rcode", "NOERROR"}}) ==
               before.value("dnsd_queries_total", {{"transport", "tcp"}, {"type", "AAAA"}, {"rcode", "NOERROR"}})
                       .value_or(0) + 1;
    }));
    CHECK(udp_a(after, "NOERROR") == udp_a(before, "NOERROR") + 5);
    CHECK(udp_a(after, "NXDOMAIN") == udp_a(before, "NXDOMAIN") + 2);
    CHECK(after.sum("dnsd_received_messages_total", {{"transport", "udp"}}) ==
          before.sum("dnsd_received_messages_total", {{"transport", "udp"}}) + 7);
    CHECK(after.sum("dnsd_tcp_connections_total", {{"result", "accepted"}}) ==
          before.sum("dnsd_tcp_connections_total", {{"result", "accepted"}}) + 1);
    // Five A answers and one AAAA answer came from the pool, all from its only tier.
    CHECK(rr_primary(after) == rr_primary(before) + 6);

    // Everything else the endpoint promises is there.
    CHECK(after.types.at("dnsd_queries_total") == "counter");
    CHECK(after.value("dnsd_build_info", {{"version", DNSD_VERSION}}) == 1);
    CHECK(after.value("dnsd_uptime_seconds") >= 0);
    CHECK(after.value("dnsd_zone_serial", {{"zone", "other.test"}}) == 7);
    CHECK(after.value("dnsd_zone_serial", {{"zone", "static.test"}}) == 2024010101);
    CHECK(after.value("dnsd_member_up", {{"zone", "pools.test"}, {"pool", "rr"}, {"member", "192.0.2.21"}}) == 1);
    CHECK(after.value("dnsd_member_state",
                      {{"zone", "pools.test"}, {"pool", "rr"}, {"member", "192.0.2.21"}, {"state", "auto"}}) == 1);
    CHECK(after.types.at("dnsd_probe_duration_seconds") == "histogram");
    CHECK(after.value("dnsd_probe_duration_seconds_bucket", {{"check", "tcp"}, {"le", "+Inf"}}));
    CHECK(after.value("dnsd_probes_total", {{"check", "tcp"}, {"result", "success"}}));
    CHECK(after.value("dnsd_reloads_total", {{"result", "ok"}}) == 0);
    CHECK(after.value("dnsd_dropped_total"));
    CHECK(after.value("dnsd_truncated_total"));
}

TEST_CASE("GET /metrics counts pool answers by region and tier", "[http][metrics]") {
    TempDir zones;
    zones.write("geo.test.json", geo_zone);
    DnsdOptions options;
    options.zones_dir = zones.path();
    options.config_json = geo_config;
    Dnsd server(options);
    const uint16_t port = server.port();
    const uint16_t http = server.http_port();
    auto ask_from = [&](uint8_t b, const char* name = "www.geo.test") {
        Bytes query = make_query(4, name, rrtype::A);
        add_opt(query, 1232, 0, ecs_16(10, b));
        auto addresses = udp_response(port, query).answer_addresses;
        std::sort(addresses.begin(), addresses.end());
        return addresses;
    };
    auto count = [&](const char* region, const char* tier, const char* pool = "web") {
        return scrape(server)
            .value("dnsd_pool_answers_total", {{"zone", "geo.test"}, {"pool", pool}, {"region", region}, {"tier", tier}})
            .value_or(0);
    };

    for (int i = 0; i < 3; ++i) REQUIRE(ask_from(1) == Addresses{"192.0.2.10"});
    REQUIRE(ask_from(2) == Addresses{"192.0.2.20"});
    REQUIRE(eventually([&] { return count("eu", "primary") == 3; }));
    CHECK(count("us", "primary") == 1);

    // eu's member drained: eu's clients fall back to us.
    REQUIRE(http_request(http, "PUT", override_path("geo.test", "web", "192.0.2.10"), R"({"state": "down"})").status == 200);
    REQUIRE(ask_from(1) == Addresses{"192.0.2.20"});
    REQUIRE(eventually([&] { return count("us", "fallback") == 1; }));

    // And the other way round: us's clients fall back to eu.
    REQUIRE(http_request(http, "PUT", override_path("geo.test", "web", "192.0.2.10"), R"({"state": "auto"})").status == 200);
    REQUIRE(http_request(http, "PUT", override_path("geo.test", "web", "192.0.2.20"), R"({"state": "down"})").status == 200);
    REQUIRE(ask_from(2) == Addresses{"192.0.2.10"});
    CHECK(count("eu", "fallback") == 1);

    // Every member's probe fails: fail open, with every member, in no region's tier.
    const Addresses both{"127.0.0.10", "127.0.0.20"};
    REQUIRE(eventually([&] { return ask_from(1, "dead.geo.test") == both; }, 10s));
    REQUIRE(eventually([&] { return count("", "fail-open", "dead") >= 1; }));
    CHECK(count("", "fail-open", "dead") == 1);
}

// A scrape with every family dnsd has: pool answers in several regions and
// tiers, probes that fail, a reload, response rate limiting, and a fleet of
// one node.
std::string full_scrape() {
    NatsServer nats;
    TempDir zones;
    zones.write("geo.test.json", geo_zone);
    DnsdOptions options;
    options.zones_dir = zones.path();
    json config = json::parse(geo_config);
    config["fleet"] = {{"nats", {nats.url()}}, {"node", "n1"}};
    config["rrl"] = {{"responses_per_second", 1000}};
    options.config_json = config.dump();
    Dnsd server(options);
    const uint16_t port = server.port();
    const uint16_t http = server.http_port();
    Bytes query = make_query(4, "www.geo.test", rrtype::A);
    add_opt(query, 1232, 0, ecs_16(10, 1));
    REQUIRE(udp_response(port, query).answer_addresses.size() == 1);
    REQUIRE(http_request(http, "PUT", override_path("geo.test", "web", "192.0.2.10"), R"({"state": "down"})").status == 200);
    REQUIRE(udp_response(port, query).answer_addresses.size() == 1);
    REQUIRE(http_request(http, "POST", "/v1/reload").status == 200);
    CheckedExposition checked;
    REQUIRE(eventually([&] {
        checked = scrape(server);
        return checked.sum("dnsd_probes_total", {{"result", "failure"}}) > 0 &&
               checked.types.contains("dnsd_rrl_limited_networks") &&
               checked.value("dnsd_fleet_member_votes", {{"zone", "geo.test"}, {"pool", "dead"}, {"member", "127.0.0.10"}});
    }, 20s));
    return http_request(http, "GET", "/metrics").body;
}

TEST_CASE("GET /metrics passes Prometheus's own check (promtool check metrics)", "[http][metrics][promtool]") {
    const std::string metrics = full_scrape();
    TempDir dir;
    const auto path = dir.write("metrics.txt", metrics);
    // promtool reads stdin; the harness gives commands /dev/null.
    const CommandResult check = run_command({"sh", "-c", "exec promtool check metrics < \"$0\"", path.string()}, 60s);
    INFO(metrics);
    INFO("promtool: exit " << check.exit_code << "\n" << check.out << check.err);
    REQUIRE(check.exit_code != 127);  // tools/install-deps installs it (Debian's prometheus)
    CHECK(check.exit_code == 0);
    CHECK(check.out + check.err == "");
}

TEST_CASE("tools/grafana-dashboard.json charts only metrics that /metrics has", "[http][metrics][grafana]") {
    const json dashboard = json::parse(read_text(std::filesystem::path(DNSD_SOURCE_DIR) / "tools" / "grafana-dashboard.json"));
    const CheckedExposition scraped = test::check_exposition(full_scrape());
    std::set<std::string> names;  // every sample name, histograms' _bucket, _sum and _count included
    for (const auto& sample : scraped.samples) names.insert(sample.name);
    REQUIRE(dashboard["panels"].is_array());
    size_t queries = 0;
    for (const auto& panel : dashboard["panels"]) {
        if (panel["type"] == "row") continue;
        INFO(panel["title"]);
        REQUIRE(panel["targets"].is_array());
        CHECK_FALSE(panel["targets"].empty());
        for (const auto& target : panel["targets"]) {
            const std::string expr = target["expr"];
            INFO(expr);
            ++queries;
            size_t used = 0;
            for (size_t at = expr.find("dnsd_"); at != std::string::npos; at = expr.find("dnsd_", at + 1)) {
                size_t end = at;
                while (end < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[end])) || expr[end] == '_')) ++end;
                CHECK(names.contains(expr.substr(at, end - at)));
                ++used;
                at = end - 1;
            }
            CHECK(used > 0);
        }
    }
    CHECK(queries >= 4);
}

TEST_CASE("GET /v1/status shows version, zones, pools, members and the last reload", "[http][status]") {
    Dnsd server;
    const json status = get_json(server.http_port(), "/v1/status");
    INFO(status.dump(2));
    CHECK(status["version"] == DNSD_VERSION);
    CHECK(status["uptime_seconds"].get<double>() >= 0);
    CHECK(status["started_at"].get<std::string>().ends_with("Z"));
    CHECK(status["last_reload"].is_null());
    CHECK(status["overrides"] == json::array());

    REQUIRE(status["zones"].size() == 3);
    bool found_other = false;
    for (const auto& zone : status["zones"]) {
        CHECK(zone["loaded_at"].is_string());
        CHECK(zone["last_error"].is_null());
        CHECK(zone["errors"] == json::array());
        if (zone["zone"] == "other.test") {
            found_other = true;
            CHECK(zone["serial"] == 7);
            CHECK(zone["file"].get<std::string>().ends_with("other.test.json"));
        }
    }
    CHECK(found_other);

    const json* rr = nullptr;
    for (const auto& pool : status["pools"])
        if (pool["zone"] == "pools.test" && pool["pool"] == "rr") rr = &pool;
    REQUIRE(rr != nullptr);
    REQUIRE((*rr)["members"].size() == 7);
    const json& member = (*rr)["members"][0];
    CHECK(member["address"] == "192.0.2.21");
    CHECK(member["region"].is_null());
    CHECK(member["state"] == "auto");
    CHECK(member["override"].is_null());
    CHECK(member["health"] == "up");
    CHECK(member["since"].is_string());
    for (const char* key : {"last_check", "last_error", "probed"}) CHECK(member.contains(key));
}

TEST_CASE("GET /v1/explain reports the live answer as JSON", "[http][explain]") {
    Dnsd server;
    const uint16_t http = server.http_port();
    const json report = get_json(http, "/v1/explain?name=rr.pools.test&type=A&client=192.0.2.1");
    INFO(report.dump(2));
    REQUIRE(report.contains("answer"));
    std::vector<std::string> answered;
    for (const auto& line : report["answer"]) {
        const std::string text = line.get<std::string>();
        answered.push_back(text.substr(text.rfind(' ') + 1));
    }
    std::sort(answered.begin(), answered.end());
    CHECK(answered == answer_set(server.port(), "rr.pools.test"));
    CHECK(report.dump().find("\"rr\"") != std::string::npos);

    // With live health: a member forced down leaves the report's answer.
    REQUIRE(http_request(http, "PUT", override_path("pools.test", "rr", "192.0.2.22"), R"({"state": "down"})").status == 200);
    const json drained = get_json(http, "/v1/explain?name=rr.pools.test&client=192.0.2.1");
    CHECK(drained["answer"].size() == 3);
    CHECK(drained.dump().find("IN A 192.0.2.22") == std::string::npos);

    // A client given as a network is the ECS case.
    CHECK(get_json(http, "/v1/explain?name=rr.pools.test&type=AAAA&client=198.51.100.0%2F24")["answer"].size() == 3);

    for (const char* bad : {"/v1/explain", "/v1/explain?name=rr.pools.test", "/v1/explain?client=192.0.2.1",
                            "/v1/explain?name=rr.pools.test&client=not-an-address",
                            "/v1/explain?name=rr.pools.test&client=192.0.2.1/33",
                            "/v1/explain?name=rr.pools.test&type=BOGUS&client=192.0.2.1",
                            "/v1/explain?name=rr.pools.test&client=192.0.2.1&colour=blue",
                            "/v1/explain?name=%zz&client=192.0.2.1", "/v1/explain?name=%FF.pools.test&client=192.0.2.1"}) {
        const json error = get_json(http, bad, 400);
        CHECK(error["error"].is_string());
    }
}

TEST_CASE("PUT a member override changes answers and shows in status", "[http][override]") {
    Dnsd server = start_one_worker();
    const uint16_t port = server.port();
    const uint16_t http = server.http_port();
    REQUIRE(answer_set(port, "rr.pools.test") == rr_v4);
    DigResult before = dig(port, {"rr.pools.test", "A"});
    REQUIRE(before.answer.size() == 4);

    const HttpResponse put = http_request(http, "PUT", override_path("pools.test", "rr", "192.0.2.21"), R"({"state": "down"})");
    INFO(put.body);
    REQUIRE(put.status == 200);
    CHECK(json::parse(put.body)["state"] == "down");
    // The worker sees the change on its next query.
    DigResult after = dig(port, {"rr.pools.test", "A"});
    REQUIRE(after.answer.size() == 3);
    for (const auto& rr : after.answer) CHECK(rr.rdata != "192.0.2.21");

    const json status = get_json(http, "/v1/status");
    REQUIRE(status["overrides"].size() == 1);
    CHECK(status["overrides"][0] ==
          json{{"zone", "pools.test"}, {"pool", "rr"}, {"address", "192.0.2.21"}, {"state", "down"}, {"applied", true}});
    for (const auto& pool : status["pools"])
        if (pool["pool"] == "rr") CHECK(pool["members"][0]["override"] == "down");
    CHECK(scrape(server).value("dnsd_member_state",
                               {{"zone", "pools.test"}, {"pool", "rr"}, {"member", "192.0.2.21"}, {"state", "down"}}) == 1);

    // The zone name may carry its final dot; the address any spelling.
    REQUIRE(http_request(http, "PUT", override_path("pools.test.", "rr", "192.0.2.21"), R"({"state": "auto"})").status == 200);
    CHECK(answer_set(port, "rr.pools.test") == rr_v4);
    REQUIRE(http_request(http, "PUT", override_path("pools.test", "rr", "2001:DB8:0::21"), R"({"state": "down"})").status == 200);
    CHECK(answer_set(port, "rr.pools.test", rrtype::AAAA) == Addresses{"2001:db8::22", "2001:db8::23"});

    SECTION("unknown zone, pool or member: 404") {
        for (const auto& path : {override_path("nope.test", "rr", "192.0.2.21"), override_path("pools.test", "nope", "192.0.2.21"),
                                 override_path("pools.test", "rr", "192.0.2.99")}) {
            const HttpResponse response = http_request(http, "PUT", path, R"({"state": "down"})");
            INFO(path << ": " << response.body);
            CHECK(response.status == 404);
            CHECK(json::parse(response.body)["error"].is_string());
        }
    }
    SECTION("a bad body or address: 400") {
        for (const char* body : {"", "not json", R"({"state": "sideways"})", R"({"state": 1})", R"(["down"])",
                                 R"({"state": "down", "extra": 1})", R"({"state": "down")"}) {
            const HttpResponse response = http_request(http, "PUT", override_path("pools.test", "rr", "192.0.2.21"), body);
            INFO(body << ": " << response.body);
            CHECK(response.status == 400);
        }
        CHECK(http_request(http, "PUT", override_path("pools.test", "rr", "192.0.2"), R"({"state": "down"})").status == 400);
        // None of them changed anything.
        CHECK(answer_set(port, "rr.pools.test") == rr_v4);
    }
}

TEST_CASE("A pool's rotation carries on while overrides elsewhere and reloads are published", "[http][override][round-robin]") {
    Dnsd server = start_one_worker();
    const uint16_t port = server.port();
    const uint16_t http = server.http_port();
    // Between every two queries of rr: an override in another pool, set and
    // taken back, and every third time a reload; each publishes a new view.
    std::vector<std::string> first;
    for (int i = 0; i < 12; ++i) {
        const Response response = udp_response(port, make_query(static_cast<uint16_t>(i), "rr.pools.test", rrtype::A));
        REQUIRE(response.answer_addresses.size() == rr_v4.size());
        first.push_back(response.answer_addresses.front());
        const char* state = i % 2 == 0 ? R"({"state": "down"})" : R"({"state": "auto"})";
        REQUIRE(http_request(http, "PUT", override_path("pools.test", "plain", "192.0.2.96"), state).status == 200);
        if (i % 3 == 2) REQUIRE(http_request(http, "POST", "/v1/reload").status == 200);
    }
    INFO(Catch::Detail::stringify(first));
    // Round-robin over four: every member first exactly once in every four
    // consecutive queries.
    for (size_t i = 0; i + 4 <= first.size(); ++i)
        CHECK(std::set<std::string>(first.begin() + static_cast<ptrdiff_t>(i), first.begin() + static_cast<ptrdiff_t>(i) + 4).size() == 4);
}

TEST_CASE("POST /v1/reload answers with the reload's result", "[http][reload]") {
    TempDir zones;
    zones.write("other.test.json", read_text(data_dir() / "zones" / "other.test.json"));
    DnsdOptions options;
    options.zones_dir = zones.path();
    Dnsd server(options);
    const uint16_t http = server.http_port();

    const HttpResponse ok = http_request(http, "POST", "/v1/reload");
    INFO(ok.body);
    REQUIRE(ok.status == 200);
    const json result = json::parse(ok.body);
    CHECK(result["ok"] == true);
    CHECK(result["trigger"].get<std::string>().find("request") != std::string::npos);
    CHECK(result["errors"] == json::array());
    CHECK(get_json(http, "/v1/status")["last_reload"]["ok"] == true);
    CHECK(scrape(server).value("dnsd_reloads_total", {{"result", "ok"}}) >= 1);

    const std::string broken = zones.write("broken.test.json", "{ \"zone\": \"broken.test\",").string();
    const HttpResponse failed = http_request(http, "POST", "/v1/reload");
    INFO(failed.body);
    CHECK(failed.status == 422);
    const json failure = json::parse(failed.body);
    CHECK(failure["ok"] == false);
    REQUIRE(failure["errors"].size() >= 1);
    CHECK(failure["errors"][0].get<std::string>().starts_with(broken + ":"));
    const json status = get_json(http, "/v1/status");
    bool listed = false;
    for (const auto& zone : status["zones"])
        if (zone["file"] == broken) {
            listed = true;
            CHECK(zone["last_error"].get<std::string>().starts_with(broken + ":"));
        }
    CHECK(listed);
    const CheckedExposition metrics = scrape(server);
    CHECK(metrics.value("dnsd_reloads_total", {{"result", "failed"}}) >= 1);
    CHECK(metrics.value("dnsd_zone_file_errors", {{"file", broken}}) >= 1);
    // The zone that was fine still serves.
    CHECK(udp_response(server.port(), make_query(5, "other.test", rrtype::SOA)).header.rcode() == rcode::noerror);
}

TEST_CASE("A bearer token guards POST and PUT, not GET", "[http][token]") {
    DnsdOptions options;
    options.config_json = R"({ "http_token": "s3cret-token" })";
    Dnsd server(options);
    const uint16_t http = server.http_port();
    const std::string path = override_path("pools.test", "rr", "192.0.2.21");

    for (const HttpHeaders& headers : {HttpHeaders{}, HttpHeaders{{"Authorization", "Bearer wrong"}},
                                       HttpHeaders{{"Authorization", "Bearer s3cret-tokenX"}},
                                       HttpHeaders{{"Authorization", "Basic czNjcmV0LXRva2Vu"}}}) {
        for (const auto& [method, target] : {std::pair{"PUT", path}, std::pair{"POST", std::string("/v1/reload")}}) {
            const HttpResponse response = http_request(http, method, target, method == std::string("PUT") ? R"({"state": "down"})" : "", headers);
            INFO(method << " " << target << " " << (headers.empty() ? "" : headers[0].second) << ": " << response.body);
            CHECK(response.status == 401);
            CHECK(response.header("www-authenticate").starts_with("Bearer"));
        }
    }
    // Refused calls changed nothing.
    CHECK(answer_set(server.port(), "rr.pools.test") == rr_v4);
    CHECK(get_json(http, "/v1/status")["last_reload"].is_null());

    const HttpHeaders good{{"Authorization", "Bearer s3cret-token"}};
    CHECK(http_request(http, "PUT", path, R"({"state": "down"})", good).status == 200);
    CHECK(http_request(http, "POST", "/v1/reload", "", {{"Authorization", "bearer s3cret-token"}}).status == 200);
    CHECK(answer_set(server.port(), "rr.pools.test").size() == 3);
    CHECK(http_request(http, "GET", "/metrics").status == 200);
    CHECK(http_request(http, "GET", "/v1/status").status == 200);
}

TEST_CASE("Bad HTTP requests get a 4xx and never take the server down", "[http][robust]") {
    Dnsd server;
    const uint16_t http = server.http_port();

    auto raw = [&](const std::string& bytes) {
        HttpConnection connection(http);
        REQUIRE(connection.send_raw(bytes));
        auto response = connection.receive();
        REQUIRE(response);
        return *response;
    };

    SECTION("garbage") {
        const HttpResponse response = raw("\x16\x03\x01 this is not HTTP\r\n\r\n");
        CHECK(response.status == 400);
        CHECK(json::parse(response.body)["error"].get<std::string>().find("malformed") != std::string::npos);
        CHECK(response.header("connection") == "close");
    }
    SECTION("oversized headers") {
        CHECK(raw("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(40 * 1024, 'x') + "\r\n\r\n").status == 431);
        std::string many = "GET /metrics HTTP/1.1\r\n";
        for (int i = 0; i < 4000; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
        CHECK(raw(many + "\r\n").status == 431);
    }
    SECTION("an oversized body") {
        CHECK(raw("PUT " + override_path("pools.test", "rr", "192.0.2.21") +
                  " HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n{").status == 413);
    }
    SECTION("bad JSON") {
        CHECK(http_request(http, "PUT", override_path("pools.test", "rr", "192.0.2.21"), "{\"state\": ").status == 400);
        CHECK(http_request(http, "PUT", override_path("pools.test", "rr", "192.0.2.21"), std::string(20000, '[')).status == 400);
    }
    SECTION("unknown path and wrong method") {
        for (const char* path : {"//", "/metrics/extra", "/v1", "/v1/status/", "/V1/STATUS", "/\xff"}) {
            const HttpResponse response = http_request(http, "GET", path);
            CHECK(response.status == 404);
            // The reason quotes the path, made valid UTF-8.
            CHECK_FALSE(json::parse(response.body, nullptr, false).is_discarded());
        }
        CHECK(http_request(http, "PUT", override_path("%FF", "rr", "192.0.2.21"), R"({"state": "up"})").status == 404);
        const HttpResponse post = http_request(http, "POST", "/metrics");
        CHECK(post.status == 405);
        CHECK(post.header("allow") == "GET");
        const HttpResponse get = http_request(http, "GET", "/v1/reload");
        CHECK(get.status == 405);
        CHECK(get.header("allow") == "POST");
        CHECK(http_request(http, "DELETE", override_path("pools.test", "rr", "192.0.2.21")).header("allow") == "GET, PUT");
    }
    SECTION("keep-alive and pipelining: answers in order on one connection") {
        HttpConnection connection(http);
        REQUIRE(connection.send("GET", "/v1/status"));
        REQUIRE(connection.receive());
        REQUIRE(connection.send_raw("GET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"));
        auto first = connection.receive();
        auto second = connection.receive();
        REQUIRE(first);
        REQUIRE(second);
        CHECK(first->status == 404);
        CHECK(second->status == 200);
        CHECK(second->body.find("dnsd_queries_total") != std::string::npos);
    }
    SECTION("a slow client times out without holding up others") {
        HttpConnection slow(http);
        REQUIRE(slow.send_raw("GET /metrics HTTP/1.1\r\nHost: a\r\nX-Slow: "));
        CHECK(http_request(http, "GET", "/v1/status").status == 200);
        // Answered while the slow request is still pending (it gets its 408 only after 5 s).
        CHECK_FALSE(slow.receive(0ms));
        auto timed_out = slow.receive(10s);
        REQUIRE(timed_out);
        CHECK(timed_out->status == 408);
        CHECK(slow.closed_by_peer(2s));
    }
    SECTION("past the connection limit, a new connection is closed at once") {
        std::vector<std::unique_ptr<HttpConnection>> held;
        for (int i = 0; i < 64; ++i) held.push_back(std::make_unique<HttpConnection>(http));
        // Each is accepted before the next: one answered request proves the server saw them all.
        REQUIRE(held.back()->send("GET", "/v1/status"));
        REQUIRE(held.back()->receive());
        HttpConnection extra(http);
        CHECK(extra.closed_by_peer(2s));
        held.clear();
        CHECK(eventually([&] {
            HttpConnection again(http);
            return again.send("GET", "/v1/status") && again.receive(1s).has_value();
        }));
    }
    SECTION("a client that goes away mid-request or mid-response") {
        for (int i = 0; i < 20; ++i) {
            HttpConnection gone(http);
            gone.send_raw(i % 2 ? "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n" : "PUT /v1/zones/x HTTP/1.1\r\nContent-Length: 10\r\n\r\n{");
        }
    }

    // Still serving, both HTTP and DNS, and it stops cleanly.
    CHECK(http_request(http, "GET", "/v1/status").status == 200);
    CHECK(answer_set(server.port(), "rr.pools.test") == rr_v4);
    CHECK(server.stop() == 0);
}

TEST_CASE("The HTTP endpoint is off when the config says \"http\": \"\"", "[http]") {
    DnsdOptions options;
    options.config_json = R"({ "http": "" })";
    options.http = std::nullopt;
    Dnsd server(options);
    CHECK(server.log().find("listening on http") == std::string::npos);
    CHECK_THROWS(server.http_port());
}

TEST_CASE("A taken HTTP port stops start-up with one line naming it", "[http]") {
    Dnsd first;
    const std::string endpoint = "127.0.0.1:" + std::to_string(first.http_port());
    CommandResult result = run_command({DNSD_BINARY, "--listen", "127.0.0.1:0", "--http", endpoint, "--zones",
                                        (data_dir() / "zones").string()});
    INFO(result.err);
    CHECK(result.exit_code != 0);
    CHECK_FALSE(result.timed_out);
    CHECK(result.err.find("cannot listen on http " + endpoint + ": address already in use") != std::string::npos);
    CHECK(result.err.find("ready:") == std::string::npos);
    CHECK(http_request(first.http_port(), "GET", "/v1/status").status == 200);
}

}  // namespace dnsd::e2e
