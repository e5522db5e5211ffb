// The config file (SPEC §2): defaults, every key of the example, paths, and
// one broken file per diagnostic in tests/data/config/invalid.
#include <catch2/catch.hpp>
#include <filesystem>

#include "dnsd/config/config.hpp"
#include "expect_file.hpp"

namespace fs = std::filesystem;
using namespace dnsd;

namespace {

const fs::path data = fs::path(DNSD_SOURCE_DIR) / "tests/data/config";

std::string all(const core::Diagnostics& diagnostics) {
    std::string out;
    for (const auto& d : diagnostics) out += d.to_string() + "\n";
    return out;
}

}  // namespace

TEST_CASE("config: defaults per SPEC §1") {
    config::Config c = config::defaults();
    REQUIRE(c.listen.size() == 2);
    CHECK(c.listen[0].to_string() == "127.0.0.1:5353");
    CHECK(c.listen[1].to_string() == "[::1]:5353");
    CHECK(c.zones_dir == "zones");
    CHECK(c.geoip_path == "geoip/country.mmdb");
    CHECK_FALSE(c.geoip_named);
    // The shipped database's layout: a country code and nothing else.
    CHECK(c.geoip_fields.country == std::vector<std::string>{"country_code"});
    CHECK(c.geoip_fields.continent.empty());
    CHECK(c.geoip_fields.latitude.empty());
    REQUIRE(c.http);
    CHECK(c.http->to_string() == "127.0.0.1:8053");
    REQUIRE(c.regions.size() == 3);
    CHECK(c.regions[0].name == "eu");
    CHECK(c.regions[0].continents == std::vector<std::string>{"EU", "AF"});
    CHECK(c.regions[1].name == "us");
    CHECK(c.regions[1].continents == std::vector<std::string>{"NA", "SA"});
    CHECK(c.regions[2].name == "ap");
    CHECK(c.regions[2].continents == std::vector<std::string>{"AS", "OC"});
    for (const auto& region : c.regions) CHECK(region.location);
    CHECK(c.default_region == "us");
    CHECK(c.file.empty());
    CHECK(c.udp_payload == 1232);
    CHECK(c.log_level == "info");
    CHECK(c.state_dir == "state");  // from the working directory
}

TEST_CASE("config: the SPEC §2 example loads with every key") {
    core::Diagnostics diagnostics;
    auto c = config::load_file((data / "full.json").string(), diagnostics);
    INFO(all(diagnostics));
    REQUIRE(c);
    CHECK(c->file == (data / "full.json").string());
    REQUIRE(c->listen.size() == 2);
    CHECK(c->listen[1].to_string() == "[::1]:5353");
    // Relative paths are taken from the config file's directory.
    CHECK(c->zones_dir == (data / "zones").string());
    CHECK(c->geoip_path == (data / "geoip/country.mmdb").string());
    REQUIRE(c->regions.size() == 4);
    const config::Region& eu = c->regions[0];
    CHECK(eu.name == "eu");
    CHECK(eu.continents == std::vector<std::string>{"EU", "AF"});
    REQUIRE(eu.location);
    CHECK(eu.location->first == Approx(50.11));
    CHECK(eu.location->second == Approx(8.68));
    const config::Region& ap = c->regions[2];
    CHECK(ap.countries == std::vector<std::string>{"AU"});
    CHECK(ap.fallback == std::vector<std::string>{"us"});
    const config::Region& lab = c->regions[3];
    REQUIRE(lab.subnets.size() == 2);
    CHECK(lab.subnets[0].network.to_string() == "10.0.0.0");
    CHECK(lab.subnets[0].prefix == 8);
    CHECK(lab.subnets[1].network.to_string() == "fd00::");
    CHECK(lab.subnets[1].prefix == 8);
    CHECK_FALSE(lab.location);
    CHECK(c->region_index("ap") == 2);
    CHECK(c->region_index("mars") == -1);
    CHECK(c->default_region == "us");
    CHECK(c->threads == 0);
    REQUIRE(c->http);
    CHECK(c->http->to_string() == "127.0.0.1:8053");
    CHECK(c->http_token == "secret");
    CHECK(c->ecs);
    CHECK(c->udp_payload == 1232);
    CHECK(c->nsid.empty());
    CHECK(c->tcp_idle_timeout_ms == 10000);
    CHECK(c->tcp_max_connections == 1000);
    CHECK(c->log_level == "warn");
    CHECK(c->state_dir == (data / "var/state").string());
    // Not in the file: GeoIP2's lookup paths, not the shipped database's.
    CHECK(c->geoip_fields.country == std::vector<std::string>{"country", "iso_code"});
    CHECK(c->geoip_fields.latitude == std::vector<std::string>{"location", "latitude"});
    CHECK(c->geoip_named);
}

