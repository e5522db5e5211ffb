// Members from DNS end to end (SPEC §11): a second dnsd, started by the test
// on a port of its own, serves the discovery names from a zone file the test
// rewrites (dnsd reloads it); the dnsd under test follows those names through
// `members_from`. Sources refresh every second or two, so every wait polls
// with a generous deadline; how soon each lookup comes is SourceRefresh's,
// tested with a clock of its own (tests/unit/discovery_test.cpp).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <set>
#include <thread>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace dnsd::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using Addresses = std::set<std::string>;

constexpr auto patience = 30s;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = patience) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(50ms);  // the polling cadence, not a wait for anything
    }
    return true;
}

// The discovery server's zone: `records` (JSON members of "records") beside
// the apex's, with one-second TTLs, an SOA whose negative TTL is one second.
std::string discovery_zone(const std::string& records) {
    return R"({ "zone": "disc.test", "ttl": 1,
  "soa": { "mname": "ns1", "rname": "hostmaster", "minimum": 1 },
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] })" +
           (records.empty() ? "" : ", " + records) + " } }";
}

// The second dnsd: the discovery names, on a fixed port so that it can be
// stopped and started again where the sources look.
class DiscoveryServer {
public:
    DiscoveryServer() : port_(free_port()) { dir_.write("zones/disc.test.json", discovery_zone("")); }

    uint16_t port() const { return port_; }
    std::string resolver() const { return "127.0.0.1:" + std::to_string(port_); }

    // Rewrites the zone with `records` and waits until the server answers `probe` as `expect`.
    void serve(const std::string& records, const std::string& probe, const Addresses& expect) {
        dir_.write("zones/.disc.test.json.tmp", discovery_zone(records));
        std::filesystem::rename(dir_.path() / "zones/.disc.test.json.tmp", dir_.path() / "zones/disc.test.json");
        if (!server_) start();
        INFO("discovery server log:\n" << server_->log());
        REQUIRE(eventually([&] { return answers(probe, "A") == expect; }));
    }
    void start() {
        DnsdOptions options;
        options.zones_dir = dir_.path() / "zones";
        options.listen = {resolver()};
        options.extra_args = {"--threads", "1"};
        server_ = std::make_unique<Dnsd>(options);
    }
    void stop() { server_.reset(); }

    Addresses answers(const std::string& name, const std::string& type) const {
        Addresses out;
        for (const Rr& rr : dig(port_, {name, type}).records("answer", type)) out.insert(rr.rdata);
        return out;
    }

private:
    TempDir dir_;
    uint16_t port_;
    std::unique_ptr<Dnsd> server_;
};

// The dnsd under test: zone svc.test whose names are pools ({name, JSON body}).
std::unique_ptr<Dnsd> start_dnsd(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& pools) {
    std::string records = R"("@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] })";
    std::string bodies;
    for (const auto& [name, body] : pools) {
        records += ", \"" + name + "\": { \"pool\": \"" + name + "\" }";
        bodies += std::string(bodies.empty() ? "" : ", ") + "\"" + name + "\": " + body;
    }
    dir.write("zones/svc.test.json", R"({ "zone": "svc.test", "ttl": 30,
  "soa": { "mname": "ns1", "rname": "hostmaster" },
  "records": { )" + records + R"( }, "pools": { )" + bodies + " } }");
    DnsdOptions options;
    options.zones_dir = dir.path() / "zones";
    options.extra_args = {"--threads", "1"};
    return std::make_unique<Dnsd>(options);
}

// A members_from entry for `name` at `resolver`, refreshed every 1 to 2 s.
std::string source(const std::string& name, const std::string& type, const std::string& resolver) {
    return R"({ "dns": ")" + name + R"(", "type": ")" + type + R"(", "resolver": ")" + resolver +
           R"(", "refresh_min": 1, "refresh_max": 2 })";
}

Addresses answers(const Dnsd& dnsd, const std::string& name, const std::string& type) {
    Addresses out;
    for (const Rr& rr : dig(dnsd.port(), {name, type}).records("answer", type)) out.insert(rr.rdata);
    return out;
}

nlohmann::json get_json(const Dnsd& dnsd, const std::string& target) {
    const HttpResponse response = http_request(dnsd.http_port(), "GET", target);
    REQUIRE(response.status == 200);
    return nlohmann::json::parse(response.body);
}

// The status of the first source of `pool` in svc.test.
nlohmann::json source_status(const Dnsd& dnsd, const std::string& pool) {
    const nlohmann::json status = get_json(dnsd, "/v1/status");
    for (const auto& p : status["pools"])
        if (p["zone"] == "svc.test" && p["pool"] == pool && !p["sources"].empty()) return p["sources"][0];
    return nullptr;
}

}  // namespace

