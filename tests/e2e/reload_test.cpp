// SPEC §6 against the real binary: zone files edited the ways editors and
// tools write them while dnsd serves, SIGHUP, a GeoIP database replaced, and
// queries from several threads through a run of reloads. Every wait polls the
// server with a deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace dnsd::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Addresses = std::set<std::string>;
using nlohmann::json;

// The zone the tests edit: a pool `www` of `members`, and `ver` whose one A
// record (10.0.V/256.V%256) tells which version of the file answered.
struct LiveZone {
    std::string name = "live.test";
    std::vector<std::string> members{"192.0.2.1", "192.0.2.2"};
    unsigned version = 1;

    std::string text() const {
        std::string pool;
        for (const auto& member : members) pool += (pool.empty() ? "" : ", ") + ("{\"address\": \"" + member + "\"}");
        return "{\n"
               "  \"zone\": \"" + name + "\",\n"
               "  \"ttl\": 30,\n"
               "  \"soa\": {\"mname\": \"ns1\", \"rname\": \"hostmaster." + name + ".\", \"serial\": \"auto\",\n"
               "          \"refresh\": 3600, \"retry\": 600, \"expire\": 604800, \"minimum\": 30},\n"
               "  \"records\": {\n"
               "    \"@\": {\"NS\": [\"ns1\"]},\n"
               "    \"ns1\": {\"A\": [\"192.0.2.53\"]},\n"
               "    \"ver\": {\"A\": [\"" + version_address(version) + "\"]},\n"
               "    \"www\": {\"pool\": \"web\"}\n"
               "  },\n"
               "  \"pools\": {\"web\": {\"members\": [" + pool + "]}}\n"
               "}\n";
    }

    static std::string version_address(unsigned version) {
        return "10.0." + std::to_string(version / 256) + "." + std::to_string(version % 256);
    }
    static unsigned version_of(const std::string& address) {
        in_addr bytes{};
        if (inet_pton(AF_INET, address.c_str(), &bytes) != 1) return 0;
        const auto* octets = reinterpret_cast<const uint8_t*>(&bytes);
        return octets[2] * 256u + octets[3];
    }
};

// A zones directory that the tests edit while dnsd serves it.
class Zones {
public:
    Zones() { fs::create_directories(dir()); }
    fs::path dir() const { return root_.path() / "zones"; }
    fs::path path(const std::string& zone) const { return dir() / (zone + ".json"); }
    const TempDir& root() const { return root_; }

    // As tools that write atomically do: a temporary file, then rename.
    // `mtime_s`: the file's modification time, in seconds since the epoch.
    void replace(const std::string& zone, const std::string& text, std::optional<time_t> mtime_s = {}) const {
        const fs::path temp = root_.write("zones/." + zone + ".json.tmp", text);
        if (mtime_s) {
            const timespec times[2] = {{*mtime_s, 0}, {*mtime_s, 0}};
            if (::utimensat(AT_FDCWD, temp.c_str(), times, 0) != 0) throw std::runtime_error("utimensat failed");
        }
        fs::rename(temp, path(zone));
    }
    // As an editor that rewrites the file in place does.
    void rewrite(const std::string& zone, const std::string& text) const { root_.write("zones/" + zone + ".json", text); }
    void append(const std::string& zone, const std::string& text) const {
        std::ofstream out(path(zone), std::ios::binary | std::ios::app);
        out << text;
        if (!out.flush()) throw std::runtime_error("cannot append to " + path(zone).string());
    }
    void remove(const std::string& zone) const { fs::remove(path(zone)); }

private:
    TempDir root_;
};

Dnsd start(const fs::path& zones_dir, std::vector<std::string> extra_args = {}) {
    DnsdOptions options;
    options.zones_dir = zones_dir;
    options.extra_args = std::move(extra_args);
    return Dnsd(options);
}

// Polls `check` until it holds or `timeout` passes; true when it held.
template <class Check>
bool eventually(Check check, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (check()) return true;
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);  // the polling cadence, not a wait for anything
    }
}

uint16_t next_id() {
    static std::atomic<uint16_t> id{1};
    return id++;
}

std::optional<Response> ask(const Dnsd& server, const std::string& name, uint16_t type) {
    auto bytes = udp_exchange(server.port(), make_query(next_id(), name, type));
    if (!bytes) return std::nullopt;
    return parse_response(*bytes);
}

