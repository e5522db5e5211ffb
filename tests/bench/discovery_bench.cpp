// Discovery at scale (tools/bench-discovery): a second dnsd serves a name of
// M A records (1,000 by default) and the bench rewrites it every P seconds
// (5), replacing a tenth of them; the dnsd under test takes that name as a
// pool's members_from source while clients query it, a static pool and a
// static name at a bounded rate. Prints every query lost or failed, how long
// each change took to reach the pool (from the rewrite to explain listing the
// new members), and whether the static pool's round-robin rotation went on
// undisturbed: with one worker, its own checker's queries are the only ones
// that pool sees, so each answer must start one member after the last.
//
//   dnsd_bench_discovery [--members M] [--seconds S] [--period P] [--clients C] [--qps Q per client]
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/query_load.hpp"
#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace {

using namespace dnsd::e2e;
using namespace dnsd::bench;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Settings {
    unsigned members = 1000;
    unsigned seconds = 60;
    unsigned period_s = 5;
    unsigned clients = 4;
    unsigned qps = 250;
};

constexpr unsigned steady_members = 8;

// Member i of version v: the first nine tenths stay, the last tenth is new in every version.
std::string member(const Settings& settings, unsigned version, unsigned i) {
    const unsigned stays = settings.members - settings.members / 10;
    const unsigned n = i < stays ? i : (version + 1) * 65536 + i;
    return "10." + std::to_string(n >> 16 & 255) + "." + std::to_string(n >> 8 & 255) + "." + std::to_string(n & 255);
}

std::string discovery_zone(const Settings& settings, unsigned version) {
    std::string records;
    for (unsigned i = 0; i < settings.members; ++i) records += std::string(i ? ", " : "") + "\"" + member(settings, version, i) + "\"";
    return R"({ "zone": "disc.test", "ttl": 1, "soa": { "mname": "ns1", "rname": "hostmaster", "minimum": 1 },
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] }, "big": { "A": [)" + records + "] } } }";
}

std::string served_zone(uint16_t resolver_port, unsigned period_s) {
    std::string steady;
    for (unsigned i = 0; i < steady_members; ++i)
        steady += std::string(i ? ", " : "") + R"({ "address": "192.0.2.)" + std::to_string(i + 1) + "\" }";
    return R"({ "zone": "svc.test", "ttl": 30, "soa": { "mname": "ns1", "rname": "hostmaster" },
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] }, "www": { "A": ["192.0.2.80"] },
               "big": { "pool": "big" }, "steady": { "pool": "steady" } },
  "pools": {
    "big": { "max_answers": 8, "members_from": [{ "dns": "big.disc.test.", "type": "A",
             "resolver": "127.0.0.1:)" + std::to_string(resolver_port) + R"(", "refresh_min": 1, "refresh_max": )" +
           std::to_string(period_s) + R"( }] },
    "steady": { "members": [)" + steady + R"(] } } })";
}

void replace_file(const TempDir& dir, const std::string& relative, const std::string& text) {
    const fs::path temp = dir.write(relative + ".tmp", text);
    fs::rename(temp, dir.path() / relative);
}

// True once explain lists `address` among the pool's members.
bool pool_has(uint16_t http_port, const std::string& address) {
    const HttpResponse r = http_request(http_port, "GET", "/v1/explain?name=big.svc.test&type=A&client=127.0.0.1");
    if (r.status != 200) return false;
    const nlohmann::json report = nlohmann::json::parse(r.body);
    for (const auto& m : report["pool"]["members"])
        if (m["address"] == address) return true;
    return false;
}

// Asks for the steady pool, one query at a time, 50 a second, until `stop`:
// counts the answers whose first member is not the one after the last's.
struct Rotation {
    uint64_t answers = 0, broken = 0, lost = 0;
};
void rotation_check(uint16_t port, const std::atomic<bool>& stop, Rotation& out) {
    UdpClient socket("127.0.0.1", port);
    int last = -1;
    for (uint16_t id = 1; !stop; ++id) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        socket.send(make_query(id, "steady.svc.test", rrtype::A));
        std::optional<Response> response;
        while (auto bytes = socket.receive(std::chrono::seconds(1))) {
            response = parse_response(*bytes);
            if (response && response->header.id == id) break;
            response.reset();
        }
        if (!response || response->answer_addresses.empty()) {
            ++out.lost;
            continue;
        }
        const std::string& first = response->answer_addresses.front();
        const int index = std::atoi(first.c_str() + first.rfind('.') + 1) - 1;
        if (last >= 0 && index != (last + 1) % static_cast<int>(steady_members)) ++out.broken;
        last = index;
        ++out.answers;
    }
}