TEST_CASE("discovery: a pool follows a DNS name's A records, keeps its set while the resolver is down, "
          "and empties on NXDOMAIN twice") {
    DiscoveryServer names;
    names.serve(R"("web": { "A": ["192.0.2.1", "192.0.2.2"] })", "web.disc.test", {"192.0.2.1", "192.0.2.2"});
    TempDir dir;
    auto dnsd = start_dnsd(dir, {{"www", R"({ "members_from": [)" + source("web.disc.test.", "A", names.resolver()) +
                                             "] }"}});
    INFO("dnsd log:\n" << dnsd->log());

    CHECK(eventually([&] { return answers(*dnsd, "www.svc.test", "A") == Addresses{"192.0.2.1", "192.0.2.2"}; }));
    const nlohmann::json first = source_status(*dnsd, "www");
    REQUIRE(first.is_object());
    CHECK(first["source"] == "dns:web.disc.test.");
    CHECK(first["type"] == "A");
    CHECK(first["resolver"] == names.resolver());
    CHECK(first["answer_records"] == 2);
    CHECK(first["members"] == 2);
    CHECK(first["last_error"].is_null());
    CHECK(first["last_refresh"].is_string());
    CHECK(first["ttl"] == 1);

    // An edit on the discovery server is followed within the refresh bound.
    names.serve(R"("web": { "A": ["192.0.2.3"] })", "web.disc.test", {"192.0.2.3"});
    CHECK(eventually([&] { return answers(*dnsd, "www.svc.test", "A") == Addresses{"192.0.2.3"}; }));

    // The resolver gone: lookups fail, and the last good set still answers.
    names.stop();
    CHECK(eventually([&] {
        const nlohmann::json s = source_status(*dnsd, "www");
        return s.is_object() && s["failures"].get<unsigned>() >= 2;
    }));
    CHECK(source_status(*dnsd, "www")["last_error"].is_string());
    CHECK(source_status(*dnsd, "www")["members"] == 1);
    CHECK(answers(*dnsd, "www.svc.test", "A") == Addresses{"192.0.2.3"});
    const std::string metrics = http_request(dnsd->http_port(), "GET", "/metrics").body;
    CHECK(metrics.find("dnsd_discovery_members{zone=\"svc.test\",pool=\"www\",source=\"dns:web.disc.test.\","
                       "type=\"A\"} 1") != std::string::npos);
    CHECK(metrics.find("dnsd_discovery_refreshes_total{zone=\"svc.test\",pool=\"www\",source=\"dns:web.disc.test.\","
                       "type=\"A\",result=\"failed\"}") != std::string::npos);

    // Back, without the name: NXDOMAIN, and after the second one the set is empty.
    names.serve(R"("other": { "A": ["192.0.2.9"] })", "other.disc.test", {"192.0.2.9"});
    CHECK(eventually([&] { return source_status(*dnsd, "www")["members"] == 0; }));
    CHECK(source_status(*dnsd, "www")["last_error"] == "NXDOMAIN");
    CHECK(answers(*dnsd, "www.svc.test", "A").empty());
}

TEST_CASE("discovery: an SRV source gives its targets' addresses with the records' port, priority and weight") {
    DiscoveryServer names;
    names.serve(R"("_web._tcp": { "SRV": [{ "priority": 10, "weight": 9, "port": 8080, "target": "t1" },
                                         { "priority": 20, "weight": 1, "port": 8081, "target": "t2" }] },
                   "t1": { "A": ["192.0.2.11"], "AAAA": ["2001:db8::11"] },
                   "t2": { "A": ["192.0.2.12"] })",
                "t2.disc.test", {"192.0.2.12"});
    const std::string srv = source("_web._tcp.disc.test.", "SRV", names.resolver());
    TempDir dir;
    auto dnsd = start_dnsd(
        dir, {{"ordered", R"({ "policy": "priority", "members_from": [)" + srv + "] }"},
              {"weighted", R"({ "policy": "weighted", "max_answers": 1, "members_from": [)" + srv + "] }"},
              {"probed", R"({ "check": { "type": "tcp", "interval": 1, "timeout": 0.5 }, "members_from": [)" + srv +
                             "] }"}});
    INFO("dnsd log:\n" << dnsd->log());

    // Priority: only the priority-10 target answers, in both families.
    CHECK(eventually([&] { return answers(*dnsd, "ordered.svc.test", "A") == Addresses{"192.0.2.11"}; }));
    CHECK(answers(*dnsd, "ordered.svc.test", "AAAA") == Addresses{"2001:db8::11"});
    const nlohmann::json status = source_status(*dnsd, "ordered");
    CHECK(status["answer_records"] == 2);
    CHECK(status["members"] == 3);

    // Weight: 9 to 1, so the first target takes most single answers (90% expected).
    std::map<std::string, int> picks;
    for (int i = 0; i < 200; ++i)
        for (const auto& address : answers(*dnsd, "weighted.svc.test", "A")) ++picks[address];
    INFO("picks: 192.0.2.11 " << picks["192.0.2.11"] << ", 192.0.2.12 " << picks["192.0.2.12"]);
    CHECK(picks["192.0.2.11"] + picks["192.0.2.12"] == 200);
    CHECK(picks["192.0.2.11"] > 140);
    CHECK(picks["192.0.2.12"] > 0);

    // Port: each member is probed on its record's port.
    std::set<std::string> targets;
    CHECK(eventually([&] {
        targets.clear();
        const nlohmann::json report = get_json(*dnsd, "/v1/explain?name=probed.svc.test&type=A&client=127.0.0.1");
        for (const auto& member : report["pool"]["members"])
            if (member["target"].is_string()) targets.insert(member["target"].get<std::string>());
        return targets.size() == 2 && report["pool"]["sources"].size() == 1 &&
               report["pool"]["sources"][0]["source"] == "dns:_web._tcp.disc.test.";
    }));
    INFO("targets: " << nlohmann::json(targets).dump());
    CHECK(std::count_if(targets.begin(), targets.end(),
                        [](const std::string& t) { return t.find("192.0.2.11:8080") != std::string::npos; }) == 1);
    CHECK(std::count_if(targets.begin(), targets.end(),
                        [](const std::string& t) { return t.find("192.0.2.12:8081") != std::string::npos; }) == 1);
}

}  // namespace dnsd::e2e