Addresses addresses(const Dnsd& server, const std::string& name) {
    auto response = ask(server, name, rrtype::A);
    if (!response || response->header.rcode() != rcode::noerror) return {};
    return {response->answer_addresses.begin(), response->answer_addresses.end()};
}

std::optional<unsigned> rcode_of(const Dnsd& server, const std::string& name, uint16_t type) {
    auto response = ask(server, name, type);
    if (!response) return std::nullopt;
    return response->header.rcode();
}

std::optional<uint32_t> serial(const Dnsd& server, const std::string& zone) {
    DigResult result = dig(server.port(), {zone, "SOA"});
    auto soa = result.records("answer", "SOA");
    if (soa.empty()) return std::nullopt;
    std::istringstream fields(soa.front().rdata);
    std::string mname, rname;
    uint32_t value = 0;
    if (!(fields >> mname >> rname >> value)) return std::nullopt;
    return value;
}

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
    return n;
}

// Reloads the server logged, whatever triggered them.
size_t reloads(const Dnsd& server) { return count(server.log(), " reload ("); }

}  // namespace

TEST_CASE("reload: a member added by rewrite and rename is answered within 2 s and a removed one goes", "[reload]") {
    Zones zones;
    LiveZone zone;
    zones.replace(zone.name, zone.text());
    Dnsd server = start(zones.dir());
    REQUIRE(addresses(server, "www.live.test") == Addresses{"192.0.2.1", "192.0.2.2"});

    zone.members.push_back("192.0.2.3");
    zone.version = 2;
    zones.replace(zone.name, zone.text());
    CHECK(eventually([&] { return addresses(server, "www.live.test").contains("192.0.2.3"); }, 2s));
    CHECK(addresses(server, "www.live.test") == Addresses{"192.0.2.1", "192.0.2.2", "192.0.2.3"});

    zone.members = {"192.0.2.1", "192.0.2.3"};
    zone.version = 3;
    zones.replace(zone.name, zone.text());
    CHECK(eventually([&] { return addresses(server, "www.live.test") == Addresses{"192.0.2.1", "192.0.2.3"}; }, 2s));
    CHECK(server.log().find("live.test serial") != std::string::npos);
    CHECK(server.stop() == 0);
}

TEST_CASE("reload: invalid JSON keeps the previous version serving and logs the error until the fix",
          "[reload]") {
    Zones zones;
    LiveZone zone;
    zones.replace(zone.name, zone.text());
    Dnsd server = start(zones.dir());
    const std::string file = zones.path(zone.name).string();

    const size_t before = reloads(server);
    zones.rewrite(zone.name, "{\"zone\": \"live.test\", \"ttl\": 30,\n  \"records\": {\n");
    REQUIRE(eventually([&] { return reloads(server) > before; }));
    const std::string log = server.log();
    INFO(log);
    const std::regex located(std::regex_replace(file, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                             R"(:\d+:\d+: malformed JSON)");
    CHECK(std::regex_search(log, located));
    CHECK(log.find("invalid, previous version kept: " + file) != std::string::npos);
    CHECK(addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(1)});
    CHECK(rcode_of(server, "www.live.test", rrtype::A) == rcode::noerror);

    zone.version = 2;
    zones.rewrite(zone.name, zone.text());
    CHECK(eventually([&] { return addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(2)}; }, 2s));
    CHECK(server.stop() == 0);
}

TEST_CASE("reload: a file nested too deep is refused while other zones and the previous version keep serving",
          "[reload]") {
    // 64 lists, then an object one level too deep: the object opens at column 65.
    const std::string too_deep = std::string(64, '[') + "{}" + std::string(64, ']') + "\n";
    Zones zones;
    LiveZone live;
    LiveZone other;
    other.name = "other.test";
    zones.replace(live.name, live.text());
    zones.replace(other.name, other.text());
    Dnsd server = start(zones.dir());
    REQUIRE(addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(1)});

    // A new file.
    size_t before = reloads(server);
    zones.replace("deep.test", too_deep);
    REQUIRE(eventually([&] { return reloads(server) > before; }));
    const std::string deep = zones.path("deep.test").string();
    CHECK(eventually([&] { return server.log().find(deep + ":1:65: nested too deep") != std::string::npos; }));
    CHECK(addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(1)});
    CHECK(addresses(server, "www.other.test") == Addresses{"192.0.2.1", "192.0.2.2"});

    // A served zone's file replaced by one.
    before = reloads(server);
    zones.replace(live.name, too_deep);
    REQUIRE(eventually([&] { return reloads(server) > before; }));
    const std::string file = zones.path(live.name).string();
    CHECK(eventually([&] { return server.log().find(file + ":1:65: nested too deep") != std::string::npos; }));
    // "invalid, previous version kept: ... FILE (serial N serves)", beside the new file's "(nothing serves)".
    CHECK(eventually([&] { return server.log().find(file + " (serial ") != std::string::npos; }));
    CHECK(addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(1)});
    CHECK(addresses(server, "www.other.test") == Addresses{"192.0.2.1", "192.0.2.2"});
    CHECK(server.stop() == 0);
}

