// `dnsd explain` in process (control/explain): the report's answer, TTL and ECS
// scope are what respond() sends for the same client and rotation, for every
// pool of tests/data/e2e/geo/zones over many clients; its JSON carries the
// same facts; its arguments are checked.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "dnsd/answer/respond.hpp"
#include "dnsd/control/explain.hpp"
#include "dnsd/zone/load.hpp"
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
                    const control::Explanation e =
                        control::explain(*server.view.snapshot, nullptr, server.view.geo.get(), request, options);
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
    const control::Explanation e =
        control::explain(*server.view.snapshot, nullptr, server.view.geo.get(), *request, {});
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
