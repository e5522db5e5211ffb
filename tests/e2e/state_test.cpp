// What survives a restart (SPEC §2 state_dir, §8): runtime overrides are
// kept in the state directory and are in force from the first query after a
// restart; set back to auto, they are gone for good. A state file that is
// garbage, or a state directory that cannot be written, costs a warning and
// never the server.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace dnsd::e2e {
namespace {

using nlohmann::json;
using Addresses = std::vector<std::string>;

const Addresses rr_v4{"192.0.2.21", "192.0.2.22", "192.0.2.23", "192.0.2.24"};
const Addresses rr_v4_drained{"192.0.2.21", "192.0.2.22", "192.0.2.24"};
const std::string drain_path = "/v1/zones/pools.test/pools/rr/members/192.0.2.23";

Dnsd start(const std::filesystem::path& state_dir, const std::filesystem::path& zones_dir = data_dir() / "zones") {
    DnsdOptions options;
    options.zones_dir = zones_dir;
    options.state_dir = state_dir;
    options.extra_args = {"--threads", "1"};
    return Dnsd(options);
}

// The A records of rr.pools.test in one UDP answer, sorted.
Addresses rr_answer(const Dnsd& server) {
    Response response = udp_response(server.port(), make_query(1, "rr.pools.test", rrtype::A));
    std::sort(response.answer_addresses.begin(), response.answer_addresses.end());
    return response.answer_addresses;
}

json put_state(const Dnsd& server, const std::string& path, const std::string& state) {
    const HttpResponse response = http_request(server.http_port(), "PUT", path, R"({"state": ")" + state + "\"}");
    INFO(response.body);
    REQUIRE(response.status == 200);
    return json::parse(response.body);
}

json overrides(const Dnsd& server) {
    const HttpResponse response = http_request(server.http_port(), "GET", "/v1/status");
    REQUIRE(response.status == 200);
    return json::parse(response.body)["overrides"];
}

const json drained_override{{"zone", "pools.test"}, {"pool", "rr"}, {"address", "192.0.2.23"},
                            {"state", "down"},      {"applied", true}};

}  // namespace

TEST_CASE("state: an override survives a restart until it is set back to auto", "[e2e][state]") {
    TempDir dir;
    const auto state_dir = dir.path() / "state";
    {
        Dnsd server = start(state_dir);
        REQUIRE(rr_answer(server) == rr_v4);
        CHECK(put_state(server, drain_path, "down")["persisted"] == true);
        CHECK(rr_answer(server) == rr_v4_drained);
        CHECK(server.stop() == 0);
    }
    // The directory was created, and holds the override and nothing else.
    CHECK(std::distance(std::filesystem::directory_iterator(state_dir), std::filesystem::directory_iterator()) == 1);
    CHECK(json::parse(read_text(state_dir / "overrides.json"))["version"] == 1);
    {
        Dnsd server = start(state_dir);
        // The first query after the restart: already without the drained member.
        CHECK(rr_answer(server) == rr_v4_drained);
        CHECK(overrides(server) == json::array({drained_override}));
        CHECK(server.log().find("state: 1 override restored from " + (state_dir / "overrides.json").string()) !=
              std::string::npos);
        CHECK(put_state(server, drain_path, "auto")["persisted"] == true);
        CHECK(rr_answer(server) == rr_v4);
        CHECK(server.stop() == 0);
    }
    {
        Dnsd server = start(state_dir);
        CHECK(rr_answer(server) == rr_v4);
        CHECK(overrides(server) == json::array());
    }
}

TEST_CASE("state: an override whose member is gone is kept, not applied, and applies when it is back",
          "[e2e][state]") {
    TempDir dir;
    const auto state_dir = dir.path() / "state";
    const std::string pools_zone = read_text(data_dir() / "zones/pools.test.json");
    REQUIRE(pools_zone.find("\"192.0.2.23\"") != std::string::npos);
    std::string without = pools_zone;
    without.replace(without.find("\"192.0.2.23\""), 12, "\"192.0.2.25\"");
    TempDir zones;
    zones.write("pools.test.json", pools_zone);
    {
        Dnsd server = start(state_dir, zones.path());
        CHECK(put_state(server, drain_path, "down")["persisted"] == true);
    }
    // Restarted on zones without the member: the override is listed, not applied.
    zones.write("pools.test.json", without);
    {
        Dnsd server = start(state_dir, zones.path());
        CHECK(rr_answer(server) == Addresses{"192.0.2.21", "192.0.2.22", "192.0.2.24", "192.0.2.25"});
        json kept = drained_override;
        kept["applied"] = false;
        CHECK(overrides(server) == json::array({kept}));
        CHECK(server.log().find("kept but not applied") != std::string::npos);
        // up or down needs the member; auto ends the kept override anyway.
        CHECK(http_request(server.http_port(), "PUT", drain_path, R"({"state": "down"})").status == 404);
        CHECK(server.stop() == 0);
    }
    // The member is back: so is the override, from the first query.
    zones.write("pools.test.json", pools_zone);
    {
        Dnsd server = start(state_dir, zones.path());
        CHECK(rr_answer(server) == rr_v4_drained);
        CHECK(overrides(server) == json::array({drained_override}));
        // Gone again by a reload, and ended meanwhile: it stays ended.
        zones.write("pools.test.json", without);
        REQUIRE(http_request(server.http_port(), "POST", "/v1/reload").status == 200);
        CHECK(overrides(server)[0]["applied"] == false);
        CHECK(put_state(server, drain_path, "auto")["state"] == "auto");
        CHECK(overrides(server) == json::array());
    }
    zones.write("pools.test.json", pools_zone);
    Dnsd server = start(state_dir, zones.path());
    CHECK(rr_answer(server) == rr_v4);
}

TEST_CASE("state: a garbage state file is a warning naming it, and dnsd serves without it", "[e2e][state]") {
    TempDir dir;
    const auto state_dir = dir.path() / "state";
    const auto file = dir.write("state/overrides.json", "{\n  \"version\": 1,\n  \"overrides\": [ {\"zone\": \n");
    Dnsd server = start(state_dir);
    CHECK(rr_answer(server) == rr_v4);
    CHECK(overrides(server) == json::array());
    const std::string log = server.log();
    INFO(log);
    CHECK(log.find(file.string() + ":4:1: ") != std::string::npos);
    CHECK(log.find("; starting without the overrides kept there") != std::string::npos);
    // The next change replaces it with a good one.
    CHECK(put_state(server, drain_path, "down")["persisted"] == true);
    CHECK(json::parse(read_text(file))["overrides"].size() == 1);
}

TEST_CASE("state: a state directory that cannot be made is a warning, and overrides hold until dnsd stops",
          "[e2e][state]") {
    TempDir dir;
    dir.write("not-a-directory", "");
    const auto state_dir = dir.path() / "not-a-directory" / "state";
    Dnsd server = start(state_dir);
    const json put = put_state(server, drain_path, "down");
    CHECK(put["persisted"] == false);
    CHECK(put["warning"].get<std::string>().find("the override holds until dnsd stops") != std::string::npos);
    CHECK(rr_answer(server) == rr_v4_drained);
    const std::string log = server.log();
    INFO(log);
    CHECK(log.find(state_dir.string() + ": cannot create the state directory: ") != std::string::npos);
    CHECK(log.find("state: " + (state_dir / "overrides.json").string() + ": cannot create a temporary file") !=
          std::string::npos);
}

}  // namespace dnsd::e2e