TEST_CASE("reload: a half-written file is invalid until it is complete", "[reload]") {
    Zones zones;
    LiveZone zone;
    zones.replace(zone.name, zone.text());
    Dnsd server = start(zones.dir());

    zone.version = 2;
    const std::string text = zone.text();
    const size_t half = text.size() / 2;
    const size_t before = count(server.log(), "invalid, previous version kept");
    zones.rewrite(zone.name, text.substr(0, half));
    REQUIRE(eventually([&] { return count(server.log(), "invalid, previous version kept") > before; }));
    CHECK(addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(1)});

    zones.append(zone.name, text.substr(half));
    CHECK(eventually([&] { return addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(2)}; }, 2s));
    CHECK(server.stop() == 0);
}

TEST_CASE("reload: a deleted zone file's zone is REFUSED and a new file's zone is served", "[reload]") {
    Zones zones;
    LiveZone live;
    zones.replace(live.name, live.text());
    Dnsd server = start(zones.dir());
    REQUIRE(rcode_of(server, "new.test", rrtype::SOA) == rcode::refused);

    LiveZone fresh;
    fresh.name = "new.test";
    zones.replace(fresh.name, fresh.text());
    CHECK(eventually([&] { return addresses(server, "www.new.test") == Addresses{"192.0.2.1", "192.0.2.2"}; }, 2s));

    zones.remove(live.name);
    CHECK(eventually([&] { return rcode_of(server, "www.live.test", rrtype::A) == rcode::refused; }, 2s));
    CHECK(rcode_of(server, "live.test", rrtype::SOA) == rcode::refused);
    CHECK(rcode_of(server, "www.new.test", rrtype::A) == rcode::noerror);
    // The reload's line is written just after it publishes: poll for it too.
    CHECK(eventually([&] { return server.log().find("live.test removed") != std::string::npos; }, 2s));
    CHECK(server.stop() == 0);
}

TEST_CASE("reload: workers move to the new zones without a query, so a deleted zone's answer counts leave status",
          "[reload]") {
    Zones zones;
    LiveZone live;
    zones.replace(live.name, live.text());
    Dnsd server = start(zones.dir());
    REQUIRE(addresses(server, "www.live.test") == Addresses{"192.0.2.1", "192.0.2.2"});
    const auto counted = [&] {
        const json status = json::parse(http_request(server.http_port(), "GET", "/v1/status").body);
        for (const auto& row : status["answers"])
            if (row["zone"] == live.name) return true;
        return false;
    };
    REQUIRE(eventually(counted, 5s));

    // No query from here on: the worker that answered must let go of its
    // counters for the old zones by itself.
    zones.remove(live.name);
    CHECK(eventually([&] { return server.log().find("live.test removed") != std::string::npos; }, 5s));
    CHECK(eventually([&] { return !counted(); }, 5s));
    CHECK(server.stop() == 0);
}