bool parse(int argc, char** argv, Settings& settings) {
    for (int i = 1; i + 1 < argc; i += 2) {
        unsigned* field = std::strcmp(argv[i], "--members") == 0   ? &settings.members
                          : std::strcmp(argv[i], "--seconds") == 0 ? &settings.seconds
                          : std::strcmp(argv[i], "--period") == 0  ? &settings.period_s
                          : std::strcmp(argv[i], "--clients") == 0 ? &settings.clients
                          : std::strcmp(argv[i], "--qps") == 0     ? &settings.qps
                                                                   : nullptr;
        const char* end = argv[i + 1] + std::strlen(argv[i + 1]);
        if (field == nullptr || std::from_chars(argv[i + 1], end, *field).ptr != end || *field == 0) return false;
    }
    return argc % 2 == 1 && settings.members >= 10;
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    if (!parse(argc, argv, settings)) {
        std::fprintf(stderr, "usage: dnsd_bench_discovery [--members M] [--seconds S] [--period P] [--clients C] [--qps Q]\n");
        return 2;
    }
    TempDir names_dir, served_dir;
    const uint16_t names_port = free_port();
    names_dir.write("zones/disc.test.json", discovery_zone(settings, 0));
    served_dir.write("zones/svc.test.json", served_zone(names_port, settings.period_s));
    DnsdOptions names_options;
    names_options.zones_dir = names_dir.path() / "zones";
    names_options.listen = {"127.0.0.1:" + std::to_string(names_port)};
    names_options.extra_args = {"--threads", "1"};
    Dnsd names(names_options);
    DnsdOptions options;
    options.zones_dir = served_dir.path() / "zones";
    options.listen = {"127.0.0.1:0"};
    options.extra_args = {"--threads", "1"};
    Dnsd server(options);

    const auto started = Clock::now();
    while (!pool_has(server.http_port(), member(settings, 0, settings.members - 1))) {
        if (Clock::now() - started > std::chrono::seconds(30)) {
            std::fprintf(stderr, "the pool never got its members\n%s", server.log().c_str());
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::printf("%u members from big.disc.test, rewritten every %u s for %u s; %u clients x %u queries/s\n",
                settings.members, settings.period_s, settings.seconds, settings.clients, settings.qps);

    std::atomic<bool> stop{false};
    Latencies latencies;
    const PickName pick = [](uint64_t i, uint32_t) {
        return std::string(i % 3 == 1 ? "www.svc.test" : "big.svc.test");
    };
    std::vector<std::thread> clients;
    for (unsigned c = 0; c < settings.clients; ++c)
        clients.emplace_back(query_loop, server.port(), settings.qps, std::cref(pick), c + 1, std::cref(stop),
                             std::ref(latencies));
    Rotation rotation;
    std::thread checker(rotation_check, server.port(), std::cref(stop), std::ref(rotation));

    std::vector<double> follow_ms;
    unsigned version = 0;
    const auto end = Clock::now() + std::chrono::seconds(settings.seconds);
    auto next_change = Clock::now() + std::chrono::seconds(settings.period_s);
    while (next_change < end) {
        std::this_thread::sleep_until(next_change);
        next_change += std::chrono::seconds(settings.period_s);
        ++version;
        const auto written = Clock::now();
        replace_file(names_dir, "zones/disc.test.json", discovery_zone(settings, version));
        const std::string marker = member(settings, version, settings.members - 1);
        while (!pool_has(server.http_port(), marker) && Clock::now() < next_change)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - written).count();
        follow_ms.push_back(pool_has(server.http_port(), marker) ? ms : -1);
    }
    std::this_thread::sleep_until(end);
    stop = true;
    for (auto& c : clients) c.join();
    checker.join();

    const Summary s = summarise(latencies.take());
    std::printf("queries: %zu answered, %lu lost, %lu failed; latency median %.2f ms, p99 %.2f ms, p99.9 %.2f ms, "
                "max %.2f ms\n",
                s.queries, static_cast<unsigned long>(latencies.lost), static_cast<unsigned long>(latencies.failed),
                s.median_us / 1000.0, s.p99_us / 1000.0, s.p999_us / 1000.0, s.max_us / 1000.0);
    std::printf("changes: %u written; from the rewrite to the pool (incl. the resolver's reload):", version);
    unsigned missed = 0;
    for (double ms : follow_ms) {
        if (ms < 0) ++missed;
        else std::printf(" %.0f", ms);
    }
    std::printf(" ms; %u not seen within the period\n", missed);
    std::printf("steady pool rotation: %lu answers, %lu out of turn, %lu lost\n",
                static_cast<unsigned long>(rotation.answers), static_cast<unsigned long>(rotation.broken),
                static_cast<unsigned long>(rotation.lost));
    const bool ok = latencies.lost == 0 && latencies.failed == 0 && rotation.broken == 0 && rotation.lost == 0 &&
                    missed == 0;
    std::printf("RESULT %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