TEST_CASE("config: keys the file leaves out keep their defaults, its regions replace the default ones") {
    core::Diagnostics diagnostics;
    auto c = config::load_file((data / "regions-only.json").string(), diagnostics);
    INFO(all(diagnostics));
    REQUIRE(c);
    REQUIRE(c->regions.size() == 1);
    CHECK(c->regions[0].name == "lab");
    CHECK(c->default_region.empty());
    CHECK(c->geoip_path == "geoip/country.mmdb");
    CHECK_FALSE(c->geoip_named);
    CHECK(c->geoip_fields.country == std::vector<std::string>{"country_code"});
    // The default state directory is beside the config file, like every relative path.
    CHECK(c->state_dir == (data / "state").string());
}

TEST_CASE("config: geoip as an object, single listen, http off, absolute zones") {
    core::Diagnostics diagnostics;
    auto c = config::load_file((data / "flat-geoip.json").string(), diagnostics);
    INFO(all(diagnostics));
    REQUIRE(c);
    REQUIRE(c->listen.size() == 1);
    CHECK(c->listen[0].to_string() == "[::1]:53");
    CHECK(c->zones_dir == "/srv/dnsd/zones");
    CHECK(c->state_dir == "/var/lib/dnsd");
    CHECK(c->geoip_path == (data / "../geo/flat.mmdb").string());
    CHECK(c->geoip_fields.country == std::vector<std::string>{"country_code"});
    CHECK(c->geoip_fields.continent == std::vector<std::string>{"continent"});
    CHECK(c->geoip_fields.latitude == std::vector<std::string>{"latitude"});
    CHECK(c->geoip_fields.longitude == std::vector<std::string>{"longitude"});
    CHECK_FALSE(c->http);
    CHECK(c->threads == 4);
    CHECK_FALSE(c->ecs);
    CHECK(c->udp_payload == 4096);
    CHECK(c->nsid == "dnsd-1");
    CHECK(c->tcp_idle_timeout_ms == 2500);
    CHECK(c->tcp_max_connections == 10);
    CHECK(c->log_level == "info");
}

TEST_CASE("config: a missing file is one diagnostic without a position") {
    core::Diagnostics diagnostics;
    CHECK_FALSE(config::load_file((data / "missing.json").string(), diagnostics));
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].line == 0);
    CHECK(diagnostics[0].message.find("cannot read") != std::string::npos);
}

TEST_CASE("config: text in memory loads as a file would, relative paths from the file's directory") {
    core::Diagnostics diagnostics;
    auto c = config::load_text(R"({"zones": "zones", "threads": 2})", "/etc/dnsd/dnsd.json", diagnostics);
    INFO(diagnostics.size());
    REQUIRE(c);
    CHECK(c->file == "/etc/dnsd/dnsd.json");
    CHECK(c->zones_dir == "/etc/dnsd/zones");
    CHECK(c->threads == 2);

    // Nested past 64 levels: one diagnostic where the 65th level opens.
    CHECK_FALSE(config::load_text("{\"regions\": " + std::string(64, '[') + std::string(64, ']') + "}", "d.json",
                                  diagnostics));
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].to_string().rfind("d.json:1:76: nested too deep", 0) == 0);
}

TEST_CASE("config corpus: every invalid config reports exactly its diagnostics") {
    std::vector<fs::path> expects;
    for (const auto& entry : fs::directory_iterator(data / "invalid"))
        if (entry.path().extension() == ".expect") expects.push_back(entry.path());
    std::sort(expects.begin(), expects.end());
    for (const auto& expect : expects) {
        fs::path file = expect;
        file.replace_extension(".json");
        DYNAMIC_SECTION(file.filename().string()) {
            core::Diagnostics diagnostics;
            CHECK_FALSE(config::load_file(file.string(), diagnostics));
            for (const auto& d : diagnostics) CHECK(d.file == file.string());
            test::check_expectations(diagnostics, expect.string());
        }
    }
    CHECK(expects.size() >= 30);
}