TEST_CASE("reload: a reload of many zones names ten in its log line and in status and counts the rest",
          "[reload]") {
    // Links to files elsewhere, as in the SIGHUP test below: the directory
    // watch sees no change, so one SIGHUP reloads all 13 zones at once.
    Zones zones;
    std::vector<LiveZone> all(13);
    const auto target = [&](const LiveZone& zone) { return "elsewhere/" + zone.name + ".json"; };
    for (size_t i = 0; i < all.size(); ++i) {
        all[i].name = "z" + std::to_string(i) + ".test";
        fs::create_symlink(zones.root().write(target(all[i]), all[i].text()), zones.path(all[i].name));
    }
    Dnsd server = start(zones.dir());
    for (auto& zone : all) {
        zone.version = 2;
        fs::rename(zones.root().write("elsewhere/.next.tmp", zone.text()), zones.root().path() / target(zone));
    }
    REQUIRE(::kill(server.pid(), SIGHUP) == 0);
    const std::regex reload_line(R"(reload \(SIGHUP\) in \d+ ms: [^\n]*)");
    std::smatch found;
    std::string log;
    CHECK(eventually([&] { return std::regex_search(log = server.log(), found, reload_line); }, 5s));
    const std::string line = found.str();
    INFO(line);
    size_t named = 0;
    for (size_t at = line.find(" serial "); at != std::string::npos; at = line.find(" serial ", at + 1)) ++named;
    CHECK(named == 10);
    CHECK(line.find(" and 3 more") != std::string::npos);
    for (const auto& zone : all) CHECK(addresses(server, "ver." + zone.name) == Addresses{LiveZone::version_address(2)});
    const json last = json::parse(http_request(server.http_port(), "GET", "/v1/status").body)["last_reload"];
    CHECK(last["changes"].size() == 10);
    CHECK(last["changes_total"] == 13);

    // The answer to the one who asked for the reload lists every change.
    for (auto& zone : all) {
        zone.version = 3;
        fs::rename(zones.root().write("elsewhere/.next.tmp", zone.text()), zones.root().path() / target(zone));
    }
    const HttpResponse reloaded = http_request(server.http_port(), "POST", "/v1/reload");
    REQUIRE(reloaded.status == 200);
    const json answer = json::parse(reloaded.body);
    CHECK(answer["changes"].size() == 13);
    CHECK(answer["changes_total"] == 13);
    CHECK(server.stop() == 0);
}

TEST_CASE("reload: SIGHUP reloads a change that the directory watch cannot see", "[reload]") {
    // The zone file is a link to a file in another directory, the way
    // Kubernetes mounts a ConfigMap: replacing the target touches nothing in
    // the zones directory, so only SIGHUP can bring the change in.
    Zones zones;
    LiveZone zone;
    const fs::path target = zones.root().write("elsewhere/live.test.json", zone.text());
    fs::create_symlink(target, zones.path(zone.name));
    Dnsd server = start(zones.dir());
    REQUIRE(addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(1)});

    zone.version = 2;
    const fs::path temp = zones.root().write("elsewhere/.live.test.json.tmp", zone.text());
    fs::rename(temp, target);
    REQUIRE(::kill(server.pid(), SIGHUP) == 0);
    CHECK(eventually([&] { return addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(2)}; }, 2s));
    // The reload is logged just after the new version is published.
    const std::regex reload_line(R"(reload \(SIGHUP\) in \d+ ms: live\.test serial \d+ -> \d+)");
    std::string log;
    CHECK(eventually([&] { return std::regex_search(log = server.log(), reload_line); }, 2s));
    INFO(log);
    CHECK(log.find("reload (zones directory)") == std::string::npos);
    CHECK(server.stop() == 0);
}

TEST_CASE("reload: serial auto grows with every change even within one second and only then", "[reload]") {
    // Every version carries the same modification time, as edits within one
    // second do: the serial must still grow, by one each time.
    constexpr time_t mtime_s = 1'700'000'000;
    Zones zones;
    LiveZone zone;
    zones.replace(zone.name, zone.text(), mtime_s);
    Dnsd server = start(zones.dir());
    std::optional<uint32_t> last = serial(server, zone.name);
    REQUIRE(last == uint32_t{mtime_s});

    for (unsigned version = 2; version <= 4; ++version) {
        zone.version = version;
        zones.replace(zone.name, zone.text(), mtime_s);
        REQUIRE(eventually([&] { return addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(version)}; }, 2s));
        const std::optional<uint32_t> now = serial(server, zone.name);
        REQUIRE(now);
        CHECK(*now == *last + 1);
        last = now;
    }

    // The same content written again, with a new modification time: no change.
    const size_t before = count(server.log(), "SIGHUP) in ");
    zones.replace(zone.name, zone.text(), mtime_s + 100);
    REQUIRE(::kill(server.pid(), SIGHUP) == 0);
    REQUIRE(eventually([&] { return count(server.log(), "SIGHUP) in ") > before; }));
    CHECK(serial(server, zone.name) == last);
    CHECK(server.stop() == 0);
}

