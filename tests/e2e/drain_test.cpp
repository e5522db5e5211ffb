// Drain (SPEC §11): a member taken out leaves the answers at once, is listed
// as draining until the longest TTL handed out with it has run out, and
// `dnsd drain --wait` returns only then.
#include <algorithm>
#include <catch2/catch.hpp>
#include <future>
#include <nlohmann/json.hpp>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace dnsd::e2e {
namespace {

using nlohmann::json;
using SystemClock = std::chrono::system_clock;

// web: two members, 3 s TTL, one per answer; slow: the same members, an hour.
constexpr const char* drain_zone = R"({
  "zone": "drain.test",
  "ttl": 60,
  "soa": {"mname": "ns1", "rname": "hostmaster.drain.test.", "serial": 1, "refresh": 3600, "retry": 600,
          "expire": 604800, "minimum": 60},
  "records": {"@": {"NS": ["ns1"]}, "ns1": {"A": ["192.0.2.53"]}, "web": {"pool": "web"}, "slow": {"pool": "slow"}},
  "pools": {
    "web": {"policy": "round-robin", "ttl": 3, "max_answers": 1,
            "members": [{"address": "192.0.2.1"}, {"address": "192.0.2.2"}]},
    "slow": {"policy": "round-robin", "ttl": 3600,
             "members": [{"address": "192.0.2.1"}, {"address": "192.0.2.2"}]}
  }
})";

Dnsd start(const TempDir& zones) {
    DnsdOptions options;
    options.zones_dir = zones.path();
    options.extra_args = {"--threads", "2"};
    return Dnsd(options);
}

std::vector<std::string> answer(const Dnsd& server, const std::string& name) {
    return udp_response(server.port(), make_query(1, name, rrtype::A)).answer_addresses;
}

bool has(const std::vector<std::string>& addresses, const std::string& address) {
    return std::find(addresses.begin(), addresses.end(), address) != addresses.end();
}

CommandResult drain(const Dnsd& server, std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
    args.insert(args.begin(), {DNSD_BINARY, "drain", "--http", "127.0.0.1:" + std::to_string(server.http_port())});
    return run_command(args, timeout);
}

json member(const Dnsd& server, const std::string& pool, const std::string& address) {
    const HttpResponse response =
        http_request(server.http_port(), "GET", "/v1/zones/drain.test/pools/" + pool + "/members/" + address);
    INFO(response.body);
    REQUIRE(response.status == 200);
    return json::parse(response.body);
}

}  // namespace

TEST_CASE("drain: --wait returns once the TTL handed out has run out, and the member is not answered meanwhile",
          "[e2e][drain]") {
    TempDir zones;
    zones.write("drain.test.json", drain_zone);
    Dnsd server = start(zones);
    // Until 192.0.2.2 has been handed out: a resolver may hold it from then on.
    SystemClock::time_point last_handed_out;
    for (int i = 0; i < 20 && last_handed_out == SystemClock::time_point(); ++i) {
        const auto asked = SystemClock::now();
        if (has(answer(server, "web.drain.test"), "192.0.2.2")) last_handed_out = asked;
    }
    REQUIRE(last_handed_out != SystemClock::time_point());
    CHECK(member(server, "web", "192.0.2.2")["out_since"].is_null());

    const CommandResult taken_out = drain(server, {"drain.test", "web", "192.0.2.2"});
    INFO(taken_out.err);
    REQUIRE(taken_out.exit_code == 0);
    CHECK(taken_out.out.find("192.0.2.2 in drain.test/web: out since ") == 0);

    auto waited = std::async(std::launch::async, [&] { return drain(server, {"drain.test", "web", "192.0.2.2", "--wait"}); });
    size_t asked = 0;
    while (waited.wait_for(0s) != std::future_status::ready) {
        const auto addresses = answer(server, "web.drain.test");
        CHECK(addresses == std::vector<std::string>{"192.0.2.1"});
        ++asked;
    }
    const auto returned = SystemClock::now();
    const CommandResult result = waited.get();
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.out.find("192.0.2.2 in drain.test/web: safe to remove") != std::string::npos);
    CHECK(asked > 0);
    // No answer handed out before the drain can still be cached.
    CHECK(returned >= last_handed_out + 3s);
    const json shown = member(server, "web", "192.0.2.2");
    CHECK(shown["state"] == "down");
    CHECK(shown["draining"] == false);
    CHECK(shown["out_since"].is_string());
    CHECK(shown["safe_to_remove_at"].is_string());

    // Set back up: answered again, and no longer drained.
    REQUIRE(http_request(server.http_port(), "PUT", "/v1/zones/drain.test/pools/web/members/192.0.2.2",
                         R"({"state": "up"})").status == 200);
    CHECK(member(server, "web", "192.0.2.2")["out_since"].is_null());
}

TEST_CASE("drain: --wait gives up with one line when the TTL outlasts its timeout, and errors are one line",
          "[e2e][drain]") {
    TempDir zones;
    zones.write("drain.test.json", drain_zone);
    Dnsd server = start(zones);
    REQUIRE(has(answer(server, "slow.drain.test"), "192.0.2.2"));
    const CommandResult result = drain(server, {"drain.test", "slow", "192.0.2.2", "--wait", "--timeout", "1"});
    CHECK(result.exit_code == 1);
    CHECK(result.err == "dnsd drain: timed out after 1 s waiting for 192.0.2.2 in drain.test/slow to be safe to remove\n");
    const json shown = member(server, "slow", "192.0.2.2");
    CHECK(shown["draining"] == true);
    CHECK(shown["safe_to_remove_at"] > shown["out_since"]);  // the same format: the text orders as the time

    const CommandResult unknown = drain(server, {"drain.test", "slow", "192.0.2.9"});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err == "dnsd drain: http://127.0.0.1:" + std::to_string(server.http_port()) +
                             " answered 404: no member 192.0.2.9 in pool slow\n");
}

TEST_CASE("drain: a member a reload removes is listed as draining until its TTL has run out", "[e2e][drain]") {
    TempDir zones;
    zones.write("drain.test.json", drain_zone);
    Dnsd server = start(zones);
    REQUIRE(has(answer(server, "slow.drain.test"), "192.0.2.2"));
    std::string without = drain_zone;
    without.replace(without.rfind(R"(, {"address": "192.0.2.2"})"), 26, "");
    zones.write("drain.test.json", without);
    REQUIRE(http_request(server.http_port(), "POST", "/v1/reload").status == 200);
    CHECK(answer(server, "slow.drain.test") == std::vector<std::string>{"192.0.2.1"});

    const json shown = member(server, "slow", "192.0.2.2");
    CHECK(shown["state"] == "removed");
    CHECK(shown["draining"] == true);
    const HttpResponse status = http_request(server.http_port(), "GET", "/v1/status");
    const json pools = json::parse(status.body)["pools"];
    const auto slow = std::find_if(pools.begin(), pools.end(), [](const json& p) { return p["pool"] == "slow"; });
    REQUIRE(slow != pools.end());
    REQUIRE((*slow)["gone"].size() == 1);
    CHECK((*slow)["gone"][0]["address"] == "192.0.2.2");
    CHECK((*slow)["gone"][0]["draining"] == true);
}

}  // namespace dnsd::e2e