TEST_CASE("reload: a replaced GeoIP database is reopened and a broken one keeps the previous", "[reload]") {
    Zones zones;
    LiveZone zone;
    zones.replace(zone.name, zone.text());
    const fs::path geoip = zones.root().path() / "geoip" / "country.mmdb";
    fs::create_directories(geoip.parent_path());
    fs::copy_file(data_dir().parent_path() / "geoip" / "geoip2.mmdb", geoip);
    Dnsd server = start(zones.dir(), {"--geoip", geoip.string()});

    fs::copy_file(data_dir().parent_path() / "geoip" / "v4only.mmdb", geoip.string() + ".new");
    fs::rename(geoip.string() + ".new", geoip);
    CHECK(eventually([&] { return server.log().find("reload (GeoIP database)") != std::string::npos; }, 2s));
    CHECK(eventually([&] { return server.log().find("new GeoIP database") != std::string::npos; }, 2s));

    const size_t before = reloads(server);
    {
        std::ofstream broken(geoip.string() + ".new", std::ios::binary);
        broken << "not a MaxMind database";
    }
    fs::rename(geoip.string() + ".new", geoip);
    REQUIRE(eventually([&] { return reloads(server) > before; }));
    const std::string log = server.log();
    INFO(log);
    const std::string last = log.substr(log.rfind("reload (GeoIP database)"));
    CHECK(last.find("GeoIP database invalid, previous version kept") != std::string::npos);
    CHECK(last.find("new GeoIP database") == std::string::npos);
    CHECK(log.find("error " + geoip.string() + ": ") != std::string::npos);
    CHECK(rcode_of(server, "www.live.test", rrtype::A) == rcode::noerror);
    CHECK(server.stop() == 0);
}

TEST_CASE("reload: queries from two threads through 20 reloads lose nothing and get no SERVFAIL or REFUSED", "[reload]") {
    Zones zones;
    LiveZone zone;
    zones.replace(zone.name, zone.text());
    Dnsd server = start(zones.dir(), {"--threads", "2"});

    struct Tally {
        uint64_t sent = 0, lost = 0, failed = 0, older = 0;
    };
    std::atomic<bool> done{false};
    // One socket per thread: the kernel keeps its packets on one worker, so
    // the versions a thread sees may only move forward.
    auto client = [&](const char* address, Tally& tally) {
        UdpClient socket(address, server.port(address));
        unsigned seen = 0;
        const auto deadline = Clock::now() + 120s;
        for (uint64_t i = 0; i < 2'000'000 && !done && Clock::now() < deadline; ++i) {
            const uint16_t id = static_cast<uint16_t>(i);
            const bool version_query = i % 2 == 0;
            socket.send(make_query(id, version_query ? "ver.live.test" : "www.live.test", rrtype::A));
            ++tally.sent;
            std::optional<Response> response;
            // A late answer to an earlier query would carry another ID.
            while (auto bytes = socket.receive(2s)) {
                response = parse_response(*bytes);
                if (response && response->header.id == id) break;
                response.reset();
            }
            if (!response) {
                ++tally.lost;
                continue;
            }
            if (response->header.rcode() != rcode::noerror || response->answer_addresses.empty()) {
                ++tally.failed;
                continue;
            }
            if (!version_query) continue;
            const unsigned version = LiveZone::version_of(response->answer_addresses.front());
            if (version < seen) ++tally.older;
            seen = std::max(seen, version);
        }
    };
    Tally v4, v6;
    std::thread first(client, "127.0.0.1", std::ref(v4));
    std::thread second(client, "::1", std::ref(v6));

    const auto started = Clock::now();
    const size_t reloads_before = reloads(server);
    unsigned published = 0;
    for (unsigned version = 2; version < 400 && (published < 20 || Clock::now() - started < 5s); ++version) {
        zone.version = version;
        // Members come and go too, so that the pool changes with the version.
        zone.members = {"192.0.2.1", "192.0.2." + std::to_string(2 + version % 50)};
        if (version % 2 == 0) {
            zones.replace(zone.name, zone.text());
        } else {
            zones.rewrite(zone.name, zone.text());
        }
        if (version % 5 == 0) REQUIRE(::kill(server.pid(), SIGHUP) == 0);
        const bool seen = eventually(
            [&] { return addresses(server, "ver.live.test") == Addresses{LiveZone::version_address(version)}; }, 5s);
        if (!seen) break;
        ++published;
    }
    const auto elapsed = Clock::now() - started;
    done = true;
    first.join();
    second.join();

    INFO("sent " << v4.sent << " + " << v6.sent << " queries over "
                 << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms");
    CHECK(published >= 20);
    CHECK(reloads(server) - reloads_before >= 20);
    CHECK(v4.sent > 100);
    CHECK(v6.sent > 100);
    CHECK(v4.lost + v6.lost == 0);
    CHECK(v4.failed + v6.failed == 0);
    CHECK(v4.older + v6.older == 0);
    CHECK(server.stop() == 0);
}

}  // namespace dnsd::e2e
